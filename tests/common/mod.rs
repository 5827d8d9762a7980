//! A small harness for end-to-end tests: real git repositories in temp folders, the real `vouch`
//! binary, a local bare remote with the server hook. Failures print the command, stdout and stderr.

// Test harness: every test uses a subset of it, and a failed setup step should panic loudly.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use tempfile::TempDir;

/// The `vouch` binary cargo built for this test run (next to the test executable's folder).
pub fn vouch_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder");
    let bin = dir.join(format!("vouch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`; ./install.sh --test does)",
        bin.display()
    );
    bin
}

/// The result of running a command, with readable assertions.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    fn explain(&self) -> String {
        format!(
            "command: {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.output.status.code(),
            self.stdout(),
            self.stderr()
        )
    }
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.output.status.success(),
            "expected success\n{}",
            self.explain()
        );
        self
    }
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "unexpected exit code\n{}",
            self.explain()
        );
        self
    }
    /// A refused push (or failed command) whose output mentions every one of `needles`.
    #[track_caller]
    pub fn assert_refused_with(&self, needles: &[&str]) -> &Self {
        assert!(
            !self.output.status.success(),
            "expected a refusal\n{}",
            self.explain()
        );
        let all = format!("{}{}", self.stdout(), self.stderr());
        for n in needles {
            assert!(all.contains(n), "output lacks {n:?}\n{}", self.explain());
        }
        self
    }
    #[track_caller]
    pub fn assert_output_has(&self, needle: &str) -> &Self {
        let all = format!("{}{}", self.stdout(), self.stderr());
        assert!(
            all.contains(needle),
            "output lacks {needle:?}\n{}",
            self.explain()
        );
        self
    }
}

/// A sandbox: a temp folder holding any number of repositories, and a home of its own (the
/// shared test kit's: no system or user configuration, its own GNUPGHOME).
pub struct Sandbox {
    pub dir: TempDir,
    pub home: vouch_testkit::Home,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
            home: vouch_testkit::Home::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.home.path().to_path_buf()
    }

    /// A fresh ed25519 key made by ssh-keygen (no passphrase, comment `name`): its private key
    /// file and its public key line.
    pub fn ssh_key(&self, name: &str) -> (PathBuf, String) {
        self.ssh_key_of(name, &["-t", "ed25519"])
    }

    /// An unencrypted SSH key of the kind `ssh-keygen` makes with `kind` (e.g. `-t ecdsa -b
    /// 256`), named `name` in the sandbox: its path and its one-line public key.
    pub fn ssh_key_of(&self, name: &str, kind: &[&str]) -> (PathBuf, String) {
        let key = self.path().join(name);
        let path = key.to_str().expect("UTF-8 temp path");
        let mut args = vec!["-q"];
        args.extend_from_slice(kind);
        args.extend_from_slice(&["-N", "", "-C", name, "-f", path]);
        self.run(self.path(), Path::new("ssh-keygen"), &args, &[], None)
            .assert_ok();
        let public = std::fs::read_to_string(format!("{path}.pub"))
            .expect("ssh-keygen wrote the public key");
        (key, public.trim().to_string())
    }

    pub fn run(
        &self,
        cwd: &Path,
        program: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Run {
        let mut cmd = self.home.command(program, cwd);
        cmd.args(args)
            .env("GIT_AUTHOR_NAME", "Alice Author")
            .env("GIT_AUTHOR_EMAIL", "alice@example.com")
            .env("GIT_COMMITTER_NAME", "Alice Author")
            .env("GIT_COMMITTER_EMAIL", "alice@example.com");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            what: format!(
                "(in {}) {} {}",
                cwd.display(),
                program.display(),
                args.join(" ")
            ),
            output,
        }
    }

    /// A new working repository with one empty commit on `main`.
    pub fn repo(&self, name: &str) -> TestRepo<'_> {
        let path = self.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        let repo = TestRepo {
            sandbox: self,
            path,
        };
        repo.git(&["init", "-q", "-b", "main"]).assert_ok();
        repo
    }

    /// A new bare repository with vouch's server hook installed.
    pub fn server(&self, name: &str) -> PathBuf {
        let path = self.path().join(name);
        let run = self.run(
            self.path(),
            Path::new("git"),
            &["init", "-q", "--bare", "-b", "main", name],
            &[],
            None,
        );
        run.assert_ok();
        self.run(
            self.path(),
            &vouch_bin(),
            &["install", "--server", path.to_str().unwrap()],
            &[],
            None,
        )
        .assert_ok();
        path
    }

    /// Every object id in a bare repository.
    pub fn objects(&self, repo: &Path) -> Vec<String> {
        let run = self.run(
            repo,
            Path::new("git"),
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname)",
            ],
            &[],
            None,
        );
        run.assert_ok();
        run.stdout().lines().map(str::to_string).collect()
    }
}

/// A working repository in a sandbox.
pub struct TestRepo<'s> {
    pub sandbox: &'s Sandbox,
    pub path: PathBuf,
}

impl TestRepo<'_> {
    pub fn git(&self, args: &[&str]) -> Run {
        self.sandbox
            .run(&self.path, Path::new("git"), args, &[], None)
    }

    pub fn git_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        self.sandbox
            .run(&self.path, Path::new("git"), args, envs, None)
    }

    pub fn vouch(&self, args: &[&str]) -> Run {
        self.sandbox.run(&self.path, &vouch_bin(), args, &[], None)
    }

    pub fn vouch_env(&self, args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Run {
        self.sandbox
            .run(&self.path, &vouch_bin(), args, envs, stdin)
    }

    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    /// Stage everything and commit; returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]).assert_ok();
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            message,
        ])
        .assert_ok();
        self.head()
    }

    pub fn head(&self) -> String {
        self.rev("HEAD")
    }

    pub fn rev(&self, spec: &str) -> String {
        let r = self.git(&["rev-parse", spec]);
        r.assert_ok();
        r.stdout().trim().to_string()
    }

    pub fn add_remote(&self, server: &Path) -> &Self {
        self.git(&["remote", "add", "origin", server.to_str().unwrap()])
            .assert_ok();
        self
    }

    /// `git push` with the hooks on (client and server), as `pusher` on the server side.
    pub fn push_as(&self, pusher: &str, args: &[&str]) -> Run {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        self.sandbox.run(
            &self.path,
            Path::new("git"),
            &all,
            &[("REMOTE_USER", pusher)],
            None,
        )
    }
}

//! A signing lab for the signatures tests: a temporary repository, real `ssh-keygen` and `gpg`
//! keys made at test time (GNUPGHOME isolated, no passphrases), commits signed by `git` itself,
//! and git's own verdict to compare with.

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::{Commit, Tag};
use vouch_rules::policy::{Policy, PolicyFiles};
use vouch_rules::signatures::{self, Clock, TimeBasis, Trust, Verification};

pub struct Lab {
    /// The home every command runs in: no system or user configuration.
    pub home: vouch_testkit::Home,
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub gnupg: PathBuf,
    pub other_gnupg: PathBuf,
    pub allowed_signers: PathBuf,
}

impl Drop for Lab {
    /// Stop the gpg-agents the lab's keyrings started.
    fn drop(&mut self) {
        for home in [&self.gnupg, &self.other_gnupg] {
            let _ = Command::new("gpgconf")
                .arg("--homedir")
                .arg(home)
                .args(["--kill", "gpg-agent"])
                .output();
        }
    }
}

/// Run a command; on failure, panic with the command, its stdout and stderr.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Lab {
    pub fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let gnupg = dir.path().join("gnupg");
        let other_gnupg = dir.path().join("gnupg-other");
        for home in [&gnupg, &other_gnupg] {
            std::fs::create_dir(home).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
        }
        let allowed_signers = dir.path().join("allowed_signers");
        std::fs::write(&allowed_signers, "").unwrap();
        let lab = Lab {
            home: vouch_testkit::Home::new(),
            dir,
            repo,
            gnupg,
            other_gnupg,
            allowed_signers,
        };
        run(lab
            .home
            .command("git", lab.home.path())
            .args(["init", "-q", "-b", "main"])
            .arg(&lab.repo));
        for (k, v) in [
            ("user.name", "Alice"),
            ("user.email", "alice@example.com"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ] {
            lab.git(&["config", k, v]);
        }
        let signers = lab.allowed_signers.display().to_string();
        lab.git(&["config", "gpg.ssh.allowedSignersFile", &signers]);
        lab
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `git` in the repository, isolated from the machine's configuration (the shared test
    /// kit's home), with the lab's GNUPGHOME.
    pub fn git_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.home.command("git", &self.repo);
        cmd.env("GNUPGHOME", &self.gnupg)
            .env_remove("GIT_COMMITTER_DATE")
            .env_remove("GIT_AUTHOR_DATE")
            .args(args);
        cmd
    }

    pub fn git(&self, args: &[&str]) -> String {
        run(&mut self.git_cmd(args)).trim_end().to_string()
    }

    /// A new SSH key: `ssh-keygen -t TYPE [-b BITS] -N ''`. Returns the private key path.
    pub fn ssh_key(&self, name: &str, kind: &str, bits: Option<&str>) -> PathBuf {
        let path = self.path(name);
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-t", kind, "-N", "", "-C", name, "-f"])
            .arg(&path);
        if let Some(b) = bits {
            cmd.args(["-b", b]);
        }
        run(&mut cmd);
        path
    }

    pub fn ssh_public(&self, key: &Path) -> String {
        std::fs::read_to_string(key.with_extension("pub"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// Append a line to the allowed-signers file (git's and vouch's).
    pub fn allow_ssh(&self, line: &str) {
        let mut text = std::fs::read_to_string(&self.allowed_signers).unwrap();
        text.push_str(line);
        text.push('\n');
        std::fs::write(&self.allowed_signers, text).unwrap();
    }

    pub fn gpg(&self, home: &Path, args: &[&str]) -> String {
        run(self
            .home
            .command("gpg", self.dir.path())
            .env("GNUPGHOME", home)
            .args([
                "--batch",
                "--quiet",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
            ])
            .args(args))
    }

    /// A new OpenPGP key with no passphrase; returns its fingerprint.
    pub fn gpg_key(
        &self,
        home: &Path,
        uid: &str,
        algo: &str,
        expire: &str,
        faked: Option<&str>,
    ) -> String {
        let mut args = vec![];
        if let Some(t) = faked {
            args.extend(["--faked-system-time", t]);
        }
        args.extend([
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            algo,
            "sign",
            expire,
        ]);
        self.gpg(home, &args);
        let listing = self.gpg(home, &["--with-colons", "--list-keys", uid]);
        listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| f.len() == 40))
            .unwrap()
            .to_string()
    }

    pub fn export(&self, home: &Path, fpr: &str) -> Vec<u8> {
        self.gpg(home, &["--export", "--armor", fpr]).into_bytes()
    }

    /// Revoke a key with the revocation certificate gpg made at generation.
    pub fn revoke(&self, fpr: &str) {
        let rev = self
            .gnupg
            .join("openpgp-revocs.d")
            .join(format!("{fpr}.rev"));
        let text = std::fs::read_to_string(&rev)
            .unwrap()
            .replace(":-----BEGIN", "-----BEGIN");
        let fixed = self.path("revoke.asc");
        std::fs::write(&fixed, text).unwrap();
        self.gpg(&self.gnupg, &["--import", fixed.to_str().unwrap()]);
    }

    /// An empty commit signed as `signing` says (`-c` settings), returning its id.
    pub fn commit(&self, message: &str, config: &[(&str, &str)], env: &[(&str, &str)]) -> String {
        let mut args: Vec<String> = Vec::new();
        for (k, v) in config {
            args.push("-c".into());
            args.push(format!("{k}={v}"));
        }
        args.extend(["commit", "-q", "--allow-empty", "-m", message].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = self.git_cmd(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Write a modified copy of a commit object, returning the new id.
    pub fn rewrite(&self, id: &str, edit: impl Fn(&str) -> String) -> String {
        let raw = self.git(&["cat-file", "commit", id]) + "\n";
        let changed = edit(&raw);
        assert_ne!(raw, changed, "the edit changed nothing");
        let file = self.path("object");
        std::fs::write(&file, changed).unwrap();
        self.git(&["hash-object", "-t", "commit", "-w", file.to_str().unwrap()])
    }

    /// git's letter (`%G?`), signer (`%GS`) and committer e-mail for a commit.
    pub fn git_status(&self, id: &str) -> (char, String, String) {
        let out = self.git(&["log", "-1", "--format=%G?%x00%GS%x00%ce", id]);
        let mut parts = out.split('\0');
        let letter = parts.next().and_then(|p| p.chars().next()).unwrap();
        (
            letter,
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        )
    }

    pub fn open(&self) -> git2::Repository {
        git2::Repository::open(&self.repo).unwrap()
    }

    pub fn read_commit(&self, id: &str) -> Commit {
        let repo = self.open();
        let commit = Gatherer::new(&repo)
            .with_diffs(false)
            .commit(git2::Oid::from_str(id).unwrap())
            .unwrap();
        commit
    }

    pub fn read_tag(&self, name: &str) -> Tag {
        let repo = self.open();
        let id = repo.refname_to_id(&format!("refs/tags/{name}")).unwrap();
        let update = Gatherer::new(&repo)
            .with_diffs(false)
            .update(&format!("refs/tags/{name}"), None, Some(id), &[])
            .unwrap();
        update.tags.into_iter().next().unwrap()
    }
}

/// A policy snapshot from files given here (as if read from the target branch).
pub fn policy(toml: &str, files: &[(&str, Vec<u8>)]) -> Policy {
    let mut snapshot = PolicyFiles::new("refs/heads/main");
    snapshot.insert(".vouch/policy.toml", toml.as_bytes().to_vec());
    for (path, bytes) in files {
        snapshot.insert(*path, bytes.clone());
    }
    Policy::load(snapshot).unwrap().unwrap()
}

pub fn trust(policy: &Policy) -> Trust {
    signatures::load(policy).unwrap()
}

pub fn at_commit_date() -> Clock {
    Clock {
        basis: TimeBasis::CommitDate,
        now: vouch_rules::change::unix_now(),
    }
}

pub fn at_push(now: i64) -> Clock {
    Clock {
        basis: TimeBasis::PushTime,
        now,
    }
}

pub fn verify(lab: &Lab, policy: &Policy, id: &str, clock: Clock) -> Verification {
    let trust = trust(policy);
    signatures::verify_commit(&trust, &policy.signatures, &lab.read_commit(id), clock)
}

/// The first and last line (the ` -----END` one) of the `gpgsig` header in a commit's lines.
pub fn gpgsig_lines(lines: &[&str]) -> (usize, usize) {
    let start = lines
        .iter()
        .position(|l| l.starts_with("gpgsig "))
        .expect("a gpgsig header");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.starts_with(" -----END"))
            .expect("the end of the signature");
    (start, end)
}

//! What every git-, gpg- or ssh-keygen-driving test shares: a home of its own, so no test depends
//! on the machine it runs on.
//!
//! [`Home`] is a temporary folder that stands in for `$HOME`: a `.gitconfig` of its own (default
//! branch `main`, no signing unless asked, no hooks path), an empty XDG config (so no global
//! gitignore or attributes apply), and a private `GNUPGHOME`. [`Home::command`] makes a command
//! that sees only that: `GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL`, `HOME`, `XDG_CONFIG_HOME`
//! and `GNUPGHOME` set, and the variables a git hook or a git server would set removed.
//!
//! [`github_token`] makes fake secrets in a real format at run time, so no test file holds one.
//!
//! ```
//! let home = vouch_testkit::Home::new();
//! let repo = home.path().join("r");
//! home.git(home.path(), &["init", "-q", repo.to_str().unwrap()]);
//! assert_eq!(home.git(&repo, &["symbolic-ref", "HEAD"]), "refs/heads/main");
//! ```

// A test helper that cannot set up its sandbox has nothing to report but the failure itself.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Variables a hook, a git server or the developer's shell may set that would leak into a test.
const LEAKY: [&str; 14] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
    "GIT_PUSH_OPTION_COUNT",
    "GL_USERNAME",
    "GITHUB_USER_LOGIN",
    "GITEA_PUSHER_NAME",
    "REMOTE_USER",
    "VOUCH_LOG",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
];

/// A temporary home folder; removed (and its gpg-agent stopped) when dropped.
#[derive(Debug)]
pub struct Home {
    dir: tempfile::TempDir,
}

impl Default for Home {
    fn default() -> Self {
        Home::new()
    }
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = Home { dir };
        std::fs::create_dir_all(home.path().join(".config")).unwrap();
        std::fs::write(
            home.gitconfig(),
            "[user]\n\tname = Alice Author\n\temail = alice@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let gnupg = home.gnupg();
        std::fs::create_dir_all(&gnupg).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The global git configuration every command reads (and `git config --global` writes).
    pub fn gitconfig(&self) -> PathBuf {
        self.path().join(".gitconfig")
    }

    /// The private GnuPG home.
    pub fn gnupg(&self) -> PathBuf {
        self.path().join(".gnupg")
    }

    /// Point `cmd` at this home and nothing else of the machine's configuration.
    pub fn isolate<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        for var in LEAKY {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.gitconfig())
            .env("GNUPGHOME", self.gnupg())
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C")
    }

    /// `program` isolated in this home, run in `dir`.
    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        self.isolate(&mut cmd);
        cmd
    }

    /// Run `git ARGS` in `dir`; its trimmed standard output. Panics, showing both outputs, when
    /// git fails.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.command("git", dir).args(args).output().unwrap();
        check(&out, &format!("git {}", args.join(" ")));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        // gpg starts an agent per home on first use; stop it so it does not outlive the test.
        if !self.gnupg().join("S.gpg-agent").exists() {
            return;
        }
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.gnupg())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// Run `git ARGS` in `dir` under a fresh [`Home`], for tests that need no home of their own.
pub fn git(dir: &Path, args: &[&str]) -> String {
    Home::new().git(dir, args)
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A GitHub classic token (`ghp_`, 30 characters, CRC32 of them in base62) with a valid
/// checksum, different for every `seed`: a fake that matches the format, made at run time. The
/// checksum is computed here, independently of the scanner under test.
pub fn github_token(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let payload: String = (0..30)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(BASE62[(x % 62) as usize])
        })
        .collect();
    let mut n = u64::from(crc32(payload.as_bytes()));
    let mut check = [0u8; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{payload}{}", String::from_utf8_lossy(&check))
}

/// CRC-32 (IEEE), bit by bit: slow and obviously right.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Panic with the command, its status and both outputs unless it succeeded.
pub fn check(out: &Output, what: &str) {
    if !out.status.success() {
        panic!(
            "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        let t = super::github_token(1);
        assert!(t.starts_with("ghp_") && t.len() == 40, "{t}");
        assert_ne!(t, super::github_token(2));
    }
}

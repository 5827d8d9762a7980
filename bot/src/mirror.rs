//! One bare mirror per repository under `cache_dir`, fetched with git itself over HTTPS.
//!
//! The installation token reaches git only through the environment of the one `git fetch`
//! (`GIT_CONFIG_*` setting `http.extraHeader`): never a URL, a config file or a credential store
//! on disk. Each job fetches only what it judges (the base branch, the default branch, the pull
//! request's head ref). Jobs on one repository are serialised by a lock per mirror; different
//! repositories fetch in parallel. After each fetch the least recently used mirrors are removed
//! until the cache fits `cache_max_bytes`.

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::process::Command;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("mirror {path}: {message}")]
    Io { path: String, message: String },
    #[error("git fetch of {repo} failed: {message}")]
    Fetch { repo: String, message: String },
    #[error("git push to {repo} failed: {message}")]
    Push { repo: String, message: String },
    #[error("{repo}: the commit {sha} is not on the forge (fetched {refs})")]
    Missing {
        repo: String,
        sha: String,
        refs: String,
    },
}

/// The mirrors and their locks.
#[derive(Debug, Clone)]
pub struct Mirrors {
    root: PathBuf,
    max_bytes: u64,
    locks: Arc<Mutex<HashMap<String, Arc<Mutex<()>>>>>,
}

/// A mirror held for one job; others wait until it is dropped.
#[derive(Debug)]
pub struct Held {
    pub path: PathBuf,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

/// A folder name for `owner/name` that cannot escape the cache.
fn folder(full_name: &str) -> String {
    let safe: String = full_name
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '+',
        })
        .collect();
    format!("{}.git", safe.trim_start_matches('.'))
}

impl Mirrors {
    pub fn new(root: &Path, max_bytes: u64) -> Result<Mirrors, MirrorError> {
        std::fs::create_dir_all(root).map_err(|e| MirrorError::Io {
            path: root.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Mirrors {
            root: root.to_path_buf(),
            max_bytes,
            locks: Arc::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Take the repository's mirror for a job, creating it if needed.
    pub async fn hold(&self, full_name: &str) -> Result<Held, MirrorError> {
        let lock = {
            let mut locks = self.locks.lock().await;
            locks.entry(folder(full_name)).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        let path = self.root.join(folder(full_name));
        if !path.join("HEAD").exists() {
            let io = |e: std::io::Error| MirrorError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            };
            let tmp = self.root.join(format!(".{}.new", folder(full_name)));
            let _ = std::fs::remove_dir_all(&tmp);
            git2::Repository::init_bare(&tmp).map_err(|e| MirrorError::Io {
                path: tmp.display().to_string(),
                message: e.message().to_string(),
            })?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        // The mtime of this marker orders mirrors for eviction.
        let _ = std::fs::write(path.join("vouch-last-used"), b"");
        Ok(Held {
            path,
            _guard: guard,
        })
    }

    /// Fetch `refspecs` from `clone_url` into the held mirror.
    pub async fn fetch(
        &self,
        held: &Held,
        full_name: &str,
        clone_url: &str,
        token: &SecretString,
        refspecs: &[String],
    ) -> Result<(), MirrorError> {
        let mut args = vec![
            "-c",
            "fetch.fsckObjects=false",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--force",
            "--prune",
            clone_url,
        ];
        args.extend(refspecs.iter().map(String::as_str));
        git_with_token(held, full_name, token, &args)
            .await
            .map_err(|message| MirrorError::Fetch {
                repo: full_name.to_string(),
                message,
            })
    }

    /// Push `refspecs` from the held mirror to `clone_url` in one atomic push (the merge and its
    /// attestation note land together or not at all), authenticated as the installation.
    pub async fn push(
        &self,
        held: &Held,
        full_name: &str,
        clone_url: &str,
        token: &SecretString,
        refspecs: &[String],
    ) -> Result<(), MirrorError> {
        let mut args = vec!["push", "--quiet", "--atomic", "--no-verify", clone_url];
        args.extend(refspecs.iter().map(String::as_str));
        git_with_token(held, full_name, token, &args)
            .await
            .map_err(|message| MirrorError::Push {
                repo: full_name.to_string(),
                message,
            })
    }

    /// Remove least recently used mirrors (never one a job holds) until the cache fits.
    pub async fn evict(&self) -> Vec<PathBuf> {
        let mut mirrors: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.join("HEAD").exists() {
                continue;
            }
            let used = std::fs::metadata(path.join("vouch-last-used"))
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            mirrors.push((used, dir_size(&path), path));
        }
        let mut total: u64 = mirrors.iter().map(|m| m.1).sum();
        mirrors.sort();
        let mut removed = Vec::new();
        for (_, size, path) in mirrors {
            if total <= self.max_bytes {
                break;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let lock = self.locks.lock().await.get(&name).cloned();
            // A mirror a job holds is in use; only idle ones go.
            let _idle = match &lock {
                Some(l) => match l.clone().try_lock_owned() {
                    Ok(g) => Some(g),
                    Err(_) => continue,
                },
                None => None,
            };
            if std::fs::remove_dir_all(&path).is_ok() {
                total = total.saturating_sub(size);
                tracing::info!(mirror = %path.display(), bytes = size, "evicted a mirror to fit cache_max_bytes");
                removed.push(path);
            }
        }
        removed
    }
}

/// Run git on the held mirror with the installation token in the environment of this one
/// process only (`http.extraHeader`): never a URL, a config file or a credential store. Errors
/// come back with the token masked.
async fn git_with_token(
    held: &Held,
    full_name: &str,
    token: &SecretString,
    args: &[&str],
) -> Result<(), String> {
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("x-access-token:{}", token.expose_secret()));
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(&held.path)
        .args([
            "-c",
            "credential.helper=",
            "-c",
            "core.askPass=",
            "-c",
            "protocol.version=2",
            "-c",
            "gc.auto=0",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.extraHeader")
        .env(
            "GIT_CONFIG_VALUE_0",
            format!("Authorization: Basic {basic}"),
        )
        .env_remove("GIT_DIR")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run git for {full_name}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .replace(token.expose_secret(), "***")
        .replace(&basic, "***")
        .trim()
        .to_string();
    Err(if message.is_empty() {
        format!("git exited with {}", output.status)
    } else {
        message
    })
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => total += entry.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_stay_inside_the_cache() {
        assert_eq!(folder("octo/hello"), "octo+hello.git");
        assert_eq!(folder("../../etc"), "+..+etc.git");
        assert!(!folder("..").contains('/'));
    }

    #[tokio::test]
    async fn least_recently_used_mirrors_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let mirrors = Mirrors::new(dir.path(), 1).unwrap();
        let a = mirrors.hold("o/a").await.unwrap().path;
        std::thread::sleep(std::time::Duration::from_millis(20));
        let held = mirrors.hold("o/b").await.unwrap();
        let removed = mirrors.evict().await;
        assert_eq!(removed, vec![a.clone()]);
        assert!(!a.exists() && held.path.exists());
        drop(held);
        assert_eq!(mirrors.evict().await.len(), 1);
    }
}

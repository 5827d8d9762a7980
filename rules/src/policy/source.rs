//! Where policy files come from: a committed tree (what judges pushes) or a folder (what
//! `vouch policy check` validates before committing).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The folder that holds vouch's files in a repository.
pub const VOUCH_DIR: &str = ".vouch";
/// The policy file's path in a repository.
pub const POLICY_PATH: &str = ".vouch/policy.toml";
/// Where GitHub looks for CODEOWNERS, in its order.
pub const CODEOWNERS_PATHS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// A snapshot of the policy's files: everything under `.vouch/` plus the CODEOWNERS candidates,
/// read once from one tree so every check judges against the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFiles {
    /// Where the files were read from, e.g. `refs/heads/main` or a folder; empty for the built-in default.
    pub origin: String,
    files: BTreeMap<String, Vec<u8>>,
}

impl PolicyFiles {
    pub fn new(origin: impl Into<String>) -> Self {
        PolicyFiles {
            origin: origin.into(),
            files: BTreeMap::new(),
        }
    }

    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), bytes);
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Files directly or indirectly under `dir` (no trailing slash), in path order.
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.files
            .iter()
            .filter(move |(p, _)| p.starts_with(&prefix))
            .map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// SHA-256 over every file of the snapshot, hex: each path and its bytes, length-prefixed,
    /// in path order. Two snapshots with the same digest hold the same policy, keys, signers,
    /// CODEOWNERS, rules and baseline, so a compiled engine can be reused between them.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"vouch-policy-files-v1\0");
        for (path, bytes) in &self.files {
            h.update((path.len() as u64).to_be_bytes());
            h.update(path.as_bytes());
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
        hex::encode(h.finalize())
    }

    /// How to name `path` in a message: `refs/heads/main:.vouch/policy.toml`, or just the path
    /// when read from a folder.
    pub fn display(&self, path: &str) -> String {
        if self.origin.is_empty() || self.origin.starts_with('/') || self.origin == "." {
            path.to_string()
        } else {
            format!("{}:{}", self.origin, path)
        }
    }

    /// Read a snapshot from a folder (a working tree), for validating before committing.
    /// Symbolic links are refused, never followed (see [`symlink_refused`]).
    pub fn from_dir(root: impl Into<PathBuf>) -> Result<Self, super::PolicyError> {
        let root = root.into();
        let mut snapshot = PolicyFiles::new(root.display().to_string());
        let vouch = root.join(VOUCH_DIR);
        if is_link(&vouch) {
            return Err(symlink_refused(VOUCH_DIR));
        }
        if vouch.is_dir() {
            read_dir_into(&root, &vouch, &mut snapshot)?;
        }
        for path in CODEOWNERS_PATHS {
            let full = root.join(path);
            if is_link(&full) {
                return Err(symlink_refused(path));
            }
            if full.is_file() {
                let bytes = std::fs::read(&full).map_err(|e| super::PolicyError::Unreadable {
                    file: path.to_string(),
                    reason: e.to_string(),
                })?;
                snapshot.insert(path, bytes);
            }
        }
        Ok(snapshot)
    }

    /// A snapshot that trusts exactly the keys in `dir` (an `allowed_signers` file and `*.asc`
    /// OpenPGP certificates) and requires every commit signed by one of them: for auditing a
    /// history whose own policy, if any, is not the authority (someone else's repository).
    pub fn from_keys_dir(dir: impl Into<PathBuf>) -> Result<Self, super::PolicyError> {
        let dir = dir.into();
        let shown = dir.display().to_string();
        let unreadable = |e: std::io::Error| super::PolicyError::Unreadable {
            file: shown.clone(),
            reason: e.to_string(),
        };
        let mut snapshot = PolicyFiles::new(format!("keys in {shown}"));
        snapshot.insert(
            POLICY_PATH,
            b"# Built by --keys: the keys in the folder, nothing else.\n[signatures]\nrequired = true\n"
                .to_vec(),
        );
        let mut found = 0;
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(unreadable)?
            .collect::<Result<_, _>>()
            .map_err(unreadable)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let target = if name == "allowed_signers" {
                format!("{VOUCH_DIR}/allowed_signers")
            } else if name.ends_with(".asc") {
                format!("{VOUCH_DIR}/keys/{name}")
            } else {
                continue;
            };
            let bytes = std::fs::read(entry.path()).map_err(unreadable)?;
            snapshot.insert(target, bytes);
            found += 1;
        }
        if found == 0 {
            return Err(super::PolicyError::Unreadable {
                file: shown,
                reason: "the folder holds no `allowed_signers` file and no `*.asc` key".into(),
            });
        }
        Ok(snapshot)
    }

    /// Read a snapshot from a committed tree.
    pub fn from_tree(
        repo: &git2::Repository,
        tree: &git2::Tree<'_>,
        origin: impl Into<String>,
    ) -> Result<Self, super::PolicyError> {
        let origin = origin.into();
        let mut snapshot = PolicyFiles::new(origin.clone());
        let unreadable = |file: &str, e: git2::Error| super::PolicyError::Unreadable {
            file: format!("{origin}:{file}"),
            reason: e.message().to_string(),
        };
        if let Ok(entry) = tree.get_path(std::path::Path::new(VOUCH_DIR)) {
            if entry.filemode() == LINK_MODE {
                return Err(symlink_refused(&format!("{origin}:{VOUCH_DIR}")));
            }
            if entry.kind() == Some(git2::ObjectType::Tree) {
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(|e| unreadable(VOUCH_DIR, e))?;
                let mut failure = None;
                let walked = sub.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
                    if e.kind() != Some(git2::ObjectType::Blob) {
                        return git2::TreeWalkResult::Ok;
                    }
                    let path = format!("{VOUCH_DIR}/{dir}{}", e.name().unwrap_or(""));
                    if e.filemode() == LINK_MODE {
                        failure = Some(symlink_refused(&format!("{origin}:{path}")));
                        return git2::TreeWalkResult::Abort;
                    }
                    match repo.find_blob(e.id()) {
                        Ok(blob) => snapshot.insert(path, blob.content().to_vec()),
                        Err(err) => {
                            failure = Some(unreadable(&path, err));
                            return git2::TreeWalkResult::Abort;
                        }
                    }
                    git2::TreeWalkResult::Ok
                });
                // An aborted walk carries its own error; any other failure must not leave the
                // snapshot silently short of a file (that could fall back to a weaker policy).
                if let Some(err) = failure {
                    return Err(err);
                }
                walked.map_err(|e| unreadable(VOUCH_DIR, e))?;
            }
        }
        for path in CODEOWNERS_PATHS {
            if let Ok(entry) = tree.get_path(std::path::Path::new(path)) {
                if entry.filemode() == LINK_MODE {
                    return Err(symlink_refused(&format!("{origin}:{path}")));
                }
                if entry.kind() == Some(git2::ObjectType::Blob) {
                    let blob = repo
                        .find_blob(entry.id())
                        .map_err(|e| unreadable(path, e))?;
                    snapshot.insert(path, blob.content().to_vec());
                }
            }
        }
        Ok(snapshot)
    }
}

/// git's file mode for a symbolic link.
const LINK_MODE: i32 = 0o120000;

fn is_link(path: &std::path::Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A policy file (or `.vouch` itself, or CODEOWNERS) that is a symbolic link. Following it would
/// read a file nobody reviewed as policy (possibly outside the repository); skipping it would
/// judge with a weaker policy than the one written. Either way is refused.
pub fn symlink_refused(file: &str) -> super::PolicyError {
    super::PolicyError::invalid(
        super::Position {
            file: file.to_string(),
            line: 1,
            column: 1,
        },
        "is a symbolic link; vouch never follows links in policy files",
    )
    .with_hint("commit the file itself in its place (`git rm --cached` the link, copy the target there, `git add` it)")
}

fn read_dir_into(
    root: &std::path::Path,
    dir: &std::path::Path,
    snapshot: &mut PolicyFiles,
) -> Result<(), super::PolicyError> {
    let unreadable = |p: &std::path::Path, e: std::io::Error| super::PolicyError::Unreadable {
        file: p.display().to_string(),
        reason: e.to_string(),
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(dir, e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| unreadable(&path, e))?;
        if kind.is_symlink() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            return Err(symlink_refused(&rel));
        }
        if kind.is_dir() {
            read_dir_into(root, &path, snapshot)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
            snapshot.insert(rel, bytes);
        }
    }
    Ok(())
}

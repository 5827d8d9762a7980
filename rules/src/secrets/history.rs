//! Scanning git history: the secrets each commit added, each distinct blob read once, in parallel.
//!
//! For every commit the tree diff against its first parent (no content diff) names the blobs it
//! introduced. Each distinct new blob is scanned once, whole, as a filter; only a blob with a
//! match is diffed against the file's previous version, and its added lines are judged by the
//! same function a pushed commit's files are ([`scan_file_change`]). The answer is the hooks'
//! answer, and since matches are rare the line diffs cost almost nothing: history scans outrun
//! `git log -p`.

use super::check::scan_file_change;
use super::engine::{is_binary, Scanner};
use super::report::Located;
use crate::change::git::{blob_change, GatherError};
use crate::finding::{Finding, Location};
use git2::{Delta, FileMode, Oid, Repository};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a history scan found.
#[derive(Debug, Default)]
pub struct HistoryScan {
    pub found: Vec<Located>,
    /// Files not scanned (too large) and rules that could not run.
    pub findings: Vec<Finding>,
    pub commits: usize,
    /// Distinct blobs scanned.
    pub blobs: usize,
    pub bytes: u64,
}

/// What one worker found: matches, and findings about the scan itself.
type Scanned = (Vec<Located>, Vec<Finding>);

struct BlobJob {
    order: usize,
    commit: Oid,
    path: String,
    old: Option<Oid>,
    new: Oid,
}

fn git_err(what: impl Into<String>) -> impl FnOnce(git2::Error) -> GatherError {
    let what = what.into();
    move |e| GatherError::Git {
        what,
        reason: e.message().to_string(),
    }
}

fn open(path: &Path) -> Result<Repository, GatherError> {
    Repository::open(path).map_err(git_err(format!("the repository {}", path.display())))
}

/// The blobs `id` introduced against its first parent (files taken whole from another parent of
/// a merge introduce nothing).
fn introduced(repo: &Repository, id: Oid, order: usize) -> Result<Vec<BlobJob>, GatherError> {
    let what = || format!("the diff of {id}");
    let commit = repo
        .find_commit(id)
        .map_err(|_| GatherError::Missing { id: id.to_string() })?;
    let tree = commit.tree().map_err(git_err(what()))?;
    let parent = match commit.parent(0) {
        Ok(p) => Some(p.tree().map_err(git_err(what()))?),
        Err(_) => None,
    };
    let others: Vec<git2::Tree<'_>> = commit
        .parents()
        .skip(1)
        .filter_map(|p| p.tree().ok())
        .collect();
    let mut opts = git2::DiffOptions::new();
    opts.ignore_submodules(true).skip_binary_check(true);
    let diff = repo
        .diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))
        .map_err(git_err(what()))?;
    let mut jobs = Vec::new();
    for delta in diff.deltas() {
        if matches!(delta.status(), Delta::Deleted | Delta::Unmodified) {
            continue;
        }
        let new = delta.new_file();
        if new.id().is_zero()
            || !matches!(
                new.mode(),
                FileMode::Blob
                    | FileMode::BlobExecutable
                    | FileMode::BlobGroupWritable
                    | FileMode::Link
            )
        {
            continue;
        }
        let Some(path) = new.path_bytes() else {
            continue;
        };
        let path = String::from_utf8_lossy(path).into_owned();
        if others.iter().any(|t| {
            t.get_path(Path::new(&path))
                .is_ok_and(|e| e.id() == new.id())
        }) {
            continue;
        }
        let old = delta.old_file().id();
        jobs.push(BlobJob {
            order,
            commit: id,
            path,
            old: (!old.is_zero()).then_some(old),
            new: new.id(),
        });
    }
    Ok(jobs)
}

/// Scan the secrets `commits` added. `progress` is told (done, total) as blobs finish.
pub fn scan_commits(
    repo_path: &Path,
    commits: &[Oid],
    scanner: &Scanner,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<HistoryScan, GatherError> {
    let threads = rayon::current_num_threads().max(1);
    let chunk = commits.len().div_ceil(threads * 8).max(1);
    let per_chunk: Vec<Result<Vec<BlobJob>, GatherError>> = commits
        .par_chunks(chunk)
        .enumerate()
        .map(|(ci, ids)| {
            let repo = open(repo_path)?;
            let mut jobs = Vec::new();
            for (i, &id) in ids.iter().enumerate() {
                jobs.extend(introduced(&repo, id, ci * chunk + i)?);
            }
            Ok(jobs)
        })
        .collect();
    let mut all = Vec::new();
    for jobs in per_chunk {
        all.extend(jobs?);
    }
    // Oldest commit first, so a blob is attributed to the commit that introduced it.
    all.sort_by_key(|j| std::cmp::Reverse(j.order));
    let mut seen = HashSet::new();
    all.retain(|j| seen.insert(j.new) && !scanner.path_allowed(&j.path));
    let total = all.len() as u64;
    let done = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let chunk = all.len().div_ceil(threads * 16).max(1);
    let results: Vec<Result<Scanned, GatherError>> = all
        .par_chunks(chunk)
        .map(|jobs| {
            let repo = open(repo_path)?;
            let odb = repo.odb().map_err(git_err("the object database"))?;
            let mut found = Vec::new();
            let mut findings = Vec::new();
            for job in jobs {
                let (size, _) = odb.read_header(job.new).map_err(|_| GatherError::Missing {
                    id: job.new.to_string(),
                })?;
                // The whole blob is scanned first, as a fast filter: the added lines are a part
                // of it, so a blob with no match has no added line with one. Only a blob with a
                // match (or one too large, or binary) is diffed, and then judged by its added
                // lines exactly as a pushed commit's file is.
                let mut exact = size as u64 > scanner.settings().max_file_bytes;
                if !exact {
                    let blob = repo.find_blob(job.new).map_err(|_| GatherError::Missing {
                        id: job.new.to_string(),
                    })?;
                    let content = blob.content();
                    bytes.fetch_add(content.len() as u64, Ordering::Relaxed);
                    // Binary to both the scanner and git (most images, archives): the hooks
                    // skip it too. Only a blob the two judge differently needs git's answer.
                    exact = (is_binary(content) && !blob.is_binary()) || {
                        let scan = scanner.scan_bytes(content, 1);
                        !scan.matches.is_empty() || !scan.broken_rules.is_empty()
                    };
                }
                if exact {
                    let file = blob_change(&repo, &job.path, job.old, job.new)?;
                    let base = Location::default().with_commit(job.commit.to_string());
                    scan_file_change(scanner, &file, base, &mut found, &mut findings);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(p) = progress {
                    p(n, total);
                }
            }
            Ok((found, findings))
        })
        .collect();
    let mut out = HistoryScan {
        commits: commits.len(),
        blobs: all.len(),
        bytes: bytes.into_inner(),
        ..HistoryScan::default()
    };
    for r in results {
        let (found, findings) = r?;
        out.found.extend(found);
        out.findings.extend(findings);
    }
    Ok(out)
}

/// Every commit reachable from any ref, newest first. A shallow clone has no whole history to
/// give: an error naming its boundary, not a scan that silently stops there.
pub fn all_commits(repo: &Repository) -> Result<Vec<Oid>, GatherError> {
    if let Some(id) = crate::change::git::shallow_boundary(repo)?
        .into_iter()
        .min()
    {
        return Err(GatherError::Shallow { id: id.to_string() });
    }
    let mut walk = repo.revwalk().map_err(git_err("history"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL)
        .map_err(git_err("history"))?;
    for tip in crate::change::git::ref_tips(repo, None)? {
        walk.push(tip).map_err(git_err(format!("commit {tip}")))?;
    }
    walk.collect::<Result<Vec<_>, _>>()
        .map_err(git_err("history"))
}

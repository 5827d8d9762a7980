//! Scanning git history: the secrets each commit added, each distinct blob read once, in parallel.
//!
//! For every commit the tree diff against its first parent (no content diff) names the blobs it
//! introduced. Each distinct new blob is scanned once, whole; a secret counts as added by the
//! commit when the file's previous version does not contain it. That is the added-lines question
//! answered per secret, without computing line diffs, so history scans outrun `git log -p`.

use super::engine::{is_binary, Scanner};
use super::report::{broken_rule, not_scanned, Located};
use crate::change::git::GatherError;
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
                let location =
                    Location::file(job.path.clone(), None).with_commit(job.commit.to_string());
                let (size, _) = odb.read_header(job.new).map_err(|_| GatherError::Missing {
                    id: job.new.to_string(),
                })?;
                let limit = scanner.settings().max_file_bytes;
                if size as u64 > limit {
                    findings.push(not_scanned(location, size as u64, limit));
                } else {
                    let blob = repo.find_blob(job.new).map_err(|_| GatherError::Missing {
                        id: job.new.to_string(),
                    })?;
                    let content = blob.content();
                    bytes.fetch_add(content.len() as u64, Ordering::Relaxed);
                    if !is_binary(content) {
                        let scan = scanner.scan_bytes(content, 1);
                        findings.extend(scan.broken_rules.iter().map(|r| broken_rule(r)));
                        if !scan.matches.is_empty() {
                            let old = match job.old {
                                Some(o) => repo.find_blob(o).ok(),
                                None => None,
                            };
                            for m in scan.matches {
                                if old.as_ref().is_some_and(|o| m.occurs_in(o.content())) {
                                    continue;
                                }
                                found.push(Located {
                                    found: m,
                                    location: location.clone(),
                                });
                            }
                        }
                    }
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

/// The commits `RANGE` names, newest first: `A..B` (reachable from B, not A), `A...B`
/// (symmetric difference) or a single revision (it and its ancestors).
pub fn commits_in_range(repo: &Repository, range: &str) -> Result<Vec<Oid>, GatherError> {
    let mut walk = repo.revwalk().map_err(git_err("history"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL)
        .map_err(git_err("history"))?;
    let what = || format!("the range {range}");
    let spec = repo.revparse(range).map_err(git_err(what()))?;
    let peel = |o: Option<&git2::Object<'_>>| -> Result<Option<Oid>, GatherError> {
        match o {
            Some(o) => Ok(Some(o.peel_to_commit().map_err(git_err(what()))?.id())),
            None => Ok(None),
        }
    };
    let from = peel(spec.from())?;
    let to = peel(spec.to())?;
    if spec.mode().contains(git2::RevparseMode::SINGLE) {
        if let Some(id) = from {
            walk.push(id).map_err(git_err(what()))?;
        }
    } else {
        if let Some(id) = to {
            walk.push(id).map_err(git_err(what()))?;
        }
        if let Some(id) = from {
            if spec.mode().contains(git2::RevparseMode::MERGE_BASE) {
                walk.push(id).map_err(git_err(what()))?;
                if let Some(t) = to {
                    let base = repo.merge_base(id, t).map_err(git_err(what()))?;
                    walk.hide(base).map_err(git_err(what()))?;
                }
            } else {
                walk.hide(id).map_err(git_err(what()))?;
            }
        }
    }
    walk.collect::<Result<Vec<_>, _>>()
        .map_err(git_err("history"))
}

/// Every commit reachable from any ref, newest first.
pub fn all_commits(repo: &Repository) -> Result<Vec<Oid>, GatherError> {
    let mut walk = repo.revwalk().map_err(git_err("history"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL)
        .map_err(git_err("history"))?;
    for tip in crate::change::git::ref_tips(repo, None)? {
        walk.push(tip).map_err(git_err(format!("commit {tip}")))?;
    }
    walk.collect::<Result<Vec<_>, _>>()
        .map_err(git_err("history"))
}

//! Revision ranges, read one way for every command: as `git log RANGE` reads them.
//!
//! - `A..B`: the commits reachable from B and not from A (either side empty means `HEAD`);
//! - `A...B`: the commits reachable from either but not from both (the symmetric difference);
//! - `R`: R and every commit it reaches.
//!
//! `vouch check` judges a push, which moves one ref from one commit to another, so it takes
//! `A..B` and `R` and refuses `A...B` rather than give it a second meaning.

use git2::{Oid, Repository};

/// Why a range could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    #[error("cannot resolve {spec:?}: {reason}")]
    Unresolved { spec: String, reason: String },
    #[error("the range {spec:?} is empty on both sides")]
    Empty { spec: String },
    #[error("cannot walk the history of {spec:?}: {reason}")]
    Walk { spec: String, reason: String },
    #[error("this repository has no commits yet ({branch} is unborn), so {spec:?} names nothing to judge")]
    NoCommits { spec: String, branch: String },
}

impl RangeError {
    /// What to do about it, when there is a better answer than "give another range".
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            RangeError::NoCommits { .. } => Some(
                "make a first commit (`git add` … then `git commit`) and run this again; before it, `vouch scan --staged` checks what is staged",
            ),
            _ => None,
        }
    }
}

/// What a range names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `A..B`.
    Between { from: Oid, to: Oid },
    /// `A...B`.
    Symmetric { left: Oid, right: Oid },
    /// `R`.
    Ancestry { tip: Oid },
}

/// A parsed range. Tips keep the object they name (an annotated tag stays a tag, so its
/// signature can be judged); the excluded side is peeled to commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revisions {
    /// The range as written.
    pub spec: String,
    pub shape: Shape,
}

fn unresolved(spec: &str, e: &git2::Error) -> RangeError {
    RangeError::Unresolved {
        spec: spec.to_string(),
        reason: e.message().to_string(),
    }
}

/// The object `side` names (`HEAD` when empty), unpeeled.
fn object(repo: &Repository, side: &str) -> Result<Oid, RangeError> {
    let side = if side.is_empty() { "HEAD" } else { side };
    let obj = repo.revparse_single(side).map_err(|e| {
        // `HEAD` (or `@`, or an empty side) on an unborn branch: say so, not "not found".
        let names_head = side == "@" || side.starts_with("HEAD") || side.starts_with("@{");
        match repo.head() {
            Err(h) if names_head && h.code() == git2::ErrorCode::UnbornBranch => {
                RangeError::NoCommits {
                    spec: side.to_string(),
                    branch: unborn_branch(repo),
                }
            }
            _ => unresolved(side, &e),
        }
    })?;
    obj.peel_to_commit().map_err(|e| unresolved(side, &e))?;
    Ok(obj.id())
}

/// The branch an unborn HEAD points at, for messages.
fn unborn_branch(repo: &Repository) -> String {
    repo.find_reference("HEAD")
        .ok()
        .and_then(|h| h.symbolic_target().ok().flatten().map(str::to_string))
        .map_or_else(
            || "HEAD".to_string(),
            |t| t.trim_start_matches("refs/heads/").to_string(),
        )
}

/// Peel an object id to the commit it names.
pub fn commit_of(repo: &Repository, id: Oid) -> Result<Oid, RangeError> {
    repo.find_object(id, None)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| unresolved(&id.to_string(), &e))
}

impl Revisions {
    /// Read `spec` in `repo`.
    pub fn parse(repo: &Repository, spec: &str) -> Result<Revisions, RangeError> {
        let trimmed = spec.trim();
        let shape = if let Some((a, b)) = trimmed.split_once("...") {
            if a.is_empty() && b.is_empty() {
                return Err(RangeError::Empty { spec: spec.into() });
            }
            Shape::Symmetric {
                left: object(repo, a)?,
                right: object(repo, b)?,
            }
        } else if let Some((a, b)) = trimmed.split_once("..") {
            if a.is_empty() && b.is_empty() {
                return Err(RangeError::Empty { spec: spec.into() });
            }
            Shape::Between {
                from: commit_of(repo, object(repo, a)?)?,
                to: object(repo, b)?,
            }
        } else {
            if trimmed.is_empty() {
                return Err(RangeError::Empty { spec: spec.into() });
            }
            Shape::Ancestry {
                tip: object(repo, trimmed)?,
            }
        };
        Ok(Revisions {
            spec: trimmed.to_string(),
            shape,
        })
    }

    /// The objects whose history is included (unpeeled).
    pub fn tips(&self) -> Vec<Oid> {
        match self.shape {
            Shape::Between { to, .. } => vec![to],
            Shape::Symmetric { left, right } => vec![left, right],
            Shape::Ancestry { tip } => vec![tip],
        }
    }

    /// The commits whose history is left out: `A` of `A..B`, every merge base of `A...B`.
    pub fn hidden(&self, repo: &Repository) -> Result<Vec<Oid>, RangeError> {
        match self.shape {
            Shape::Between { from, .. } => Ok(vec![from]),
            Shape::Symmetric { left, right } => {
                let l = commit_of(repo, left)?;
                let r = commit_of(repo, right)?;
                match repo.merge_bases(l, r) {
                    Ok(bases) => Ok(bases.iter().copied().collect()),
                    Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(Vec::new()),
                    Err(e) => Err(RangeError::Walk {
                        spec: self.spec.clone(),
                        reason: e.message().to_string(),
                    }),
                }
            }
            Shape::Ancestry { .. } => Ok(Vec::new()),
        }
    }

    /// The commits the range names, newest first (topological), as `git log RANGE` lists them.
    pub fn commits(&self, repo: &Repository) -> Result<Vec<Oid>, RangeError> {
        let walk_err = |e: git2::Error| RangeError::Walk {
            spec: self.spec.clone(),
            reason: e.message().to_string(),
        };
        let mut walk = repo.revwalk().map_err(walk_err)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .map_err(walk_err)?;
        for tip in self.tips() {
            walk.push(commit_of(repo, tip)?).map_err(walk_err)?;
        }
        for id in self.hidden(repo)? {
            walk.hide(id).map_err(walk_err)?;
        }
        let ids = walk.collect::<Result<Vec<_>, _>>().map_err(walk_err)?;
        // In a shallow clone the range must stop before the boundary: what lies behind it
        // would otherwise be judged as if it were not there.
        let boundary =
            crate::change::git::shallow_boundary(repo).map_err(|e| RangeError::Walk {
                spec: self.spec.clone(),
                reason: e.to_string(),
            })?;
        if let Some(id) = ids.iter().find(|id| boundary.contains(id)) {
            return Err(RangeError::Walk {
                spec: self.spec.clone(),
                reason: crate::change::git::GatherError::Shallow { id: id.to_string() }.to_string(),
            });
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// main: r - a - b; topic from a: c - d.
    fn history() -> (tempfile::TempDir, Repository, [Oid; 5]) {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init(dir.path()).expect("init");
        let ids = commits(&repo);
        (dir, repo, ids)
    }

    fn commits(repo: &Repository) -> [Oid; 5] {
        let sig = git2::Signature::new("T", "t@example.com", &git2::Time::new(1_700_000_000, 0))
            .expect("signature");
        let tree = {
            let mut index = repo.index().expect("index");
            let id = index.write_tree().expect("tree");
            repo.find_tree(id).expect("tree")
        };
        let commit = |msg: &str, parents: &[Oid], update: Option<&str>| -> Oid {
            let parents: Vec<git2::Commit<'_>> = parents
                .iter()
                .map(|p| repo.find_commit(*p).expect("parent"))
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            repo.commit(update, &sig, &sig, msg, &tree, &refs)
                .expect("commit")
        };
        let r = commit("r", &[], None);
        let a = commit("a", &[r], None);
        let b = commit("b", &[a], Some("refs/heads/main"));
        let c = commit("c", &[a], None);
        let d = commit("d", &[c], Some("refs/heads/topic"));
        repo.set_head("refs/heads/main").expect("HEAD");
        [r, a, b, c, d]
    }

    fn sorted(mut ids: Vec<Oid>) -> Vec<Oid> {
        ids.sort();
        ids
    }

    #[test]
    fn ranges_read_as_git_log_reads_them() {
        let (_dir, repo, [r, a, b, c, d]) = history();
        let cases: [(&str, Vec<Oid>); 6] = [
            ("main..topic", vec![c, d]),
            ("topic..main", vec![b]),
            ("main...topic", vec![b, c, d]),
            ("topic", vec![r, a, c, d]),
            ("..topic", vec![c, d]),
            ("topic..", vec![b]),
        ];
        for (spec, want) in cases {
            let got = Revisions::parse(&repo, spec)
                .and_then(|range| range.commits(&repo))
                .unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(sorted(got), sorted(want), "{spec}");
        }
    }

    #[test]
    fn bad_ranges_say_what_is_wrong() {
        let (_dir, repo, _) = history();
        for (spec, needle) in [
            ("..", "empty on both sides"),
            ("...", "empty on both sides"),
            ("nope..main", "cannot resolve \"nope\""),
            ("main...nope", "cannot resolve \"nope\""),
        ] {
            let err = Revisions::parse(&repo, spec).expect_err(spec).to_string();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }
}

//! Gathering a [`Change`](super::Change) from a git repository with git2.
//!
//! Works the same in a working repository (pre-push) and inside a server's push quarantine
//! (pre-receive): git2 honours `GIT_OBJECT_DIRECTORY` and `GIT_ALTERNATE_OBJECT_DIRECTORIES`
//! when the repository is opened from the environment, so the pushed objects are visible
//! before any ref moves.

use super::{co_authors, Commit, FileChange, Hunk, RefUpdate, Stamp, Tag, UpdateKind};
use crate::policy::MAX_SCANNED_FILE_BYTES;
use git2::{ObjectType, Oid, Repository};
use std::io::Read as _;

/// Why a change could not be gathered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatherError {
    #[error("object {id} is missing from the repository")]
    Missing { id: String },
    #[error("cannot read {what}: {reason}")]
    Git { what: String, reason: String },
    #[error("{}", unsupported_message(format))]
    UnsupportedFormat { format: String },
    #[error("the commits reach past this shallow clone's boundary at {id}: its history is not here, so it cannot be judged (fetch it with `git fetch --unshallow`, or `git fetch --deepen=N`)")]
    Shallow { id: String },
}

/// The object format a repository could not be opened for (`sha256`), from libgit2's error.
pub fn unsupported_format(err: &git2::Error) -> Option<String> {
    let rest = err.message().split_once("unknown object format '")?.1;
    Some(rest.split('\'').next().unwrap_or(rest).to_string())
}

fn unsupported_message(format: &str) -> String {
    let why = "vouch reads git objects with libgit2 1.9, which reads only SHA-1 object ids, so nothing in this repository can be judged";
    if format.eq_ignore_ascii_case("sha256") {
        format!(
            "SHA-256 repositories are not supported: {why} (extensions.objectFormat = {format})"
        )
    } else {
        format!("repositories with object format {format:?} are not supported: {why}")
    }
}

/// The fix for [`GatherError::UnsupportedFormat`].
pub const UNSUPPORTED_FORMAT_HINT: &str = "use a SHA-1 repository (the default of `git init`; `git clone` into one); here vouch's hooks refuse every commit and push until they are removed from the hooks folder";

fn git_err(what: impl Into<String>) -> impl FnOnce(git2::Error) -> GatherError {
    let what = what.into();
    move |e| GatherError::Git {
        what,
        reason: e.message().to_string(),
    }
}

/// Open the repository the current process is in, honouring `GIT_DIR`, `GIT_OBJECT_DIRECTORY`
/// and `GIT_ALTERNATE_OBJECT_DIRECTORIES` as git's own hooks see them.
pub fn open_from_env() -> Result<Repository, GatherError> {
    Repository::open_from_env().map_err(|e| match unsupported_format(&e) {
        Some(format) => GatherError::UnsupportedFormat { format },
        None => git_err("the repository")(e),
    })
}

/// The tips of every ref (or of the refs under `prefix`), peeled to commits where they peel.
pub fn ref_tips(repo: &Repository, prefix: Option<&str>) -> Result<Vec<Oid>, GatherError> {
    let refs = match prefix {
        Some(p) => repo.references_glob(&format!("{}*", p.trim_end_matches('*'))),
        None => repo.references(),
    }
    .map_err(git_err("refs"))?;
    let mut tips = Vec::new();
    for r in refs.flatten() {
        if let Ok(commit) = r.peel_to_commit() {
            tips.push(commit.id());
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Builds [`RefUpdate`]s from object ids.
pub struct Gatherer<'r> {
    repo: &'r Repository,
    diffs: bool,
}

impl std::fmt::Debug for Gatherer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gatherer")
            .field("repo", &self.repo.path())
            .field("diffs", &self.diffs)
            .finish()
    }
}

impl<'r> Gatherer<'r> {
    pub fn new(repo: &'r Repository) -> Self {
        Gatherer { repo, diffs: true }
    }

    /// Whether to compute each commit's added lines (needed by secret scanning only).
    pub fn with_diffs(mut self, diffs: bool) -> Self {
        self.diffs = diffs;
        self
    }

    pub fn repo(&self) -> &'r Repository {
        self.repo
    }

    /// Describe the update of `name` from `old` to `new` (`None` = the zero id). The commits
    /// brought are those reachable from `new` but from none of `exclude` (ids missing from the
    /// repository are ignored, as a pre-push remote id may be).
    pub fn update(
        &self,
        name: &str,
        old: Option<Oid>,
        new: Option<Oid>,
        exclude: &[Oid],
    ) -> Result<RefUpdate, GatherError> {
        let Some(new_id) = new else {
            return Ok(RefUpdate {
                name: name.to_string(),
                old: old.map(|o| o.to_string()),
                new: None,
                kind: UpdateKind::Delete,
                commits: Vec::new(),
                tags: Vec::new(),
            });
        };
        let (tags, new_commit) = self.peel(new_id)?;
        let kind = match old {
            None => UpdateKind::Create,
            Some(old_id) if old_id == new_id => UpdateKind::FastForward,
            Some(old_id) => {
                let old_commit = self.peel_quiet(old_id);
                match (old_commit, new_commit) {
                    (Some(o), Some(n)) if o == n => UpdateKind::FastForward,
                    (Some(o), Some(n)) => match self.repo.graph_descendant_of(n, o) {
                        Ok(true) => UpdateKind::FastForward,
                        Ok(false) => UpdateKind::Force,
                        Err(e) => return Err(git_err(format!("history of {name}"))(e)),
                    },
                    // The old value is unknown here (pre-push without a fetch): git only lets
                    // such a push through when forced.
                    (None, Some(_)) => UpdateKind::Force,
                    _ => UpdateKind::Move,
                }
            }
        };
        let commits = match new_commit {
            Some(tip) => self.commits_between(tip, exclude)?,
            None => Vec::new(),
        };
        Ok(RefUpdate {
            name: name.to_string(),
            old: old.map(|o| o.to_string()),
            new: Some(new_id.to_string()),
            kind,
            commits,
            tags,
        })
    }

    /// Follow annotated tags from `id`; return them and the commit they end at, if any.
    fn peel(&self, id: Oid) -> Result<(Vec<Tag>, Option<Oid>), GatherError> {
        let mut tags = Vec::new();
        let mut current = id;
        let odb = self.repo.odb().map_err(git_err("the object database"))?;
        for _ in 0..64 {
            let header = odb.read_header(current).map_err(|_| GatherError::Missing {
                id: current.to_string(),
            })?;
            match header.1 {
                ObjectType::Tag => {
                    let tag = self
                        .repo
                        .find_tag(current)
                        .map_err(git_err(format!("tag {current}")))?;
                    let raw = odb
                        .read(current)
                        .map_err(git_err(format!("tag {current}")))?
                        .data()
                        .to_vec();
                    tags.push(Tag {
                        id: current.to_string(),
                        raw,
                        name: String::from_utf8_lossy(tag.name_bytes()).into_owned(),
                        target: tag.target_id().to_string(),
                        tagger: tag.tagger().map(|s| stamp(&s)),
                        message: String::from_utf8_lossy(tag.message_bytes().unwrap_or_default())
                            .into_owned(),
                    });
                    current = tag.target_id();
                }
                ObjectType::Commit => return Ok((tags, Some(current))),
                _ => return Ok((tags, None)),
            }
        }
        Err(GatherError::Git {
            what: format!("tag {id}"),
            reason: "tag chain is more than 64 deep".into(),
        })
    }

    fn peel_quiet(&self, id: Oid) -> Option<Oid> {
        self.peel(id).ok().and_then(|(_, c)| c)
    }

    fn commits_between(&self, tip: Oid, exclude: &[Oid]) -> Result<Vec<Commit>, GatherError> {
        let mut walk = self.repo.revwalk().map_err(git_err("history"))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .map_err(git_err("history"))?;
        walk.push(tip).map_err(git_err(format!("commit {tip}")))?;
        for &id in exclude {
            if self.repo.odb().is_ok_and(|odb| odb.exists(id)) {
                // A hidden id that is not a commit (a tag to a tree) only fails to hide.
                let _ = walk.hide(id);
            }
        }
        let boundary = shallow_boundary(self.repo)?;
        let mut commits = Vec::new();
        for id in walk {
            let id = id.map_err(git_err("history"))?;
            // A shallow commit's parents are not here: the commits behind it would pass unseen.
            if boundary.contains(&id) {
                return Err(GatherError::Shallow { id: id.to_string() });
            }
            commits.push(self.commit(id)?);
        }
        Ok(commits)
    }

    /// Read one commit with its raw bytes and (if gathering diffs) its added lines.
    pub fn commit(&self, id: Oid) -> Result<Commit, GatherError> {
        let c = self
            .repo
            .find_commit(id)
            .map_err(|_| GatherError::Missing { id: id.to_string() })?;
        let odb = self.repo.odb().map_err(git_err("the object database"))?;
        let raw = odb
            .read(id)
            .map_err(git_err(format!("commit {id}")))?
            .data()
            .to_vec();
        let message = String::from_utf8_lossy(c.message_raw_bytes()).into_owned();
        let files = if self.diffs {
            self.files(&c)?
        } else {
            Vec::new()
        };
        let author = stamp(&c.author());
        let committer = stamp(&c.committer());
        Ok(Commit {
            id: id.to_string(),
            raw,
            parents: c.parent_ids().map(|p| p.to_string()).collect(),
            tree: c.tree_id().to_string(),
            author,
            committer,
            co_authors: co_authors(&message),
            message,
            files,
        })
    }

    /// The staged files: the index against HEAD (against the empty tree before the first
    /// commit), with their added lines. Reads blobs from the index, never the working tree.
    pub fn staged(&self) -> Result<Vec<FileChange>, GatherError> {
        let head_tree = match self.repo.head() {
            Ok(head) => Some(head.peel_to_tree().map_err(git_err("HEAD"))?),
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                None
            }
            Err(e) => return Err(git_err("HEAD")(e)),
        };
        let mut index = self.repo.index().map_err(git_err("the index"))?;
        // The repository object may have cached an older index: reload it if git changed it.
        index.read(false).map_err(git_err("the index"))?;
        let mut opts = git2::DiffOptions::new();
        diff_options(&mut opts);
        let diff = self
            .repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
            .map_err(git_err("the staged changes"))?;
        self.collect(&diff, &[], "the staged changes")
    }

    fn files(&self, c: &git2::Commit<'_>) -> Result<Vec<FileChange>, GatherError> {
        let what = || format!("the diff of {}", c.id());
        let tree = c.tree().map_err(git_err(what()))?;
        let parent_tree = match c.parent(0) {
            Ok(p) => Some(p.tree().map_err(git_err(what()))?),
            Err(_) => None,
        };
        let other_parents: Vec<git2::Tree<'_>> =
            c.parents().skip(1).filter_map(|p| p.tree().ok()).collect();
        let mut opts = git2::DiffOptions::new();
        diff_options(&mut opts);
        let diff = self
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut opts))
            .map_err(git_err(what()))?;
        self.collect(&diff, &other_parents, &what())
    }

    fn collect(
        &self,
        diff: &git2::Diff<'_>,
        other_parents: &[git2::Tree<'_>],
        what: &str,
    ) -> Result<Vec<FileChange>, GatherError> {
        let what = || what.to_string();
        let mut files = Vec::new();
        for idx in 0..diff.deltas().len() {
            let Some(delta) = diff.get_delta(idx) else {
                continue;
            };
            let path = delta
                .new_file()
                .path_bytes()
                .or_else(|| delta.old_file().path_bytes())
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            let new_blob = (!delta.new_file().id().is_zero()).then(|| delta.new_file().id());
            // In a merge, a file taken whole from another parent adds nothing new.
            if let Some(blob) = new_blob {
                let from_other = other_parents.iter().any(|t| {
                    t.get_path(std::path::Path::new(&path))
                        .is_ok_and(|e| e.id() == blob)
                });
                if from_other {
                    continue;
                }
            }
            let mut change = FileChange {
                path,
                old_blob: (!delta.old_file().id().is_zero())
                    .then(|| delta.old_file().id().to_string()),
                new_blob: new_blob.map(|b| b.to_string()),
                binary: false,
                too_large: None,
                hunks: Vec::new(),
            };
            // A gitlink (submodule) names a commit of another repository: no content here.
            let gitlink = delta.new_file().mode() == git2::FileMode::Commit;
            if let Some(blob) = new_blob.filter(|_| !gitlink) {
                let patch = git2::Patch::from_diff(diff, idx).map_err(git_err(what()))?;
                match patch {
                    Some(patch) if !patch.delta().flags().is_binary() => {
                        change.hunks = added_hunks(&patch).map_err(git_err(what()))?;
                    }
                    _ => {
                        change.too_large = too_large_text(self.repo, blob)?;
                        change.binary = change.too_large.is_none();
                    }
                }
            }
            files.push(change);
        }
        Ok(files)
    }
}

/// One file's change between two blobs (`old` = `None` for an added file), with its added lines:
/// the same diff, with the same options, as a commit's files get from [`Gatherer`], for callers
/// that found the blobs some other way (`vouch scan --git`).
pub fn blob_change(
    repo: &Repository,
    path: &str,
    old: Option<Oid>,
    new: Oid,
) -> Result<FileChange, GatherError> {
    let what = || format!("the diff of {path}");
    let find = |id: Oid| {
        repo.find_blob(id)
            .map_err(|_| GatherError::Missing { id: id.to_string() })
    };
    let old_blob = old.map(find).transpose()?;
    let new_blob = find(new)?;
    let mut opts = git2::DiffOptions::new();
    opts.context_lines(0)
        .max_size(MAX_SCANNED_FILE_BYTES as i64);
    let path_ref = Some(std::path::Path::new(path));
    let patch = match &old_blob {
        Some(o) => git2::Patch::from_blobs(o, path_ref, &new_blob, path_ref, Some(&mut opts)),
        None => {
            git2::Patch::from_buffers(&[], path_ref, new_blob.content(), path_ref, Some(&mut opts))
        }
    }
    .map_err(git_err(what()))?;
    let mut change = FileChange {
        path: path.to_string(),
        old_blob: old.map(|o| o.to_string()),
        new_blob: Some(new.to_string()),
        binary: false,
        too_large: None,
        hunks: Vec::new(),
    };
    if patch.delta().flags().is_binary() {
        change.too_large = too_large_text(repo, new)?;
        change.binary = change.too_large.is_none();
    } else {
        change.hunks = added_hunks(&patch).map_err(git_err(what()))?;
    }
    Ok(change)
}

/// The commits a shallow repository has without their parents (`shallow` in the common git
/// folder, one id per line); empty for a complete repository.
pub fn shallow_boundary(repo: &Repository) -> Result<std::collections::HashSet<Oid>, GatherError> {
    if !repo.is_shallow() {
        return Ok(Default::default());
    }
    let path = repo.commondir().join("shallow");
    let text = std::fs::read_to_string(&path).map_err(|e| GatherError::Git {
        what: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(text
        .lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .collect())
}

/// The git2 diff options every gathered diff uses: added lines only, submodules as gitlinks, and
/// libgit2's text limit stated rather than assumed.
fn diff_options(opts: &mut git2::DiffOptions) {
    opts.context_lines(0)
        .ignore_submodules(true)
        .max_size(MAX_SCANNED_FILE_BYTES as i64);
}

/// libgit2 calls every blob over its size limit binary without looking at it. Such a blob is
/// looked at here (its first 8 KiB, as git does): text that large is `Some(size)`, to be
/// reported as not scanned rather than skipped as binary.
fn too_large_text(repo: &Repository, id: Oid) -> Result<Option<u64>, GatherError> {
    let missing = || GatherError::Missing { id: id.to_string() };
    let odb = repo.odb().map_err(git_err("the object database"))?;
    let (size, kind) = odb.read_header(id).map_err(|_| missing())?;
    let size = size as u64;
    if kind != ObjectType::Blob || size <= MAX_SCANNED_FILE_BYTES {
        return Ok(None);
    }
    let mut head = vec![0u8; crate::secrets::engine::BINARY_SNIFF];
    // A loose object streams; a packed one is read whole (git2 has no packed-object stream).
    let n = match odb.reader(id) {
        Ok((mut reader, _, _)) => {
            let mut n = 0;
            while n < head.len() {
                match reader.read(&mut head[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(_) => return Err(missing()),
                }
            }
            n
        }
        Err(_) => {
            let blob = repo.find_blob(id).map_err(|_| missing())?;
            let content = blob.content();
            let n = content.len().min(head.len());
            head[..n].copy_from_slice(&content[..n]);
            n
        }
    };
    Ok((!crate::secrets::engine::is_binary(&head[..n])).then_some(size))
}

fn added_hunks(patch: &git2::Patch<'_>) -> Result<Vec<Hunk>, git2::Error> {
    let mut hunks: Vec<Hunk> = Vec::new();
    for h in 0..patch.num_hunks() {
        let lines = patch.num_lines_in_hunk(h)?;
        let mut current: Option<Hunk> = None;
        let mut next_line = 0;
        for l in 0..lines {
            let line = patch.line_in_hunk(h, l)?;
            if line.origin() != '+' {
                continue;
            }
            let Some(n) = line.new_lineno() else {
                continue;
            };
            match &mut current {
                Some(hunk) if n == next_line => hunk.text.extend_from_slice(line.content()),
                _ => {
                    if let Some(done) = current.take() {
                        hunks.push(done);
                    }
                    current = Some(Hunk {
                        start_line: n,
                        text: line.content().to_vec(),
                    });
                }
            }
            next_line = n + 1;
        }
        if let Some(done) = current {
            hunks.push(done);
        }
    }
    Ok(hunks)
}

fn stamp(s: &git2::Signature<'_>) -> Stamp {
    Stamp {
        name: String::from_utf8_lossy(s.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(s.email_bytes()).into_owned(),
        time: s.when().seconds(),
        offset_minutes: s.when().offset_minutes(),
    }
}

//! The change being judged: ref updates, the commits they bring, who made and pushed them.
//!
//! An enforcement point gathers a [`Change`] (the hooks from a local or quarantined repository via
//! [`git`], the bot from a mirror) and hands it to [`crate::evaluate`]. Nothing here decides policy.

pub mod forge;
pub mod git;
pub mod range;

pub use forge::PullRequest;

use serde::Serialize;

/// A 40- (SHA-1) or 64- (SHA-256) hex digit object id.
pub type ObjectId = String;

/// The all-zero id git uses for "no object" in hook input.
pub fn is_zero_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b == b'0')
}

/// A person as git records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// An author, committer or tagger line: a person and a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stamp {
    pub name: String,
    pub email: String,
    /// Seconds since the Unix epoch, as the object records it (chosen by whoever made it).
    pub time: i64,
    /// Offset from UTC in minutes.
    pub offset_minutes: i32,
}

impl Stamp {
    pub fn person(&self) -> Person {
        Person {
            name: self.name.clone(),
            email: self.email.clone(),
        }
    }
}

/// Lines a commit added to one file, compared with its first parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// 1-based line number of the first line of `text` in the new file.
    pub start_line: u32,
    /// The added lines, each with its newline, exactly as in the blob (not necessarily UTF-8).
    #[serde(skip)]
    pub text: Vec<u8>,
}

/// One file a commit touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: String,
    /// The blob before the commit; `None` when the file was added.
    pub old_blob: Option<ObjectId>,
    /// The blob after the commit; `None` when the file was deleted.
    pub new_blob: Option<ObjectId>,
    /// True when either side is binary (git's heuristic); binary files carry no hunks.
    pub binary: bool,
    /// The new blob's size when it is text (no NUL in its first 8 KiB) but larger than git's
    /// diff engine reads line by line ([`crate::policy::MAX_SCANNED_FILE_BYTES`]): its added
    /// lines are unknown, so the secrets check reports it as not scanned.
    #[serde(skip)]
    pub too_large: Option<u64>,
    /// Added lines; empty when diffs were not gathered.
    #[serde(skip)]
    pub hunks: Vec<Hunk>,
}

/// A commit, with the raw object so signatures can be checked against the exact signed bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub id: ObjectId,
    /// The commit object's bytes as stored (headers, signature header, message).
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub parents: Vec<ObjectId>,
    pub tree: ObjectId,
    pub author: Stamp,
    pub committer: Stamp,
    /// People named in `Co-authored-by:` trailers.
    pub co_authors: Vec<Person>,
    pub message: String,
    /// Files changed against the first parent (against the empty tree for a root commit).
    pub files: Vec<FileChange>,
}

impl Commit {
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }

    /// The subject line of the message.
    pub fn subject(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// An annotated tag object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub id: ObjectId,
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub name: String,
    /// What the tag points at directly (may be another tag).
    pub target: ObjectId,
    pub tagger: Option<Stamp>,
    pub message: String,
}

/// What a ref update does, as git would describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateKind {
    Create,
    Delete,
    /// The new commit descends from the old one.
    FastForward,
    /// The new commit does not descend from the old one: history is rewritten.
    Force,
    /// A ref that does not point at commits (a tag to a blob, a note): moved, not fast-forward.
    Move,
}

/// One ref being changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefUpdate {
    /// Full ref name, e.g. `refs/heads/main`.
    pub name: String,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
    pub kind: UpdateKind,
    /// The commits this update brings that are not already reachable from an existing ref,
    /// newest first. Empty for deletions.
    pub commits: Vec<Commit>,
    /// The annotated tag objects the new value peels through (outermost first).
    pub tags: Vec<Tag>,
}

impl RefUpdate {
    pub fn is_branch(&self) -> bool {
        self.name.starts_with("refs/heads/")
    }

    pub fn is_tag(&self) -> bool {
        self.name.starts_with("refs/tags/")
    }

    /// The name people use: `main` for `refs/heads/main`, `v1.0` for `refs/tags/v1.0`.
    pub fn short_name(&self) -> &str {
        self.name
            .strip_prefix("refs/heads/")
            .or_else(|| self.name.strip_prefix("refs/tags/"))
            .unwrap_or(&self.name)
    }
}

/// What kind of change is judged. Checks read what the change holds, never which program
/// gathered it: `vouch check`, pre-push, the server hook and the bot all judge a [`Stage::Push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// A commit being made: the staged files (pre-commit).
    Commit,
    /// A commit message being written (commit-msg).
    Message,
    /// Ref updates and the commits they bring.
    Push,
}

/// The time signatures, key windows, expiry and retirement are judged at. The caller chooses;
/// the engine never guesses it from who called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "basis", content = "at")]
pub enum Clock {
    /// The moment of the push ([`Change::now`]): what the server hook, the bot and `vouch check`
    /// use, since a commit's date is chosen by whoever signs it.
    PushTime,
    /// Each commit's (or tag's) own date, capped at now: auditing existing history, said in
    /// every finding that relied on it.
    CommitDate,
    /// A given instant (Unix seconds), for reproducing a past judgement.
    At(i64),
}

/// Everything being judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub stage: Stage,
    /// Which time signatures are judged at.
    pub clock: Clock,
    pub updates: Vec<RefUpdate>,
    /// Who is pushing, when known (server environment, or the local user for pre-push).
    pub pusher: Option<String>,
    /// `git push -o` options; recorded in the verdict.
    pub push_options: Vec<String>,
    /// When the change is judged (seconds since the epoch).
    pub now: i64,
    /// pre-commit: the staged files (index against HEAD), with their added lines.
    pub staged: Vec<FileChange>,
    /// commit-msg: the message being written, and the author it will carry.
    pub message: Option<PendingMessage>,
    /// The pull request being judged (the bot, `vouch review`): forge facts only; its commits
    /// are [`Change::updates`]' commits.
    pub pull_request: Option<PullRequest>,
    /// The change is a merge queue group the forge built (`merge_group`): like a pull request,
    /// no one pushes it; the forge moves the branch once the checks pass.
    pub merge_group: bool,
}

/// A commit message not yet committed (the commit-msg hook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingMessage {
    pub text: String,
    pub author_email: String,
    /// The branch the commit is being made on (`refs/heads/…`), when on one.
    pub branch: Option<String>,
}

impl Change {
    /// A change of `stage` judged at `now`, by the push-time clock.
    pub fn new(stage: Stage, now: i64) -> Self {
        Change {
            stage,
            clock: Clock::PushTime,
            updates: Vec::new(),
            pusher: None,
            push_options: Vec::new(),
            now,
            staged: Vec::new(),
            message: None,
            pull_request: None,
            merge_group: false,
        }
    }

    /// Every commit in the change, each once, with the first update that brings it.
    pub fn commits(&self) -> Vec<(&RefUpdate, &Commit)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for update in &self.updates {
            for commit in &update.commits {
                if seen.insert(commit.id.as_str()) {
                    out.push((update, commit));
                }
            }
        }
        out
    }
}

pub use crate::time::unix_now;

/// Parse `Co-authored-by: Name <email>` trailers from a commit message.
pub fn co_authors(message: &str) -> Vec<Person> {
    let mut people = Vec::new();
    for line in message.lines() {
        let line = line.trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("co-authored-by") {
            continue;
        }
        let value = value.trim();
        if let (Some(lt), Some(gt)) = (value.rfind('<'), value.rfind('>')) {
            if lt < gt {
                people.push(Person {
                    name: value[..lt].trim().to_string(),
                    email: value[lt + 1..gt].trim().to_string(),
                });
            }
        }
    }
    people
}

//! The pull request as the review check reads it: a JSON-serialisable description the bot builds
//! from the forge's API and `vouch review --input` reads from a file. `docs/review.md` documents
//! every field.

use crate::policy::Permission;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A pull request, with everything four-eyes review depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub number: u64,
    /// The login of the person who opened the pull request.
    pub author: String,
    /// The branch it merges into, e.g. `main` (a full `refs/heads/main` is accepted too).
    pub base: String,
    /// The commit id of the pull request's current head.
    pub head_sha: String,
    /// Every path the pull request adds, modifies, deletes or renames (both names of a rename).
    pub changed_paths: Vec<String>,
    /// The pull request's commits (those not on the base branch).
    pub commits: Vec<PrCommit>,
    /// The login of whoever last pushed to the pull request's head branch.
    pub last_pusher: String,
    #[serde(default)]
    pub reviews: Vec<Review>,
    /// Team (`org/team`) → member logins, for teams named in CODEOWNERS.
    #[serde(default)]
    pub teams: BTreeMap<String, Vec<String>>,
    /// Reviewer login → repository permission.
    #[serde(default)]
    pub permissions: BTreeMap<String, Permission>,
    /// Login → e-mail addresses that belong to it (verified on the forge), so commit identities
    /// and e-mail owners can be matched to reviewers.
    #[serde(default)]
    pub emails: BTreeMap<String, Vec<String>>,
}

/// A person on a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub name: String,
    pub email: String,
    /// The forge login the e-mail belongs to, when the forge knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
}

/// The signature check's verdict on one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureVerdict {
    /// True when the signature verified against a trusted key.
    pub verified: bool,
    /// The trusted signer's name (an allowed-signers principal or key name), when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// One commit of the pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrCommit {
    pub sha: String,
    pub author: Identity,
    pub committer: Identity,
    /// People named in `Co-authored-by:` trailers.
    #[serde(default)]
    pub co_authors: Vec<Identity>,
    /// `None` when the commit is unsigned or was not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureVerdict>,
}

/// A review's state, as the forge reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
}

/// One submitted review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub reviewer: String,
    pub state: ReviewState,
    /// The head commit the review was left on.
    pub commit_id: String,
    /// RFC 3339 time, e.g. `2026-11-25T10:00:00Z`.
    pub submitted_at: String,
}

impl PullRequest {
    /// The base branch as a full ref name.
    pub fn base_ref(&self) -> String {
        if self.base.starts_with("refs/") {
            self.base.clone()
        } else {
            format!("refs/heads/{}", self.base)
        }
    }
}

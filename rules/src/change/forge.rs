//! What the forge knows about a pull request and nothing git knows: who opened it, who pushed
//! last, the reviews (each with the commit it was left on), teams, permissions and the e-mail
//! addresses behind each login. The bot reads these from the forge's API and `vouch review
//! --input` from a file (`docs/review.md`); the commits themselves, their signatures and the
//! paths they touch come from git, in [`Change::updates`](super::Change::updates), so the
//! engine verifies them itself and no caller can vouch for a signature.

use crate::policy::Permission;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A pull request's forge facts.
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

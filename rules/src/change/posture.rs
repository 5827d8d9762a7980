//! What the forge says about a repository's settings, as plain facts: branch protection, the
//! rulesets in force on each protected branch and who may bypass them, the organisation's 2FA
//! requirement and members, collaborators, teams, deploy keys and token grants. The bot and
//! `vouch audit` read these from the forge's API; the posture check (`crate::posture`) judges
//! them. A fact the reader had no permission to see is [`Fact::Unknown`] with the permission it
//! lacked, and every requirement that needs it fails closed.

use crate::policy::Permission;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A fact, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact<T> {
    Known(T),
    /// The permission (or other reason) that kept the reader from it, e.g. "the `Administration:
    /// read` repository permission (GET /repos/acme/app/branches/main/protection answered 403)".
    Unknown(String),
}

impl<T> Fact<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(t) => Some(t),
            Fact::Unknown(_) => None,
        }
    }
}

/// The forge settings around one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posture {
    /// `owner/name`.
    pub repo: String,
    pub default_branch: String,
    /// Whether the owner is an organisation (else a user account: no 2FA policy, no teams).
    pub owner_is_org: bool,
    /// The vouch App's id, that the `vouch: <branch>` check must be pinned to; `None` when not known.
    pub app_id: Option<i64>,
    /// Each branch the policy protects that exists on the forge, the default branch first.
    pub branches: Vec<BranchPosture>,
    /// Whether the organisation requires 2FA of its members (`None` for a user account).
    pub org_requires_2fa: Option<Fact<bool>>,
    /// Members without 2FA (`None` for a user account).
    pub members_without_2fa: Option<Fact<Vec<String>>>,
    /// Outside collaborators of the organisation who can reach this repository, with their permission.
    pub outside_collaborators: Option<Fact<Vec<Grant>>>,
    /// Everyone with access to the repository (direct, through a team, or as an org member).
    pub collaborators: Fact<Vec<Grant>>,
    /// Teams with access to the repository, as `org/slug`.
    pub teams: Fact<Vec<Grant>>,
    /// Members of the teams [`Posture::teams`] names, by `org/slug`.
    #[serde(default)]
    pub team_members: BTreeMap<String, Fact<Vec<String>>>,
    pub deploy_keys: Fact<Vec<DeployKey>>,
    /// Fine-grained personal access tokens granted access to the organisation (`None` when
    /// not an organisation).
    pub token_grants: Option<Fact<Vec<TokenGrant>>>,
}

/// A person or team and the permission they hold on the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// A login, or `org/slug` for a team.
    pub name: String,
    pub permission: Permission,
}

/// A deploy key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployKey {
    pub id: i64,
    pub title: String,
    /// Unix seconds.
    pub created_at: i64,
    pub read_only: bool,
}

/// A fine-grained personal access token's grant on the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenGrant {
    pub id: i64,
    pub owner: String,
    /// Unix seconds the grant was made.
    pub granted_at: i64,
    /// Unix seconds the token expires; `None` for a token that never does.
    pub expires_at: Option<i64>,
}

/// One protected branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchPosture {
    pub name: String,
    /// Classic branch protection; `Known(None)` when the branch has none.
    pub classic: Fact<Option<ClassicProtection>>,
    /// The rulesets whose rules apply to the branch (repository and organisation layers).
    pub rulesets: Fact<Vec<Ruleset>>,
}

/// A status check a layer requires, and the App it must come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredCheck {
    pub context: String,
    /// The App that must set it; `None` for any source.
    pub app_id: Option<i64>,
}

/// Classic branch protection (`GET /repos/{o}/{r}/branches/{b}/protection`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassicProtection {
    /// `None` when no status checks are required.
    pub status_checks: Option<StatusChecks>,
    pub enforce_admins: bool,
    /// `None` when no pull request review is required.
    pub reviews: Option<ClassicReviews>,
    pub allow_force_pushes: bool,
    pub allow_deletions: bool,
    pub required_signatures: bool,
    pub linear_history: bool,
}

/// Required status checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChecks {
    /// Branches must be up to date before merging.
    pub strict: bool,
    pub checks: Vec<RequiredCheck>,
}

/// Classic protection's pull request review requirement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassicReviews {
    pub required_approvals: u32,
    pub dismiss_stale: bool,
    pub code_owners: bool,
    pub last_push_approval: bool,
    /// Users (logins), teams (`org/slug`) and Apps (`app:<slug>`) allowed to skip the review.
    pub bypass: Vec<String>,
}

/// A ruleset whose rules apply to the branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ruleset {
    pub id: i64,
    pub name: String,
    /// `Repository` or `Organization`.
    pub source_type: String,
    /// `owner/name` or the organisation.
    pub source: String,
    /// `active`, `evaluate` or `disabled`; only `active` enforces anything.
    pub enforcement: String,
    /// Who may bypass it; unknown when the reader may not see the ruleset itself.
    pub bypass: Fact<Vec<BypassActor>>,
    pub rules: Vec<Rule>,
}

impl Ruleset {
    pub fn active(&self) -> bool {
        self.enforcement == "active"
    }

    /// Whether this is the ruleset `vouch audit --fix` manages on this repository.
    pub fn managed(&self) -> bool {
        self.source_type == "Repository" && self.name.starts_with(MANAGED_RULESET_PREFIX)
    }
}

/// The name of the repository ruleset vouch manages for a branch starts with this.
pub const MANAGED_RULESET_PREFIX: &str = "vouch: ";

/// One bypass actor of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BypassActor {
    /// `Integration`, `OrganizationAdmin`, `RepositoryRole`, `Team` or `DeployKey`.
    pub actor_type: String,
    pub actor_id: Option<i64>,
    /// `always` or `pull_request`.
    pub mode: String,
    /// What the actor is in the policy's terms when the reader could tell: a login, `org/slug`
    /// for a team, `app:<id>` for an App, `role:admin` for a repository role.
    pub name: Option<String>,
}

/// One rule of a ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Rule {
    Deletion,
    NonFastForward,
    RequiredLinearHistory,
    RequiredSignatures,
    PullRequest {
        required_approvals: u32,
        dismiss_stale: bool,
        code_owners: bool,
        last_push_approval: bool,
    },
    RequiredStatusChecks {
        strict: bool,
        checks: Vec<RequiredCheck>,
    },
    /// A rule the audit does not judge (commit message patterns, …), by its type.
    Other {
        name: String,
    },
}

//! The policy: `.vouch/policy.toml` parsed, validated once, plus the files it points at.
//!
//! Loading goes in two stages: [`file::PolicyFile`] is the TOML as written; [`Policy`] is the
//! validated form every check reads. Every error names file, line and column and says how to fix it.

pub mod error;
pub mod file;
pub mod pattern;
pub mod resolve;
pub mod source;
mod validate;

pub use error::{PolicyError, PolicyWarning, Position};
pub use pattern::Glob;
pub use source::{PolicyFiles, CODEOWNERS_PATHS, POLICY_PATH, VOUCH_DIR};

use file::PolicyFile;
use std::collections::BTreeSet;
use validate::{toml_error, Validator};

/// The policy written by `vouch init`, with every key and its default, commented.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default_policy.toml");

/// Secret-finding confidence levels, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "low" => Some(Confidence::Low),
            "medium" => Some(Confidence::Medium),
            "high" => Some(Confidence::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// The most `[secrets] max_file_bytes` may be: the largest file git's diff engine (libgit2) reads
/// line by line. Past it libgit2 calls any file binary without looking, so a larger limit
/// would be a limit in name only.
pub const MAX_SCANNED_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// What a file too large to scan does to the secrets check (`[secrets] oversize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Oversize {
    /// The check fails: a secret must not pass by padding a file past the limit.
    #[default]
    Fail,
    /// A warning only.
    Warn,
}

impl Oversize {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "fail" => Some(Oversize::Fail),
            "warn" => Some(Oversize::Warn),
            _ => None,
        }
    }
}

/// A forge repository permission, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    None,
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

impl Permission {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Permission::None),
            "read" | "pull" => Some(Permission::Read),
            "triage" => Some(Permission::Triage),
            "write" | "push" => Some(Permission::Write),
            "maintain" => Some(Permission::Maintain),
            "admin" => Some(Permission::Admin),
            _ => None,
        }
    }
}

/// Who counts as not independent of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Involvement {
    PrAuthor,
    Authors,
    Committers,
    CoAuthors,
    LastPusher,
}

impl Involvement {
    pub const ALL: [(&'static str, Involvement); 5] = [
        ("pr_author", Involvement::PrAuthor),
        ("authors", Involvement::Authors),
        ("committers", Involvement::Committers),
        ("co_authors", Involvement::CoAuthors),
        ("last_pusher", Involvement::LastPusher),
    ];
}

/// `[signatures]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SignaturesPolicy {
    pub required: bool,
    pub allowed_signers: String,
    pub keys_dir: String,
    pub require_author_identity: bool,
    pub accept_x509: bool,
    pub allow_unsigned_merges: bool,
    pub forge_signers: Vec<String>,
    pub max_key_age_days: Option<u32>,
    /// (fingerprint, retired-at as Unix seconds)
    pub retired: Vec<(String, i64)>,
    pub compromised: Vec<String>,
    pub exempt_commits: Vec<String>,
}

impl SignaturesPolicy {
    /// The key-rotation entries of `[signatures]`.
    pub fn rotation(&self) -> KeyRotation<'_> {
        KeyRotation {
            retired: &self.retired,
            compromised: &self.compromised,
            exempt_commits: &self.exempt_commits,
        }
    }

    /// True when `[signatures] compromised` names one of `fingerprints` (canonical forms).
    pub fn is_compromised(&self, fingerprints: &[&str]) -> bool {
        self.rotation().is_compromised(fingerprints)
    }

    /// The earliest retirement date `[[signatures.retired]]` gives one of `fingerprints`.
    pub fn retired_since(&self, fingerprints: &[&str]) -> Option<i64> {
        self.rotation().retired_since(fingerprints)
    }
}

/// How a key left service: the one model commit-signature keys (`[signatures]`) and verifier
/// keys (`[attestation]`) share. A **retired** key's signatures made before its date stay
/// valid; a **compromised** key's signatures all fail, except on the listed known-good commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRotation<'p> {
    /// (fingerprint, retired-at as Unix seconds)
    pub retired: &'p [(String, i64)],
    pub compromised: &'p [String],
    pub exempt_commits: &'p [String],
}

/// Why rotation refuses one signature by a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotated {
    /// Listed as compromised, and the commit is not a known-good one.
    Compromised,
    /// Retired at this time (Unix seconds), and the signature is from then or later.
    Retired(i64),
}

impl KeyRotation<'_> {
    /// True when `compromised` names one of `fingerprints` (canonical forms).
    pub fn is_compromised(&self, fingerprints: &[&str]) -> bool {
        self.compromised
            .iter()
            .any(|l| crate::signatures::fingerprint::names_any(l, fingerprints))
    }

    /// The earliest retirement date given one of `fingerprints`.
    pub fn retired_since(&self, fingerprints: &[&str]) -> Option<i64> {
        self.retired
            .iter()
            .filter(|(fp, _)| crate::signatures::fingerprint::names_any(fp, fingerprints))
            .map(|&(_, since)| since)
            .min()
    }

    /// True when `commit` is listed as known-good despite a compromised key.
    pub fn exempts(&self, commit: &str) -> bool {
        self.exempt_commits
            .iter()
            .any(|c| c.eq_ignore_ascii_case(commit))
    }

    /// Whether a signature on `commit` at `time` by a key with `fingerprints` still counts.
    pub fn judge(&self, fingerprints: &[&str], commit: &str, time: i64) -> Result<(), Rotated> {
        if self.is_compromised(fingerprints) && !self.exempts(commit) {
            return Err(Rotated::Compromised);
        }
        match self.retired_since(fingerprints) {
            Some(since) if time >= since => Err(Rotated::Retired(since)),
            _ => Ok(()),
        }
    }
}

/// `[secrets]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretsPolicy {
    pub enabled: bool,
    pub rules_file: String,
    pub baseline: String,
    pub inline_allow: bool,
    pub max_file_bytes: u64,
    pub oversize: Oversize,
    pub allow_paths: Vec<Glob>,
    pub disable_rules: Vec<String>,
    pub min_confidence: Confidence,
}

/// A bot whose verified commits do not count against independence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bot {
    pub login: String,
    pub signer: String,
}

/// `[review]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPolicy {
    pub required_approvals: u32,
    pub require_code_owners: bool,
    pub not_independent: BTreeSet<Involvement>,
    pub min_permission: Permission,
    pub owner_change_request_blocks: bool,
    pub current_head_only: bool,
    pub bots: Vec<Bot>,
}

/// Whether a ref rule protects branches or tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Branch,
    Tag,
}

/// One `[[branch]]` or `[[tag]]` rule, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RefRule {
    pub kind: RefKind,
    /// Matched against the full ref name.
    pub pattern: Glob,
    /// The pattern as written, for messages.
    pub written: String,
    /// Where the rule is, for messages: `.vouch/policy.toml:12`.
    pub defined_at: String,
    pub allow_deletion: bool,
    pub allow_force_push: bool,
    pub require_review: bool,
    pub push_allow: Vec<String>,
    pub required_checks: Vec<String>,
}

impl RefRule {
    pub fn matches(&self, full_ref: &str) -> bool {
        self.pattern.matches(full_ref)
    }

    /// The table name as written in the policy, `[[branch]]` or `[[tag]]`.
    pub fn table(&self) -> &'static str {
        match self.kind {
            RefKind::Branch => "[[branch]]",
            RefKind::Tag => "[[tag]]",
        }
    }
}

/// `[commit_message]`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitMessagePolicy {
    pub require_signoff: bool,
    pub max_subject_length: Option<usize>,
    pub forbid_autosquash: bool,
}

/// When vouch makes the signed merge into a protected branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MergeMode {
    /// As soon as the change is approved and every check holds (`vouch merge`, the bot).
    OnApproval,
    /// Through the forge's merge queue (the bot, on a `merge_group` event).
    MergeQueue,
    /// vouch makes no merges; attestations are not written.
    Off,
}

impl MergeMode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "on-approval" => Some(MergeMode::OnApproval),
            "merge-queue" => Some(MergeMode::MergeQueue),
            "off" => Some(MergeMode::Off),
            _ => None,
        }
    }
}

/// `[attestation]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationPolicy {
    pub enabled: bool,
    pub notes_ref: String,
    pub verifier_id: Option<String>,
    /// Principals of `allowed_signers` whose keys may sign attestations.
    pub trusted_verifiers: Vec<String>,
    pub merge: MergeMode,
    /// (fingerprint, retired-at as Unix seconds)
    pub retired: Vec<(String, i64)>,
    pub compromised: Vec<String>,
    pub exempt_commits: Vec<String>,
}

impl AttestationPolicy {
    /// The key-rotation entries of `[attestation]`: verifier keys follow the same model as
    /// commit-signature keys.
    pub fn rotation(&self) -> KeyRotation<'_> {
        KeyRotation {
            retired: &self.retired,
            compromised: &self.compromised,
            exempt_commits: &self.exempt_commits,
        }
    }

    /// The verifier id written into attestations when the policy names none.
    pub fn verifier(&self) -> &str {
        self.verifier_id
            .as_deref()
            .unwrap_or("https://vouch.invalid/verifier/local")
    }
}

/// Environment variables the server hook reads the pusher's identity from, in order, after the
/// one the policy names.
pub const PUSHER_ENV_VARS: [&str; 4] = [
    "GL_USERNAME",
    "GITHUB_USER_LOGIN",
    "GITEA_PUSHER_NAME",
    "REMOTE_USER",
];

/// `[server]`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerPolicy {
    pub pusher_env: Option<String>,
}

impl ServerPolicy {
    /// The variables to try, in order.
    pub fn pusher_vars(&self) -> Vec<&str> {
        self.pusher_env
            .as_deref()
            .into_iter()
            .chain(PUSHER_ENV_VARS)
            .collect()
    }

    /// Who is pushing: the first of [`Self::pusher_vars`] that `env` gives a non-blank value
    /// for, else `configured` (`git config vouch.pusher` on a developer's machine); trimmed.
    pub fn pusher(
        &self,
        env: impl Fn(&str) -> Option<String>,
        configured: Option<String>,
    ) -> Option<String> {
        self.pusher_vars()
            .into_iter()
            .filter_map(&env)
            .chain(configured)
            .map(|p| p.trim().to_string())
            .find(|p| !p.is_empty())
    }
}

/// Where the policy in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `.vouch/policy.toml` in this tree or folder (`refs/heads/main`, a path).
    File { origin: String },
    /// The target ref has no policy; the repository's default branch's policy applies.
    DefaultBranch { origin: String, target: String },
    /// No policy anywhere: the built-in bootstrap default applies.
    BuiltIn,
}

/// The validated policy plus the files it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub origin: Origin,
    /// [`PolicyFiles::digest`] of every policy file (policy.toml, keys, allowed signers,
    /// CODEOWNERS, custom rules, baseline), hex; empty for the built-in default.
    pub digest: String,
    pub signatures: SignaturesPolicy,
    pub secrets: SecretsPolicy,
    pub review: ReviewPolicy,
    pub refs: Vec<RefRule>,
    pub commit_message: CommitMessagePolicy,
    pub attestation: AttestationPolicy,
    pub server: ServerPolicy,
    /// Everything under `.vouch/` and the CODEOWNERS candidates, as read with the policy.
    pub files: PolicyFiles,
    /// Keys that are valid but that nothing enforces yet.
    pub warnings: Vec<PolicyWarning>,
}

impl Policy {
    /// Load the policy from a snapshot. `Ok(None)` when the snapshot has no policy file.
    pub fn load(files: PolicyFiles) -> Result<Option<Policy>, PolicyError> {
        let Some(bytes) = files.get(POLICY_PATH) else {
            return Ok(None);
        };
        let display = files.display(POLICY_PATH);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let text = String::from_utf8_lossy(bytes);
            PolicyError::invalid(
                Position::of(&display, &text, e.valid_up_to()),
                "the file is not UTF-8 text",
            )
            .with_hint("save the policy as UTF-8")
        })?;
        let digest = files.digest();
        let origin = Origin::File {
            origin: files.origin.clone(),
        };
        Policy::parse(text, &display, origin, digest, files.clone()).map(Some)
    }

    /// Parse and validate policy text. `display` names the file in errors.
    pub fn parse(
        text: &str,
        display: &str,
        origin: Origin,
        digest: String,
        files: PolicyFiles,
    ) -> Result<Policy, PolicyError> {
        let raw: PolicyFile = toml::from_str(text).map_err(|e| toml_error(&e, text, display))?;
        let v = Validator {
            text,
            file: display,
        };
        v.policy(raw, origin, digest, files)
    }

    /// The bootstrap policy for a repository with no policy at all: secret scanning only, so the
    /// push that adds the first policy can land. Every verdict under it says so.
    pub fn builtin() -> Policy {
        let mut policy = Policy::parse(
            "[signatures]\nrequired = false\n[attestation]\nenabled = false\n",
            "built-in default",
            Origin::BuiltIn,
            String::new(),
            PolicyFiles::new(""),
        )
        .unwrap_or_else(|_| unreachable_builtin());
        policy.origin = Origin::BuiltIn;
        policy
    }

    /// One line saying which policy judged, for every verdict.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::File { origin } if origin.is_empty() => POLICY_PATH.to_string(),
            Origin::File { origin } => format!("{origin}:{POLICY_PATH}"),
            Origin::DefaultBranch { origin, target } => format!(
                "{origin}:{POLICY_PATH} ({target} has no policy; the default branch's applies)"
            ),
            Origin::BuiltIn => {
                "built-in default (no .vouch/policy.toml on the target or default branch: secret scanning only; run `vouch init`)"
                    .to_string()
            }
        }
    }

    /// The protection rules that match `full_ref`, in file order.
    pub fn rules_for<'a>(&'a self, full_ref: &'a str) -> impl Iterator<Item = &'a RefRule> + 'a {
        self.refs.iter().filter(move |r| r.matches(full_ref))
    }
}

/// The built-in policy text is a constant this crate's tests parse; it cannot fail at run time.
#[allow(clippy::panic)]
fn unreachable_builtin() -> Policy {
    panic!("the built-in policy does not parse; this is a bug in vouch")
}

#[cfg(test)]
mod tests;

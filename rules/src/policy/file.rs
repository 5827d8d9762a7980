//! The raw policy file as TOML gives it: every section, every key, its documented default.
//!
//! These types only describe the file. [`super::Policy`] is built from them once, validated, and
//! is what checks read. Unknown keys are refused (`deny_unknown_fields`) so a typo never silently
//! weakens a policy.

use serde::Deserialize;
use toml::Spanned;

fn yes() -> bool {
    true
}

/// `.vouch/policy.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Schema version; only `1` exists.
    pub version: Option<Spanned<i64>>,
    #[serde(default)]
    pub signatures: SignaturesSection,
    #[serde(default)]
    pub secrets: SecretsSection,
    #[serde(default)]
    pub review: ReviewSection,
    /// `[[branch]]` protection rules, matched against `refs/heads/…`.
    #[serde(default)]
    pub branch: Vec<RefRuleSection>,
    /// `[[tag]]` protection rules, matched against `refs/tags/…`.
    #[serde(default)]
    pub tag: Vec<RefRuleSection>,
    #[serde(default)]
    pub commit_message: CommitMessageSection,
    #[serde(default)]
    pub attestation: Option<AttestationSection>,
    #[serde(default)]
    pub server: ServerSection,
}

/// `[signatures]`: which commits and tags must be signed, and by whom.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignaturesSection {
    /// Every pushed commit and annotated tag must carry a good signature from a trusted signer.
    #[serde(default = "yes")]
    pub required: bool,
    /// SSH signers, in git's allowed-signers format.
    #[serde(default = "default_allowed_signers")]
    pub allowed_signers: Spanned<String>,
    /// Folder of OpenPGP certificates (`*.asc`), one signer per file.
    #[serde(default = "default_keys_dir")]
    pub keys_dir: Spanned<String>,
    /// Also require the signer's identities to include the author e-mail (the committer's always must).
    #[serde(default)]
    pub require_author_identity: bool,
    /// Accept X.509 (gitsign, S/MIME) signatures as signed-but-unverifiable instead of failing.
    #[serde(default)]
    pub accept_x509: bool,
    /// Accept unsigned merge commits whose parents are all acceptable.
    #[serde(default)]
    pub allow_unsigned_merges: bool,
    /// Signers (by name in allowed_signers or key file stem) that are the forge itself, e.g. GitHub's
    /// `web-flow` key: their commits are trusted without matching the committer's identity.
    #[serde(default)]
    pub forge_signers: Vec<Spanned<String>>,
    /// Refuse keys older than this many days (by their creation or `valid-after` date).
    #[serde(default)]
    pub max_key_age_days: Option<Spanned<i64>>,
    /// Keys retired from use: signatures made before `since` stay valid.
    #[serde(default)]
    pub retired: Vec<RetiredKey>,
    /// Compromised key fingerprints: every signature by them fails, except on `exempt_commits`.
    #[serde(default)]
    pub compromised: Vec<Spanned<String>>,
    /// Known-good commit ids exempt from the compromised-key rule.
    #[serde(default)]
    pub exempt_commits: Vec<Spanned<String>>,
}

impl Default for SignaturesSection {
    fn default() -> Self {
        SignaturesSection {
            required: true,
            allowed_signers: default_allowed_signers(),
            keys_dir: default_keys_dir(),
            require_author_identity: false,
            accept_x509: false,
            allow_unsigned_merges: false,
            forge_signers: Vec::new(),
            max_key_age_days: None,
            retired: Vec::new(),
            compromised: Vec::new(),
            exempt_commits: Vec::new(),
        }
    }
}

fn default_allowed_signers() -> Spanned<String> {
    Spanned::new(0..0, ".vouch/allowed_signers".into())
}

fn default_keys_dir() -> Spanned<String> {
    Spanned::new(0..0, ".vouch/keys".into())
}

/// One `[[signatures.retired]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiredKey {
    /// Key fingerprint (`SHA256:…` for SSH, hex for OpenPGP).
    pub key: Spanned<String>,
    /// RFC 3339 date or time the key was retired.
    pub since: Spanned<String>,
}

/// `[secrets]`: secret scanning.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSection {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Extra rules, same format as the built-in ones.
    #[serde(default = "default_secret_rules")]
    pub rules_file: Spanned<String>,
    /// Accepted findings.
    #[serde(default = "default_baseline")]
    pub baseline: Spanned<String>,
    /// Honour `vouch:allow` / `vouch:allow-next-line` comments. Turn off in CI to audit them.
    #[serde(default = "yes")]
    pub inline_allow: bool,
    /// Files larger than this are not scanned; `oversize` says whether that fails the check.
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: Spanned<i64>,
    /// `fail` (the default) or `warn`: what a file over `max_file_bytes` does.
    #[serde(default = "default_oversize")]
    pub oversize: Spanned<String>,
    /// Path globs never scanned (e.g. test fixtures with fake keys).
    #[serde(default)]
    pub allow_paths: Vec<Spanned<String>>,
    /// Built-in or custom rule ids turned off.
    #[serde(default)]
    pub disable_rules: Vec<Spanned<String>>,
    /// Findings below this confidence are not reported: `low`, `medium` or `high`.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: Spanned<String>,
}

impl Default for SecretsSection {
    fn default() -> Self {
        SecretsSection {
            enabled: true,
            rules_file: default_secret_rules(),
            baseline: default_baseline(),
            inline_allow: true,
            max_file_bytes: default_max_file_bytes(),
            oversize: default_oversize(),
            allow_paths: Vec::new(),
            disable_rules: Vec::new(),
            min_confidence: default_min_confidence(),
        }
    }
}

fn default_secret_rules() -> Spanned<String> {
    Spanned::new(0..0, ".vouch/secrets.toml".into())
}

fn default_baseline() -> Spanned<String> {
    Spanned::new(0..0, ".vouch/baseline.json".into())
}

fn default_max_file_bytes() -> Spanned<i64> {
    Spanned::new(0..0, 256 * 1024 * 1024)
}

fn default_oversize() -> Spanned<String> {
    Spanned::new(0..0, "fail".into())
}

fn default_min_confidence() -> Spanned<String> {
    Spanned::new(0..0, "medium".into())
}

/// `[review]`: four-eyes review of pull requests (judged by the bot and `vouch review`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSection {
    /// Approvals needed from independent reviewers.
    #[serde(default = "default_required_approvals")]
    pub required_approvals: Spanned<i64>,
    /// Each owned path group needs an approval from one of its CODEOWNERS.
    #[serde(default = "yes")]
    pub require_code_owners: bool,
    /// Who is not independent of a change: any of `pr_author`, `authors`, `committers`,
    /// `co_authors`, `last_pusher`.
    #[serde(default = "default_not_independent")]
    pub not_independent: Vec<Spanned<String>>,
    /// Lowest repository permission an approver must hold: `read`, `triage`, `write`, `maintain`, `admin`.
    #[serde(default = "default_min_permission")]
    pub min_permission: Spanned<String>,
    /// A change request from a code owner blocks until it is dismissed or superseded by their approval.
    #[serde(default = "yes")]
    pub owner_change_request_blocks: bool,
    /// Approvals count only when left on the current head commit.
    #[serde(default = "yes")]
    pub current_head_only: bool,
    /// Bot identities whose verified commits (e.g. update merges) do not count against independence.
    #[serde(default)]
    pub bots: Vec<BotIdentity>,
}

impl Default for ReviewSection {
    fn default() -> Self {
        ReviewSection {
            required_approvals: default_required_approvals(),
            require_code_owners: true,
            not_independent: default_not_independent(),
            min_permission: default_min_permission(),
            owner_change_request_blocks: true,
            current_head_only: true,
            bots: Vec::new(),
        }
    }
}

fn default_required_approvals() -> Spanned<i64> {
    Spanned::new(0..0, 1)
}

fn default_not_independent() -> Vec<Spanned<String>> {
    [
        "pr_author",
        "authors",
        "committers",
        "co_authors",
        "last_pusher",
    ]
    .into_iter()
    .map(|s| Spanned::new(0..0, s.to_string()))
    .collect()
}

fn default_min_permission() -> Spanned<String> {
    Spanned::new(0..0, "write".into())
}

/// One `[[review.bots]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotIdentity {
    /// Forge login, e.g. `vouch-bot[bot]`.
    pub login: Spanned<String>,
    /// The signer (allowed_signers principal or key file stem) whose signature proves a commit is the bot's.
    pub signer: Spanned<String>,
}

/// One `[[branch]]` or `[[tag]]` rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefRuleSection {
    /// Glob over the short name (`main`, `release/*`, `v*`) or a full ref (`refs/heads/main`).
    /// `*` stays within one `/`-separated part, `**` crosses them.
    pub pattern: Spanned<String>,
    /// Allow deleting a matching ref.
    #[serde(default)]
    pub allow_deletion: bool,
    /// Branches: allow non-fast-forward pushes. Tags: allow moving an existing tag.
    #[serde(default)]
    pub allow_force_push: bool,
    /// Branches only: changes must arrive through a reviewed merge; only `push_allow` may push directly.
    /// Default on for branches.
    pub require_review: Option<Spanned<bool>>,
    /// Identities (pusher names as the server reports them) allowed to push directly, e.g. the merge bot.
    /// For tags: who may create matching tags (empty = anyone).
    #[serde(default)]
    pub push_allow: Vec<Spanned<String>>,
    /// Branches only: check names that must pass on the forge before merging (the bot enforces them).
    #[serde(default)]
    pub required_checks: Vec<Spanned<String>>,
}

/// `[commit_message]`: rules the commit-msg hook and the server apply to messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitMessageSection {
    /// Require a `Signed-off-by:` trailer matching the author (Developer Certificate of Origin).
    #[serde(default)]
    pub require_signoff: bool,
    /// Longest subject line allowed, in characters.
    pub max_subject_length: Option<Spanned<i64>>,
    /// Refuse `fixup!` / `squash!` commits on protected branches.
    #[serde(default)]
    pub forbid_autosquash: bool,
}

/// `[attestation]`: the signed in-toto statement vouch writes for each merge it makes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationSection {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where attestations are stored, as git notes.
    #[serde(default = "default_notes_ref")]
    pub notes_ref: Spanned<String>,
    /// Identifier of the verifier that signs attestations (a URI), e.g. `https://git.example.com/vouch`.
    pub verifier_id: Option<Spanned<String>>,
    /// Signers trusted to sign attestations: principals of `allowed_signers` lines holding an
    /// Ed25519 or ECDSA P-256 key.
    #[serde(default)]
    pub trusted_verifiers: Vec<Spanned<String>>,
    /// When vouch makes the signed merge: `on-approval`, `merge-queue` (the bot) or `off`.
    #[serde(default = "default_merge")]
    pub merge: Spanned<String>,
    /// Verifier keys retired from use: attestations verified before `since` stay valid.
    #[serde(default)]
    pub retired: Vec<RetiredKey>,
    /// Compromised verifier key fingerprints: every attestation by them fails, except on
    /// `exempt_commits`.
    #[serde(default)]
    pub compromised: Vec<Spanned<String>>,
    /// Known-good merge commit ids whose attestations by a compromised key still count.
    #[serde(default)]
    pub exempt_commits: Vec<Spanned<String>>,
}

impl Default for AttestationSection {
    fn default() -> Self {
        AttestationSection {
            enabled: true,
            notes_ref: default_notes_ref(),
            verifier_id: None,
            trusted_verifiers: Vec::new(),
            merge: default_merge(),
            retired: Vec::new(),
            compromised: Vec::new(),
            exempt_commits: Vec::new(),
        }
    }
}

fn default_merge() -> Spanned<String> {
    Spanned::new(0..0, "on-approval".into())
}

fn default_notes_ref() -> Spanned<String> {
    Spanned::new(0..0, "refs/notes/vouch".into())
}

/// `[server]`: how the server hook learns who is pushing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// An environment variable to read the pusher's identity from, tried before the built-in ones
    /// (`GL_USERNAME`, `GITHUB_USER_LOGIN`, `GITEA_PUSHER_NAME`, `REMOTE_USER`).
    pub pusher_env: Option<Spanned<String>>,
}

//! The policy: `.vouch/policy.toml` parsed, validated once, plus the files it points at.
//!
//! Loading goes in two stages: [`file::PolicyFile`] is the TOML as written; [`Policy`] is the
//! validated form every check reads. Every error names file, line and column and says how to fix it.

pub mod error;
pub mod file;
pub mod pattern;
pub mod resolve;
pub mod source;

pub use error::{PolicyError, Position};
pub use pattern::Glob;
pub use source::{PolicyFiles, CODEOWNERS_PATHS, POLICY_PATH, VOUCH_DIR};

use file::{PolicyFile, RefRuleSection};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use toml::Spanned;

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

/// `[secrets]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretsPolicy {
    pub enabled: bool,
    pub rules_file: String,
    pub baseline: String,
    pub inline_allow: bool,
    pub max_file_bytes: u64,
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

/// `[attestation]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationPolicy {
    pub enabled: bool,
    pub notes_ref: String,
    pub verifier_id: Option<String>,
    pub trusted_verifiers: Vec<String>,
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
    /// The policy file's bytes' SHA-256, hex; empty for the built-in default.
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
        let digest = hex::encode(Sha256::digest(bytes));
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

fn toml_error(e: &toml::de::Error, text: &str, file: &str) -> PolicyError {
    let offset = e.span().map_or(0, |s| s.start);
    let at = Position::of(file, text, offset);
    let message = e.message().trim().to_string();
    let mut err = PolicyError::invalid(at, message.clone());
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((unknown, expected)) = rest.split_once('`') {
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            err = PolicyError::invalid(
                Position::of(file, text, offset),
                format!("unknown key `{unknown}`"),
            );
            err = match error::did_you_mean(unknown, candidates.iter().copied()) {
                Some(best) => err.with_hint(format!("did you mean `{best}`?")),
                None => err.with_hint(format!("known keys here: {}", candidates.join(", "))),
            };
        }
    }
    err
}

struct Validator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Validator<'_> {
    fn at<T>(&self, value: &Spanned<T>) -> Position {
        Position::of(self.file, self.text, value.span().start)
    }

    fn bad<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> PolicyError {
        PolicyError::invalid(self.at(value), message)
    }

    fn count(&self, value: &Spanned<i64>, key: &str, max: i64) -> Result<u32, PolicyError> {
        let n = *value.get_ref();
        if !(0..=max).contains(&n) {
            return Err(self.bad(
                value,
                format!("`{key}` must be between 0 and {max}, not {n}"),
            ));
        }
        Ok(n as u32)
    }

    fn strings(&self, values: Vec<Spanned<String>>, key: &str) -> Result<Vec<String>, PolicyError> {
        values
            .into_iter()
            .map(|v| {
                if v.get_ref().trim().is_empty() {
                    Err(self.bad(&v, format!("`{key}` has an empty entry")))
                } else {
                    Ok(v.into_inner())
                }
            })
            .collect()
    }

    fn policy(
        &self,
        raw: PolicyFile,
        origin: Origin,
        digest: String,
        files: PolicyFiles,
    ) -> Result<Policy, PolicyError> {
        if let Some(version) = &raw.version {
            if *version.get_ref() != 1 {
                return Err(self
                    .bad(
                        version,
                        format!("unsupported policy version {}", version.get_ref()),
                    )
                    .with_hint(
                        "this vouch understands `version = 1`; upgrade vouch for newer policies",
                    ));
            }
        }
        let s = raw.signatures;
        let mut retired = Vec::new();
        for r in s.retired {
            let Some(time) = parse_time(r.since.get_ref()) else {
                return Err(self
                    .bad(
                        &r.since,
                        format!("`since` is not a date: {:?}", r.since.get_ref()),
                    )
                    .with_hint(
                        "write an RFC 3339 date such as \"2026-01-31\" or \"2026-01-31T12:00:00Z\"",
                    ));
            };
            retired.push((r.key.into_inner(), time));
        }
        let signatures = SignaturesPolicy {
            required: s.required,
            allowed_signers: s.allowed_signers.into_inner(),
            keys_dir: s.keys_dir.into_inner().trim_end_matches('/').to_string(),
            require_author_identity: s.require_author_identity,
            accept_x509: s.accept_x509,
            allow_unsigned_merges: s.allow_unsigned_merges,
            forge_signers: self.strings(s.forge_signers, "forge_signers")?,
            max_key_age_days: match &s.max_key_age_days {
                Some(v) => Some(self.count(v, "max_key_age_days", 100_000)?),
                None => None,
            },
            retired,
            compromised: self.strings(s.compromised, "compromised")?,
            exempt_commits: self.commit_ids(s.exempt_commits)?,
        };

        let sec = raw.secrets;
        let max_file_bytes = *sec.max_file_bytes.get_ref();
        if max_file_bytes <= 0 {
            return Err(self.bad(&sec.max_file_bytes, "`max_file_bytes` must be positive"));
        }
        let min_confidence = Confidence::parse(sec.min_confidence.get_ref()).ok_or_else(|| {
            self.bad(
                &sec.min_confidence,
                format!("unknown confidence {:?}", sec.min_confidence.get_ref()),
            )
            .with_hint("use \"low\", \"medium\" or \"high\"")
        })?;
        let mut allow_paths = Vec::new();
        for p in &sec.allow_paths {
            allow_paths
                .push(Glob::new(p.get_ref()).map_err(|e| {
                    self.bad(p, format!("bad path pattern {:?}: {e}", p.get_ref()))
                })?);
        }
        let secrets = SecretsPolicy {
            enabled: sec.enabled,
            rules_file: sec.rules_file.into_inner(),
            baseline: sec.baseline.into_inner(),
            inline_allow: sec.inline_allow,
            max_file_bytes: max_file_bytes as u64,
            allow_paths,
            disable_rules: self.strings(sec.disable_rules, "disable_rules")?,
            min_confidence,
        };

        let r = raw.review;
        let mut not_independent = BTreeSet::new();
        for item in &r.not_independent {
            let found = Involvement::ALL
                .iter()
                .find(|(name, _)| name == item.get_ref());
            match found {
                Some((_, inv)) => {
                    not_independent.insert(*inv);
                }
                None => {
                    let names = Involvement::ALL.map(|(n, _)| n);
                    let mut err = self.bad(
                        item,
                        format!("unknown role {:?} in `not_independent`", item.get_ref()),
                    );
                    err = match error::did_you_mean(item.get_ref(), names) {
                        Some(best) => err.with_hint(format!("did you mean \"{best}\"?")),
                        None => err.with_hint(format!("use any of: {}", names.join(", "))),
                    };
                    return Err(err);
                }
            }
        }
        let min_permission = Permission::parse(r.min_permission.get_ref()).ok_or_else(|| {
            self.bad(
                &r.min_permission,
                format!("unknown permission {:?}", r.min_permission.get_ref()),
            )
            .with_hint("use \"read\", \"triage\", \"write\", \"maintain\" or \"admin\"")
        })?;
        let mut bots = Vec::new();
        for b in r.bots {
            if b.login.get_ref().trim().is_empty() {
                return Err(self.bad(&b.login, "a bot needs a `login`"));
            }
            bots.push(Bot {
                login: b.login.into_inner(),
                signer: b.signer.into_inner(),
            });
        }
        let review = ReviewPolicy {
            required_approvals: self.count(&r.required_approvals, "required_approvals", 100)?,
            require_code_owners: r.require_code_owners,
            not_independent,
            min_permission,
            owner_change_request_blocks: r.owner_change_request_blocks,
            current_head_only: r.current_head_only,
            bots,
        };

        let mut refs = Vec::new();
        for rule in raw.branch {
            refs.push(self.ref_rule(rule, RefKind::Branch)?);
        }
        for rule in raw.tag {
            refs.push(self.ref_rule(rule, RefKind::Tag)?);
        }

        let cm = raw.commit_message;
        let commit_message = CommitMessagePolicy {
            require_signoff: cm.require_signoff,
            max_subject_length: match &cm.max_subject_length {
                Some(v) => Some(self.count(v, "max_subject_length", 10_000)? as usize),
                None => None,
            },
            forbid_autosquash: cm.forbid_autosquash,
        };

        let a = raw.attestation;
        if !a.notes_ref.get_ref().starts_with("refs/notes/") {
            return Err(self
                .bad(
                    &a.notes_ref,
                    format!(
                        "`notes_ref` {:?} is not under refs/notes/",
                        a.notes_ref.get_ref()
                    ),
                )
                .with_hint("use a ref such as \"refs/notes/vouch\""));
        }
        let attestation = AttestationPolicy {
            enabled: a.enabled,
            notes_ref: a.notes_ref.into_inner(),
            verifier_id: a.verifier_id.map(Spanned::into_inner),
            trusted_verifiers: self.strings(a.trusted_verifiers, "trusted_verifiers")?,
        };

        let server = ServerPolicy {
            pusher_env: match raw.server.pusher_env {
                Some(v) if v.get_ref().is_empty() || v.get_ref().contains('=') => {
                    return Err(self.bad(&v, "`pusher_env` must be an environment variable name"));
                }
                Some(v) => Some(v.into_inner()),
                None => None,
            },
        };

        Ok(Policy {
            origin,
            digest,
            signatures,
            secrets,
            review,
            refs,
            commit_message,
            attestation,
            server,
            files,
        })
    }

    fn commit_ids(&self, values: Vec<Spanned<String>>) -> Result<Vec<String>, PolicyError> {
        values
            .into_iter()
            .map(|v| {
                let id = v.get_ref();
                if (id.len() == 40 || id.len() == 64) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(id.to_ascii_lowercase())
                } else {
                    Err(self
                        .bad(&v, format!("{id:?} is not a full commit id"))
                        .with_hint("write the whole 40-hex-digit id (`git rev-parse <commit>`)"))
                }
            })
            .collect()
    }

    fn ref_rule(&self, rule: RefRuleSection, kind: RefKind) -> Result<RefRule, PolicyError> {
        let table = match kind {
            RefKind::Branch => "[[branch]]",
            RefKind::Tag => "[[tag]]",
        };
        let written = rule.pattern.get_ref().trim().to_string();
        if written.is_empty() {
            return Err(self
                .bad(&rule.pattern, format!("{table} pattern is empty"))
                .with_hint("name a branch or tag, e.g. \"main\" or \"release/*\""));
        }
        let prefix = match kind {
            RefKind::Branch => "refs/heads/",
            RefKind::Tag => "refs/tags/",
        };
        let full = if written.starts_with("refs/") {
            if !written.starts_with(prefix) {
                return Err(self
                    .bad(
                        &rule.pattern,
                        format!("{table} pattern {written:?} is not under {prefix}"),
                    )
                    .with_hint(format!(
                        "write the short name, or a full ref under {prefix}"
                    )));
            }
            written.clone()
        } else {
            format!("{prefix}{written}")
        };
        let pattern = Glob::new(&full).map_err(|e| {
            self.bad(
                &rule.pattern,
                format!("bad {table} pattern {written:?}: {e}"),
            )
        })?;
        if kind == RefKind::Tag {
            if let Some(v) = &rule.require_review {
                return Err(self
                    .bad(v, "`require_review` applies to [[branch]] rules only")
                    .with_hint("remove it; tags are protected by `allow_force_push`, `allow_deletion` and `push_allow`"));
            }
            if let Some(first) = rule.required_checks.first() {
                return Err(self.bad(first, "`required_checks` applies to [[branch]] rules only"));
            }
        }
        let at = self.at(&rule.pattern);
        Ok(RefRule {
            kind,
            pattern,
            written,
            defined_at: format!("{}:{}", at.file, at.line),
            allow_deletion: rule.allow_deletion,
            allow_force_push: rule.allow_force_push,
            require_review: kind == RefKind::Branch
                && rule.require_review.as_ref().is_none_or(|v| *v.get_ref()),
            push_allow: self.strings(rule.push_allow, "push_allow")?,
            required_checks: self.strings(rule.required_checks, "required_checks")?,
        })
    }
}

/// Parse an RFC 3339 date (`2026-01-31`) or date-time (`2026-01-31T12:00:00Z`, `…+02:00`) to Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut seconds = days_from_civil(y, m, day) * 86_400;
    if let Some(rest) = rest {
        let (clock, offset) = if let Some(stripped) = rest.strip_suffix(['Z', 'z']) {
            (stripped, 0)
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
            let (oh, om) = rest[i + 1..].split_once(':')?;
            (
                &rest[..i],
                sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
            )
        } else {
            return None;
        };
        let mut c = clock.split(':');
        let h: i64 = c.next()?.parse().ok()?;
        let mi: i64 = c.next()?.parse().ok()?;
        let s: f64 = c.next().unwrap_or("0").parse().ok()?;
        if h > 23 || mi > 59 || !(0.0..61.0).contains(&s) {
            return None;
        }
        seconds += h * 3600 + mi * 60 + s as i64 - offset;
    }
    Some(seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;

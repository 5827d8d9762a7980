//! Secret scanning: rules as data, a keyword-prefiltered engine over raw bytes, and the
//! `secrets` check that judges staged changes and pushed commits.
//!
//! * [`rule`]: the rule format (built-in families and `.vouch/secrets.toml`), validated once.
//! * [`engine`]: the [`Scanner`] — one prefilter over every keyword; a rule's pattern runs only
//!   around a hit (a cheap precheck first) and compiles on first use; entropy, checksums,
//!   placeholders; streams.
//! * [`history`]: the secrets each commit of a range added, each distinct blob scanned once.
//! * [`baseline`] and inline `vouch:allow` comments: living with accepted findings.
//! * [`report`]: matches become findings with redacted values and stable fingerprints.
//!
//! ```
//! use vouch_rules::policy::Policy;
//! let scanner = vouch_rules::secrets::load(&Policy::builtin())?;
//! let text = b"no credentials here\n";
//! assert!(scanner.scan_bytes(text, 1).matches.is_empty());
//! # Ok::<(), vouch_rules::PolicyError>(())
//! ```

pub mod baseline;
pub mod builtin;
mod check;
pub mod confidence;
pub mod engine;
mod grams;
pub mod history;
mod parse;
mod precheck;
pub mod report;
pub mod rule;
pub mod validate;

pub use baseline::Baseline;
pub use check::{scan_file_change, Secrets};
pub use engine::{FileScan, Scan, Scanner, SecretMatch, Settings};
pub use report::{Allowed, Located};
pub use rule::Rule;

use crate::policy::{error::did_you_mean, Policy, PolicyError, Position, POLICY_PATH};
use rule::{parse_rules, Compile};
use std::collections::HashSet;
use std::sync::Arc;

/// The default places of the custom rules and the baseline.
const DEFAULT_RULES_FILE: &str = ".vouch/secrets.toml";
const DEFAULT_BASELINE: &str = ".vouch/baseline.json";

/// The built-in rules plus the policy's custom rules (`.vouch/secrets.toml`, read from the
/// policy's snapshot), compiled into a scanner with the policy's settings.
pub fn load(policy: &Policy) -> Result<Scanner, PolicyError> {
    let rules = all_rules(policy)?;
    Scanner::new(rules, Settings::from_policy(&policy.secrets)).map_err(|reason| {
        PolicyError::Unreadable {
            file: "secret rules".into(),
            reason,
        }
    })
}

/// Every rule the policy knows, built-in then custom, before `disable_rules` and
/// `min_confidence` apply (for `vouch rules list`).
pub fn all_rules(policy: &Policy) -> Result<Vec<Arc<Rule>>, PolicyError> {
    let builtin = builtin::rules()?;
    let mut taken: HashSet<String> = builtin.iter().map(|r| r.id.clone()).collect();
    let mut rules: Vec<Arc<Rule>> = builtin.to_vec();
    let rules_file = policy.secrets.rules_file.as_str();
    match policy.files.get(rules_file) {
        Some(bytes) => {
            let display = policy.files.display(rules_file);
            let text = utf8(bytes, &display)?;
            rules.extend(
                parse_rules(text, &display, &mut taken, Compile::Now)?
                    .into_iter()
                    .map(Arc::new),
            );
        }
        None if rules_file != DEFAULT_RULES_FILE => {
            return Err(policy_error(
                policy,
                rules_file,
                format!("`rules_file` {rules_file:?} does not exist"),
            )
            .with_hint("point `rules_file` at a file under .vouch/, or remove the key"));
        }
        None => {}
    }
    for id in &policy.secrets.disable_rules {
        let bare = id.strip_prefix("secrets.").unwrap_or(id);
        if !taken.contains(bare) {
            let mut err = policy_error(
                policy,
                id,
                format!("`disable_rules` names unknown rule {id:?}"),
            );
            err = match did_you_mean(bare, taken.iter().map(String::as_str)) {
                Some(best) => err.with_hint(format!("did you mean \"{best}\"?")),
                None => err.with_hint("`vouch rules list` shows every rule id"),
            };
            return Err(err);
        }
    }
    Ok(rules)
}

/// The policy's baseline (`.vouch/baseline.json` in its snapshot); empty when there is none.
pub fn load_baseline(policy: &Policy) -> Result<Baseline, PolicyError> {
    let path = policy.secrets.baseline.as_str();
    match policy.files.get(path) {
        Some(bytes) => Baseline::parse(bytes, &policy.files.display(path)),
        None if path != DEFAULT_BASELINE => {
            Err(
                policy_error(policy, path, format!("`baseline` {path:?} does not exist"))
                    .with_hint("create it with `vouch baseline create`, or remove the key"),
            )
        }
        None => Ok(Baseline::default()),
    }
}

/// The verdict of a scan outside a change (`vouch scan`): the matches judged against the
/// baseline and inline allows, plus what could not be scanned, under `policy`.
pub fn scan_verdict(
    policy: &Policy,
    found: Vec<Located>,
    other: Vec<crate::finding::Finding>,
    baseline: &Baseline,
    allowed: Allowed,
    judged_at: i64,
) -> crate::Verdict {
    let mut all = report::findings(found, baseline, allowed);
    all.extend(other);
    let source = crate::verdict::PolicySource {
        source: policy.describe(),
        digest: policy.digest.clone(),
    };
    let mut verdict = crate::Verdict::new(source, judged_at, crate::change::Clock::PushTime);
    verdict.push(crate::CheckOutcome::ran("secrets", all));
    verdict
}

/// A file that could not be read, so was not scanned: an error, since a secret could hide in it.
pub fn unreadable(path: Option<String>, reason: &str) -> crate::finding::Finding {
    let f = crate::finding::Finding::error(
        "secrets.unreadable",
        format!("could not be read, so not scanned: {reason}"),
    )
    .hint("fix the file's permissions, or exempt it with `allow_paths` in [secrets]");
    match path {
        Some(p) => f.at(crate::finding::Location::file(p, None)),
        None => f,
    }
}

fn utf8<'a>(bytes: &'a [u8], display: &str) -> Result<&'a str, PolicyError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(bytes);
        PolicyError::invalid(
            Position::of(display, &text, e.valid_up_to()),
            "the file is not UTF-8 text",
        )
        .with_hint("save the file as UTF-8")
    })
}

/// An error about a value written in the policy file, pointing at where `needle` appears.
fn policy_error(policy: &Policy, needle: &str, message: String) -> PolicyError {
    let display = policy.files.display(POLICY_PATH);
    let text = policy
        .files
        .get(POLICY_PATH)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let offset = text.find(&format!("\"{needle}\"")).unwrap_or(0);
    PolicyError::invalid(Position::of(&display, &text, offset), message)
}

/// One failed expectation of `vouch rules test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTestFailure {
    pub rule: String,
    pub defined_at: String,
    pub what: String,
}

/// Run every rule's examples (each must produce a finding of that rule) and negatives (none may).
pub fn test_rules(rules: &[Arc<Rule>]) -> Vec<RuleTestFailure> {
    let mut failures = Vec::new();
    let scanner = match Scanner::new(rules.to_vec(), Settings::everything()) {
        Ok(s) => s,
        Err(e) => {
            failures.push(RuleTestFailure {
                rule: "*".into(),
                defined_at: String::new(),
                what: e,
            });
            return failures;
        }
    };
    for rule in rules {
        let fail = |what: String| RuleTestFailure {
            rule: rule.id.clone(),
            defined_at: rule.defined_at.clone(),
            what,
        };
        if let Err(e) = rule.regex() {
            failures.push(fail(format!("the regex does not compile: {e}")));
            continue;
        }
        for (i, example) in rule.examples.iter().enumerate() {
            let scan = scanner.scan_bytes(example.as_bytes(), 1);
            if !scan.matches.iter().any(|m| m.rule.id == rule.id) {
                failures.push(fail(format!(
                    "example {} produced no finding: {}",
                    i + 1,
                    engine::redact(example.as_bytes())
                )));
            }
        }
        for (i, negative) in rule.negatives.iter().enumerate() {
            let scan = scanner.scan_bytes(negative.as_bytes(), 1);
            if let Some(m) = scan.matches.iter().find(|m| m.rule.id == rule.id) {
                failures.push(fail(format!(
                    "negative {} produced a finding ({})",
                    i + 1,
                    m.redacted()
                )));
            }
        }
    }
    failures
}

/// Parse a rule file for `vouch rules test FILE` (patterns compiled now).
pub fn parse_file(text: &str, display: &str) -> Result<Vec<Arc<Rule>>, PolicyError> {
    let mut taken = HashSet::new();
    Ok(parse_rules(text, display, &mut taken, Compile::Now)?
        .into_iter()
        .map(Arc::new)
        .collect())
}

#[cfg(test)]
mod tests;

//! The built-in rules: one TOML file per provider family, embedded in the binary and parsed once
//! per process. Their patterns compile lazily; CI runs every rule's examples (`vouch rules test`).

use super::rule::{parse_rules, Compile, Rule};
use crate::policy::PolicyError;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

/// The family files, in the order `vouch rules list` shows them.
pub const FAMILIES: [(&str, &str); 11] = [
    ("cloud.toml", include_str!("rules/cloud.toml")),
    ("vcs.toml", include_str!("rules/vcs.toml")),
    ("ci.toml", include_str!("rules/ci.toml")),
    ("payment.toml", include_str!("rules/payment.toml")),
    ("messaging.toml", include_str!("rules/messaging.toml")),
    ("ai.toml", include_str!("rules/ai.toml")),
    ("database.toml", include_str!("rules/database.toml")),
    ("registry.toml", include_str!("rules/registry.toml")),
    ("keys.toml", include_str!("rules/keys.toml")),
    ("saas.toml", include_str!("rules/saas.toml")),
    ("generic.toml", include_str!("rules/generic.toml")),
];

/// How built-in rule files are named in messages.
pub fn display(family: &str) -> String {
    format!("built-in rules/{family}")
}

/// Parse every built-in family (lazily compiled patterns).
pub fn parse(compile: Compile) -> Result<Vec<Rule>, PolicyError> {
    let mut taken = HashSet::new();
    let mut rules = Vec::new();
    for (name, text) in FAMILIES {
        rules.extend(parse_rules(text, &display(name), &mut taken, compile)?);
    }
    Ok(rules)
}

/// The built-in rules, parsed on first use and shared by every scanner in the process (so a
/// pattern compiled for one scan is compiled for all).
pub fn rules() -> Result<&'static [Arc<Rule>], PolicyError> {
    static RULES: OnceLock<Result<Vec<Arc<Rule>>, PolicyError>> = OnceLock::new();
    RULES
        .get_or_init(|| Ok(parse(Compile::Lazily)?.into_iter().map(Arc::new).collect()))
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

//! The built-in rules: one TOML file per provider family. `build.rs` turns them into a static
//! table so a hook pays no parsing at start-up; the TOML itself is embedded too, for
//! `vouch rules list|test`, which parse and validate it fully (CI runs every rule's examples).
//! Patterns compile lazily, on a rule's first keyword hit.

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

/// One built-in rule as `build.rs` extracted it from its family file (examples left out).
#[derive(Debug)]
pub(super) struct BuiltinDef {
    pub family: &'static str,
    pub line: usize,
    pub id: &'static str,
    pub description: &'static str,
    pub provider: &'static str,
    pub keywords: &'static [&'static str],
    pub pattern: &'static str,
    pub entropy: Option<f64>,
    pub checksum: Option<&'static str>,
    pub confidence: &'static str,
    pub multiline: bool,
    pub random: bool,
}

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The built-in rules, built from the static table on first use and shared by every scanner in
/// the process (so a pattern compiled for one scan is compiled for all).
pub fn rules() -> Result<&'static [Arc<Rule>], PolicyError> {
    static RULES: OnceLock<Result<Vec<Arc<Rule>>, PolicyError>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            BUILTIN
                .iter()
                .map(|def| Rule::from_builtin(def, &display(def.family)).map(Arc::new))
                .collect()
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

#[cfg(test)]
mod table_tests {
    use super::*;

    /// The build-time table says exactly what the TOML files say.
    #[test]
    fn table_matches_the_rule_files() {
        let parsed = parse(Compile::Lazily).unwrap();
        let table = rules().unwrap();
        assert_eq!(
            parsed.len(),
            table.len(),
            "every rule in the files is in the table"
        );
        for (p, t) in parsed.iter().zip(table) {
            assert_eq!(p.id, t.id);
            assert_eq!(p.description, t.description, "{}", p.id);
            assert_eq!(p.provider, t.provider, "{}", p.id);
            assert_eq!(p.keywords, t.keywords, "{}", p.id);
            assert_eq!(p.pattern, t.pattern, "{}", p.id);
            assert_eq!(p.entropy, t.entropy, "{}", p.id);
            assert_eq!(p.checksum, t.checksum, "{}", p.id);
            assert_eq!(p.confidence, t.confidence, "{}", p.id);
            assert_eq!((p.multiline, p.random), (t.multiline, t.random), "{}", p.id);
            assert_eq!(
                p.defined_at.split(':').next(),
                t.defined_at.split(':').next()
            );
        }
    }
}

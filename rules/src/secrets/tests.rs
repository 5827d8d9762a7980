//! Unit tests of the engine: built-in rules' own examples, windows, streaming, allows, redaction.

use super::*;

#[test]
fn builtin_rules_pass_their_examples() {
    let rules = builtin::parse(rule::Compile::Now).unwrap();
    let rules: Vec<Arc<Rule>> = rules.into_iter().map(Arc::new).collect();
    let failures = test_rules(&rules);
    assert!(failures.is_empty(), "{failures:#?}");
}

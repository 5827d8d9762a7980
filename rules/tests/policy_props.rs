//! The policy parser never panics: arbitrary text gives a policy or an error with a position
//! inside the text.

use proptest::prelude::*;
use vouch_rules::policy::{Origin, Policy, PolicyError, PolicyFiles};

fn parse(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(
        text,
        "p.toml",
        Origin::BuiltIn,
        String::new(),
        PolicyFiles::new(""),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        if let Err(PolicyError::Invalid { at, .. }) = parse(&text) {
            prop_assert!(at.line >= 1 && at.line <= text.lines().count().max(1) + 1);
        }
    }

    #[test]
    fn policy_shaped_text_never_panics(
        table in prop::sample::select(vec!["[signatures]", "[secrets]", "[review]", "[[branch]]", "[[tag]]", "[commit_message]", "[attestation]", "[server]", "[[signatures.retired]]", "[[review.bots]]"]),
        key in "[a-z_]{1,20}",
        value in prop::sample::select(vec!["true", "1", "-5", "\"main\"", "\"\"", "[\"a\", \"b\"]", "[]", "{}", "\"refs/heads/x\"", "\"**\"", "\"[a]\"", "99999999999"]),
    ) {
        let _ = parse(&format!("{table}\n{key} = {value}\n"));
        let _ = parse(&format!("{table}\npattern = {value}\n"));
    }
}

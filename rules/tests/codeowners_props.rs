//! Property tests: parsing and matching never panic, and the index never changes an answer.

use proptest::prelude::*;
use vouch_rules::codeowners::{CodeOwners, Pattern};

fn pattern_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-c*?/\\!#\[\] .é]{0,12}").expect("valid regex")
}

fn path_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-c./é*?#]{0,16}").expect("valid regex")
}

proptest! {
    #[test]
    fn patterns_never_panic(pattern in pattern_text(), path in path_text()) {
        if let Ok(p) = Pattern::new(&pattern) {
            let _ = p.matches(&path);
        }
    }

    #[test]
    fn files_never_panic(text in "\\PC{0,200}", path in "\\PC{0,40}") {
        let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", &text);
        let _ = file.decide(&path);
    }

    #[test]
    fn index_agrees_with_linear_scan(
        lines in proptest::collection::vec(pattern_text(), 1..12),
        path in path_text(),
    ) {
        let text: String = lines.iter().map(|l| format!("{l} @o\n")).collect();
        let file = CodeOwners::parse("CODEOWNERS", "CODEOWNERS", &text);
        let linear = file.rules().iter().rev().find(|r| r.matches(&path)).map(|r| r.line);
        prop_assert_eq!(file.decide(&path).map(|d| d.rule.line), linear);
    }
}

use super::*;
use crate::{CheckOutcome, Finding, Location, Verdict};

fn verdict() -> Verdict {
    let source = crate::PolicySource {
        source: "refs/heads/main:.vouch/policy.toml".into(),
        digest: String::new(),
    };
    let mut v = Verdict::new(source, 0, crate::change::Clock::PushTime);
    v.push(CheckOutcome::ran(
        "protection",
        vec![
            Finding::error("protection.force-push", "evil\u{1b}[2J name | <b>x</b>")
                .at(Location::file("dir/fi\u{202e}le", Some(7)).with_ref("refs/heads/main"))
                .hint("do `this`"),
        ],
    ));
    v.push(CheckOutcome::skipped("review", "needs a pull request"));
    v
}

#[test]
fn text_escapes_untrusted_text_and_colours_only_when_asked() {
    let plain = to_text(&verdict(), TextOptions::default());
    assert!(plain.contains("evil\\u{1b}[2J"), "{plain}");
    assert!(plain.contains("fi\\u{202e}le:7"), "{plain}");
    assert!(
        !plain.contains('\u{1b}'),
        "no raw escape may reach the terminal"
    );
    assert!(plain.contains("fix: do `this`"));
    assert!(plain.contains("vouch: failed (1 error, 0 warnings)"));
    assert!(
        !plain.contains("review"),
        "passing and skipped checks are listed only when verbose"
    );
    let verbose = to_text(
        &verdict(),
        TextOptions {
            color: false,
            verbose: true,
        },
    );
    assert!(verbose.contains("skip review: needs a pull request"));
    let coloured = to_text(
        &verdict(),
        TextOptions {
            color: true,
            verbose: false,
        },
    );
    assert!(coloured.contains("\u{1b}[1;31merror\u{1b}[0m"));
}

#[test]
fn markdown_cannot_be_broken_out_of() {
    let md = to_markdown(&verdict());
    assert!(md.starts_with("## ❌ vouch: failed"));
    assert!(md.contains("\\| \\<b\\>x\\</b\\>"), "{md}");
    assert!(
        md.contains("| review | ➖ skipped | needs a pull request |"),
        "{md}"
    );
}

#[test]
fn sarif_levels_and_locations() {
    let sarif: serde_json::Value = serde_json::from_str(&to_sarif(&verdict())).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["level"], "error");
    assert_eq!(result["ruleId"], "protection.force-push");
    let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert_eq!(uri, "dir/fi%E2%80%AEle");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
}

use super::*;

fn parse(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(
        text,
        ".vouch/policy.toml",
        Origin::BuiltIn,
        String::new(),
        PolicyFiles::new(""),
    )
}

fn invalid(text: &str) -> (usize, usize, String, Option<String>) {
    match parse(text) {
        Err(PolicyError::Invalid { at, message, hint }) => (at.line, at.column, message, hint),
        other => panic!("expected an invalid-policy error, got {other:?}"),
    }
}

#[test]
fn default_policy_parses_with_documented_defaults() {
    let p = parse(DEFAULT_POLICY_TOML).unwrap();
    let empty = parse("").unwrap();
    assert_eq!(p.signatures, empty.signatures);
    assert_eq!(p.secrets, empty.secrets);
    assert_eq!(p.review, empty.review);
    assert_eq!(p.commit_message, empty.commit_message);
    assert_eq!(p.attestation, empty.attestation);
    assert_eq!(p.refs.len(), 2);
    assert!(p.refs[0].require_review);
    assert!(!p.refs[1].require_review);
    assert!(p.rules_for("refs/heads/main").next().is_some());
    assert!(p.rules_for("refs/tags/v1.0").next().is_some());
    assert!(p.rules_for("refs/heads/feature").next().is_none());
}

#[test]
fn builtin_is_bootstrap_only() {
    let p = Policy::builtin();
    assert!(!p.signatures.required);
    assert!(p.secrets.enabled);
    assert!(p.refs.is_empty());
    assert!(p.describe().contains("built-in default"));
}

#[test]
fn unknown_key_names_line_column_and_suggestion() {
    let (line, column, message, hint) = invalid("version = 1\n\n[signatures]\nrequird = true\n");
    assert_eq!((line, column), (4, 1));
    assert_eq!(message, "unknown key `requird`");
    assert_eq!(hint.as_deref(), Some("did you mean `required`?"));
}

#[test]
fn unknown_table_gets_suggestion() {
    let (line, _, message, hint) = invalid("[signatrues]\nrequired = true\n");
    assert_eq!(line, 1);
    assert!(message.contains("signatrues"), "{message}");
    assert_eq!(hint.as_deref(), Some("did you mean `signatures`?"));
}

#[test]
fn bad_values_name_their_position() {
    let cases = [
        (
            "[secrets]\nmin_confidence = \"extreme\"\n",
            2,
            "unknown confidence",
        ),
        (
            "[review]\nrequired_approvals = -1\n",
            2,
            "between 0 and 100",
        ),
        (
            "[review]\nnot_independent = [\"authrs\"]\n",
            2,
            "unknown role",
        ),
        (
            "[[branch]]\npattern = \"refs/tags/v1\"\n",
            2,
            "not under refs/heads/",
        ),
        (
            "[[tag]]\npattern = \"v*\"\nrequire_review = true\n",
            3,
            "[[branch]] rules only",
        ),
        ("[[branch]]\npattern = \"\"\n", 2, "empty"),
        ("version = 2\n", 1, "unsupported policy version"),
        (
            "[signatures]\nexempt_commits = [\"abc\"]\n",
            2,
            "not a full commit id",
        ),
        (
            "[[signatures.retired]]\nkey = \"SHA256:x\"\nsince = \"yesterday\"\n",
            3,
            "not a date",
        ),
        (
            "[attestation]\nnotes_ref = \"refs/heads/x\"\n",
            2,
            "refs/notes/",
        ),
        ("[secrets]\nenabled = \"yes\"\n", 2, "invalid type"),
        (
            "[[branch]]\nallow_deletion = true\n",
            1,
            "missing field `pattern`",
        ),
        ("[signatures\n", 1, ""),
    ];
    for (text, line, needle) in cases {
        let (got_line, _, message, _) = invalid(text);
        assert_eq!(got_line, line, "line for {text:?}: {message}");
        assert!(message.contains(needle), "{text:?} gave {message:?}");
    }
}

#[test]
fn times_parse() {
    assert_eq!(parse_time("1970-01-01"), Some(0));
    assert_eq!(parse_time("2026-01-31"), Some(1_769_817_600));
    assert_eq!(parse_time("2026-01-31T01:00:00Z"), Some(1_769_821_200));
    assert_eq!(parse_time("2026-01-31T03:00:00+02:00"), Some(1_769_821_200));
    assert_eq!(parse_time("2026-13-01"), None);
    assert_eq!(parse_time("soon"), None);
}

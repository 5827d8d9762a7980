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
        (
            "[attestation]\nmerge = \"sometimes\"\n",
            2,
            "unknown merge mode",
        ),
        ("[attestation]\nverifier_id = \"vouch\"\n", 2, "not a URI"),
        (
            "[attestation]\ncompromised = [\"SHA256:x\"]\nexempt_commits = [\"abc\"]\n",
            3,
            "not a full commit id",
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
fn keys_nothing_enforces_yet_are_warned_about_with_their_line() {
    let p = parse(
        "[signatures]\nrequired = false\n\n[[branch]]\npattern = \"main\"\nrequired_checks = [\"ci\"]\n\n[attestation]\nenabled = true\n",
    )
    .unwrap();
    let warnings: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].starts_with(".vouch/policy.toml:6:1:"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("`required_checks`") && warnings[0].contains("not enforced"));
    // `[attestation]` has meaning now (`vouch merge`, `vouch attest verify`): no warning.
    // Not written, or switched off: nothing to warn about.
    assert!(parse("").unwrap().warnings.is_empty());
    assert!(parse("[attestation]\nenabled = false\n")
        .unwrap()
        .warnings
        .is_empty());
    assert!(Policy::builtin().warnings.is_empty());
}

#[test]
fn the_digest_covers_every_policy_file() {
    let mut files = PolicyFiles::new("refs/heads/main");
    files.insert(POLICY_PATH, b"[review]\n".to_vec());
    let base = files.digest();
    assert_eq!(base.len(), 64);
    for (path, bytes) in [
        (".vouch/allowed_signers", b"a ssh-ed25519 AAAA".to_vec()),
        (".vouch/keys/bob.asc", b"key".to_vec()),
        (".github/CODEOWNERS", b"* @a\n".to_vec()),
        (".vouch/secrets.toml", b"".to_vec()),
        (".vouch/baseline.json", b"{}".to_vec()),
    ] {
        let mut more = files.clone();
        more.insert(path, bytes);
        assert_ne!(more.digest(), base, "{path} changes the digest");
    }
    // Moving bytes between a path and its content must not collide.
    let mut a = PolicyFiles::new("");
    a.insert("ab", b"c".to_vec());
    let mut b = PolicyFiles::new("");
    b.insert("a", b"bc".to_vec());
    assert_ne!(a.digest(), b.digest());
    let loaded = Policy::load(files.clone()).unwrap().unwrap();
    assert_eq!(loaded.digest, base);
}

#[test]
fn the_pusher_is_read_one_way() {
    let server = ServerPolicy {
        pusher_env: Some("MY_PUSHER".into()),
    };
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(
        server.pusher(
            env(&[("MY_PUSHER", "  alice \n"), ("GL_USERNAME", "bob")]),
            None
        ),
        Some("alice".into())
    );
    // A blank variable is skipped, not taken as an empty name.
    assert_eq!(
        server.pusher(env(&[("MY_PUSHER", "  "), ("GL_USERNAME", "bob")]), None),
        Some("bob".into())
    );
    assert_eq!(
        server.pusher(env(&[]), Some(" carol ".into())),
        Some("carol".into())
    );
    assert_eq!(server.pusher(env(&[]), Some(" ".into())), None);
}

#[test]
fn oversize_defaults_to_fail_with_a_256_mib_limit() {
    let p = parse("").unwrap();
    assert_eq!(p.secrets.max_file_bytes, 256 * 1024 * 1024);
    assert_eq!(p.secrets.oversize, Oversize::Fail);
    let warn = parse("[secrets]\noversize = \"warn\"\n").unwrap();
    assert_eq!(warn.secrets.oversize, Oversize::Warn);
    let (line, column, message, hint) = invalid("[secrets]\noversize = \"wran\"\n");
    assert_eq!((line, column), (2, 12));
    assert_eq!(message, "unknown `oversize` value \"wran\"");
    assert!(hint.unwrap().contains("did you mean \"warn\"?"));
    let (line, _, message, hint) = invalid("[secrets]\nmax_file_bytes = 536870913\n");
    assert_eq!(line, 2);
    assert!(message.contains("between 1 and 536870912"), "{message}");
    assert!(hint.unwrap().contains("268435456"));
    assert!(parse("[secrets]\nmax_file_bytes = 536870912\n").is_ok());
    let (_, _, message, _) = invalid("[secrets]\nmax_file_bytes = 0\n");
    assert!(message.contains("not 0"), "{message}");
}

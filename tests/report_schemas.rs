//! JSON and SARIF outputs validate against their schemas: vouch's own documented verdict schema,
//! and the official SARIF 2.1.0 schema (`tests/data/sarif-2.1.0.schema.json`, OASIS's file).

mod common;
use common::Sandbox;
use vouch_rules::change::Clock;
use vouch_rules::report::{to_json, to_sarif, JSON_SCHEMA};
use vouch_rules::verdict::{ApprovalRecord, ReviewRecord, SignatureRecord};
use vouch_rules::{CheckOutcome, Finding, Location, PolicySource, Verdict};

fn sample_verdict() -> Verdict {
    let source = PolicySource {
        source: "refs/heads/main:.vouch/policy.toml".into(),
        digest: "0".repeat(64),
    };
    let mut v = Verdict::new(source, 1_769_821_200, Clock::PushTime);
    v.push_options = vec!["ci.skip".into()];
    v.evidence.signatures.push(SignatureRecord {
        object: "b".repeat(40),
        kind: "commit",
        reference: "refs/heads/main".into(),
        status: "good",
        accepted: true,
        format: Some("ssh"),
        signer: Some("alice@example.com".into()),
        fingerprint: Some("SHA256:abc".into()),
        primary_fingerprint: None,
        judged_at: "2026-01-31T01:00:00Z".into(),
        time_basis: "push-time",
    });
    v.evidence.review = Some(ReviewRecord {
        pull_request: 7,
        head: "b".repeat(40),
        required_approvals: 1,
        approvals: vec![ApprovalRecord {
            reviewer: "bob".into(),
            commit: "b".repeat(40),
            counted: false,
            reason: "@bob approved but co-authored bbbbbbb".into(),
        }],
        not_independent: [("bob".to_string(), vec!["co-authored bbbbbbb".to_string()])].into(),
    });
    v.push(CheckOutcome::ran(
        "protection",
        vec![Finding::error("protection.force-push", "rewrites history")
            .at(Location::reference("refs/heads/main"))
            .hint("git pull --rebase")],
    ));
    v.push(CheckOutcome::ran(
        "secrets",
        vec![
            Finding::warning("secrets.example-token", "a token \u{1b}[31m with odd bytes")
                .at(Location::file("src/a b.rs", Some(3)).with_commit("a".repeat(40)))
                .property("fingerprint", "abc123")
                .property("confidence", "high"),
        ],
    ));
    v.push(CheckOutcome::skipped("review", "needs a pull request"));
    v.push(CheckOutcome::broken("signatures", "key file unreadable"));
    v
}

/// The official SARIF 2.1.0 schema (OASIS), shipped as a test vector.
fn sarif_schema() -> serde_json::Value {
    serde_json::from_str(include_str!("data/sarif-2.1.0.schema.json"))
        .expect("SARIF schema is JSON")
}

/// The official SARIF 2.1.0 schema has a typo'd `language` pattern (an unbalanced `]`) that
/// fails meta-schema validation; it is corrected to its evident meaning before compiling.
fn validator(schema: &serde_json::Value) -> jsonschema::Validator {
    fn fix(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key == "pattern" && value == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *value = serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                    } else {
                        fix(value);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(fix),
            _ => {}
        }
    }
    let mut schema = schema.clone();
    fix(&mut schema);
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(schema: &serde_json::Value, doc: &str) {
    let instance: serde_json::Value = serde_json::from_str(doc).expect("output is JSON");
    let validator = validator(schema);
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}\n{doc}");
}

#[test]
fn json_output_matches_the_documented_schema() {
    let schema: serde_json::Value = serde_json::from_str(JSON_SCHEMA).unwrap();
    assert_valid(&schema, &to_json(&sample_verdict()));
    // A schema that accepts anything would prove nothing: a broken document must fail.
    let validator = validator(&schema);
    assert!(!validator.is_valid(&serde_json::json!({"schema_version": 2})));
    // Version 1 documents (no policies, no evidence) are not version 2 documents.
    let mut v1: serde_json::Value = serde_json::from_str(&to_json(&sample_verdict())).unwrap();
    v1["schema_version"] = serde_json::json!(1);
    assert!(!validator.is_valid(&v1));
}

#[test]
fn sarif_output_matches_the_sarif_2_1_0_schema() {
    let schema = sarif_schema();
    let sarif = to_sarif(&sample_verdict());
    assert_valid(&schema, &sarif);
    let typed: serde_sarif::sarif::Sarif =
        serde_json::from_str(&sarif).expect("serde-sarif reads it");
    assert_eq!(typed.runs[0].results.as_ref().map(Vec::len), Some(3));
    let validator = validator(&schema);
    assert!(
        !validator.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]}))
    );
}

#[test]
fn the_cli_emits_schema_valid_json_and_sarif() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\n",
    );
    repo.commit("policy");
    repo.write("f", "1\n");
    repo.commit("change");
    let json = repo.vouch(&[
        "check",
        "HEAD~1..HEAD",
        "--into",
        "main",
        "--format",
        "json",
    ]);
    json.assert_code(1);
    let schema: serde_json::Value = serde_json::from_str(JSON_SCHEMA).unwrap();
    assert_valid(&schema, &json.stdout());
    let v: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(v["passed"], false);
    assert!(json.stdout().contains("protection.direct-push"));
    let sarif = repo.vouch(&[
        "check",
        "HEAD~1..HEAD",
        "--into",
        "main",
        "--format",
        "sarif",
    ]);
    sarif.assert_code(1);
    assert_valid(&sarif_schema(), &sarif.stdout());
    // And a passing change exits 0 with passed = true.
    let ok = repo.vouch(&[
        "check",
        "HEAD~1..HEAD",
        "--into",
        "main",
        "--pusher",
        "anyone",
        "--format",
        "json",
    ]);
    ok.assert_code(1);
    repo.write(".vouch/policy.toml", "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\npush_allow = [\"merge-bot\"]\n");
    repo.commit("allow the bot");
    let ok = repo.vouch(&[
        "check",
        "HEAD~1..HEAD",
        "--into",
        "main",
        "--pusher",
        "merge-bot",
        "--format",
        "json",
    ]);
    ok.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&ok.stdout()).unwrap();
    assert_eq!(v["passed"], true);
}

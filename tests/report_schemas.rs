//! JSON and SARIF outputs validate against their schemas: vouch's own documented verdict schema,
//! and the official SARIF 2.1.0 schema (as shipped in the serde-sarif crate's sources).

mod common;
use common::Sandbox;
use vouch_rules::report::{to_json, to_sarif, JSON_SCHEMA};
use vouch_rules::{CheckOutcome, Finding, Location, Verdict};

fn sample_verdict() -> Verdict {
    let mut v = Verdict::new("refs/heads/main:.vouch/policy.toml");
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

fn sarif_schema() -> serde_json::Value {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").expect("HOME is set")).join(".cargo")
        });
    let src = home.join("registry/src");
    for index in std::fs::read_dir(&src)
        .expect("cargo registry sources")
        .flatten()
    {
        for krate in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = krate.file_name().to_string_lossy().into_owned();
            if name.starts_with("serde-sarif-") {
                let schema = krate.path().join("src/schema.json");
                if let Ok(text) = std::fs::read_to_string(&schema) {
                    return serde_json::from_str(&text).expect("SARIF schema is JSON");
                }
            }
        }
    }
    panic!(
        "the SARIF 2.1.0 schema (serde-sarif's src/schema.json) was not found under {}",
        src.display()
    );
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
    assert!(!validator.is_valid(&serde_json::json!({"schema_version": 1})));
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

//! `vouch scan`, `vouch rules` and `vouch baseline` through the real binary, in real
//! repositories. Test secrets are generated at run time.

// Helpers outside #[test] fns panic on a broken setup, as the tests themselves do.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use vouch_testkit::github_token;

fn run(dir: &Path, args: &[&str]) -> Output {
    vouch_testkit::Home::new()
        .command(env!("CARGO_BIN_EXE_vouch"), dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn git(dir: &Path, args: &[&str]) {
    vouch_testkit::git(dir, args);
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join("README"), "hello\n").unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    dir
}

#[test]
fn scan_modes_and_exit_codes() {
    let dir = repo();
    let d = dir.path();
    let t1 = github_token(11);
    let t2 = github_token(12);
    // Staged then cleaned in the working tree.
    std::fs::write(d.join("staged.txt"), format!("key {t1}\n")).unwrap();
    git(d, &["add", "staged.txt"]);
    std::fs::write(d.join("staged.txt"), "key removed\n").unwrap();
    // Only in the working tree, and ignored.
    std::fs::write(d.join(".gitignore"), "ignored.txt\n").unwrap();
    std::fs::write(d.join("ignored.txt"), format!("{t2}\n")).unwrap();

    let cases: Vec<(&str, Vec<&str>, i32, Vec<&str>)> = vec![
        (
            "staged catches the index copy",
            vec!["scan", "--staged"],
            1,
            vec!["staged.txt:1"],
        ),
        ("working tree honours .gitignore", vec!["scan"], 0, vec![]),
        (
            "--no-ignore scans ignored files",
            vec!["scan", "--no-ignore"],
            1,
            vec!["ignored.txt:1"],
        ),
        (
            "explicit file",
            vec!["scan", "--no-ignore", "ignored.txt"],
            1,
            vec!["ignored.txt:1"],
        ),
        (
            "--git without a range is a usage error",
            vec!["scan", "--git"],
            2,
            vec![],
        ),
        (
            "history before the secret",
            vec!["scan", "--git", "HEAD"],
            0,
            vec![],
        ),
    ];
    for (name, args, code, expect) in cases {
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(code), "{name}\n{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        for e in expect {
            assert!(stdout.contains(e), "{name}: no {e}\n{}", text(&out));
        }
        assert!(
            !stdout.contains(&t1) && !stdout.contains(&t2),
            "{name}: secret shown"
        );
    }

    // Commit it, remove it: the history still has it, attributed to the adding commit.
    std::fs::write(d.join("staged.txt"), format!("key {t1}\n")).unwrap();
    git(d, &["add", "staged.txt"]);
    git(d, &["commit", "-q", "-m", "add"]);
    std::fs::write(d.join("staged.txt"), "key removed\n").unwrap();
    git(d, &["commit", "-q", "-am", "remove"]);
    let out = run(d, &["scan", "--git", "--all", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["checks"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", text(&out));
    assert_eq!(findings[0]["location"]["path"], "staged.txt");
    assert!(findings[0]["location"]["commit"].is_string());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&t1));
    let out = run(d, &["scan", "--git", "HEAD~1..HEAD"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "removing a secret adds none\n{}",
        text(&out)
    );
}

#[test]
fn sarif_output_is_redacted() {
    let dir = repo();
    let t = github_token(13);
    std::fs::write(dir.path().join("a.env"), format!("TOKEN={t}\n")).unwrap();
    let out = run(dir.path(), &["scan", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(&t) && stdout.contains("ghp_\u{2026}"),
        "{stdout}"
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "secrets.github-pat-classic"
    );
}

#[test]
fn baseline_create_update_and_allows() {
    let dir = repo();
    let d = dir.path();
    let t1 = github_token(14);
    let t2 = github_token(15);
    std::fs::write(d.join("old.txt"), format!("{t1}\n")).unwrap();
    std::fs::write(d.join("allowed.txt"), format!("{t2} # vouch:allow\n")).unwrap();
    let out = run(d, &["baseline", "create"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let again = run(d, &["baseline", "create"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "create refuses to overwrite\n{}",
        text(&again)
    );
    let baseline = std::fs::read_to_string(d.join(".vouch/baseline.json")).unwrap();
    assert!(
        baseline.contains("old.txt") && !baseline.contains("allowed.txt"),
        "{baseline}"
    );
    assert!(!baseline.contains(&t1));

    let cases: Vec<(&str, Vec<&str>, i32)> = vec![
        (
            "baseline passed explicitly",
            vec!["scan", "--baseline", ".vouch/baseline.json"],
            0,
        ),
        ("without it the old finding fails", vec!["scan"], 1),
        (
            "show-allowed lists accepted ones as notes",
            vec![
                "scan",
                "--baseline",
                ".vouch/baseline.json",
                "--show-allowed",
            ],
            0,
        ),
    ];
    for (name, args, code) in cases {
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(code), "{name}\n{}", text(&out));
    }
    let shown = run(
        d,
        &[
            "scan",
            "--baseline",
            ".vouch/baseline.json",
            "--show-allowed",
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let allowed: Vec<&str> = json["checks"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["allowed"].as_str().unwrap())
        .collect();
    assert_eq!(allowed.len(), 2, "{}", text(&shown));
    assert!(allowed.contains(&"inline") && allowed.contains(&"baseline"));

    // update: the old finding is gone, a new one appears.
    std::fs::remove_file(d.join("old.txt")).unwrap();
    std::fs::write(d.join("new.txt"), format!("{}\n", github_token(16))).unwrap();
    let out = run(d, &["baseline", "update"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 kept, 1 added, 1 dropped"),
        "{}",
        text(&out)
    );
    let baseline = std::fs::read_to_string(d.join(".vouch/baseline.json")).unwrap();
    assert!(
        baseline.contains("new.txt") && !baseline.contains("old.txt"),
        "{baseline}"
    );
}

#[test]
fn rules_list_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run(d, &["rules", "test"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "built-in rules pass\n{}",
        text(&out)
    );
    let out = run(d, &["rules", "list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "github-pat-classic" && r["checksum"] == "github"));

    let good = r#"[[rule]]
id = "acme-token"
description = "Acme token"
provider = "Acme"
keywords = ["acme_"]
regex = '''\b(acme_[a-z0-9]{32})\b'''
confidence = "high"
examples = ["acme_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"]
negatives = ["acme_short"]
"#;
    let cases = [
        ("passing file", good.to_string(), 0, "all pass"),
        (
            "example that does not match",
            good.replace("acme_0a1b", "acme_ZZ1b"),
            1,
            "FAIL acme-token",
        ),
        (
            "negative that matches",
            good.replace(
                "\"acme_short\"",
                "\"acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0\"",
            ),
            1,
            "negative 1",
        ),
        (
            "broken regex names file:line",
            good.replace("\\b(acme", "(?<=x)(acme"),
            2,
            "rules.toml:6:9",
        ),
    ];
    for (name, body, code, expect) in cases {
        std::fs::write(d.join("rules.toml"), body).unwrap();
        let out = run(d, &["rules", "test", "rules.toml"]);
        assert_eq!(out.status.code(), Some(code), "{name}\n{}", text(&out));
        assert!(
            text(&out).contains(expect),
            "{name}: no {expect:?}\n{}",
            text(&out)
        );
    }
}

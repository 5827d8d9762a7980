//! The secret scanner end to end through the library: real git repositories, files on disk,
//! every renderer. Test secrets are generated at run time.

// Helpers outside #[test] fns panic on a broken setup, as the tests themselves do.
#![allow(clippy::unwrap_used)]

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::range::Revisions;
use vouch_rules::change::{Change, Stage};
use vouch_rules::policy::{Policy, PolicyFiles};
use vouch_rules::report::{render, Format, TextOptions};
use vouch_rules::secrets::engine::Settings;
use vouch_rules::secrets::report::{findings, Allowed, Located};
use vouch_rules::secrets::{self, history, Baseline, FileScan, Scanner};
use vouch_rules::{CheckOutcome, Finding, Location, Verdict};
use vouch_testkit::github_token;

fn builtin_scanner() -> Scanner {
    secrets::load(&Policy::builtin()).unwrap()
}

fn git(dir: &Path, args: &[&str]) {
    vouch_testkit::git(dir, args);
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

fn rules_of(found: &[Finding]) -> Vec<(String, Option<u32>)> {
    found
        .iter()
        .map(|f| (f.rule.clone(), f.location.line))
        .collect()
}

#[test]
fn staged_blob_is_scanned_not_the_working_tree() {
    let dir = repo();
    let token = github_token(1);
    std::fs::write(dir.path().join("clean.txt"), "nothing\n").unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "init"]);
    // Case 1: staged with a secret, then the working-tree copy cleaned: still caught.
    std::fs::write(
        dir.path().join("app.cfg"),
        format!("a = 1\ntoken = {token}\n"),
    )
    .unwrap();
    git(dir.path(), &["add", "app.cfg"]);
    std::fs::write(dir.path().join("app.cfg"), "a = 1\n").unwrap();
    // Case 2: a secret only in the working tree, never staged: not this commit's business.
    std::fs::write(
        dir.path().join("clean.txt"),
        format!("nothing\n{}\n", github_token(2)),
    )
    .unwrap();

    let repo = git2::Repository::open(dir.path()).unwrap();
    let mut change = Change::new(Stage::Commit, 0);
    change.staged = Gatherer::new(&repo).staged().unwrap();
    let verdict = vouch_rules::evaluate(&Policy::builtin(), &change);
    let found: Vec<Finding> = verdict.findings().cloned().collect();
    assert_eq!(
        rules_of(&found),
        vec![("secrets.github-pat-classic".to_string(), Some(2))]
    );
    assert_eq!(found[0].location.path.as_deref(), Some("app.cfg"));
    assert!(!verdict.passed());
}

#[test]
fn history_reports_a_secret_added_then_removed_once() {
    let dir = repo();
    let token = github_token(3);
    let file = dir.path().join("settings.py");
    std::fs::write(&file, "DEBUG = True\n").unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "one"]);
    std::fs::write(&file, format!("DEBUG = True\nTOKEN = \"{token}\"\n")).unwrap();
    git(dir.path(), &["commit", "-q", "-am", "add token"]);
    std::fs::write(&file, format!("DEBUG = False\nTOKEN = \"{token}\"\n")).unwrap();
    git(
        dir.path(),
        &[
            "commit",
            "-q",
            "-am",
            "touch the file again, token still there",
        ],
    );
    std::fs::write(&file, "DEBUG = False\n").unwrap();
    git(dir.path(), &["commit", "-q", "-am", "remove token"]);

    let repo = git2::Repository::open(dir.path()).unwrap();
    let added = repo.revparse_single("HEAD~2").unwrap().id().to_string();
    let scanner = builtin_scanner();
    let commits = Revisions::parse(&repo, "HEAD")
        .and_then(|r| r.commits(&repo))
        .unwrap();
    assert_eq!(commits.len(), 4);
    let scan = history::scan_commits(repo.path(), &commits, &scanner, None).unwrap();
    let found = findings(scan.found, &Baseline::default(), Allowed::Hide);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].location.commit.as_deref(), Some(added.as_str()));
    assert_eq!(found[0].location.line, Some(2));

    // The same commits judged as a push: the check attributes it to the commit that added it.
    let head = repo.head().unwrap().target().unwrap();
    let update = Gatherer::new(&repo)
        .update("refs/heads/main", None, Some(head), &[])
        .unwrap();
    let mut change = Change::new(Stage::Push, 0);
    change.updates.push(update);
    let verdict = vouch_rules::evaluate(&Policy::builtin(), &change);
    let secrets_findings: Vec<&Finding> = verdict
        .findings()
        .filter(|f| f.check() == "secrets")
        .collect();
    assert_eq!(secrets_findings.len(), 1, "{secrets_findings:#?}");
    assert_eq!(
        secrets_findings[0].location.commit.as_deref(),
        Some(added.as_str())
    );

    // A range that starts after the secret was added reports nothing.
    let later = Revisions::parse(&repo, "HEAD~1..HEAD")
        .and_then(|r| r.commits(&repo))
        .unwrap();
    let scan = history::scan_commits(repo.path(), &later, &scanner, None).unwrap();
    assert!(scan.found.is_empty());
}

#[test]
fn sparse_two_gigabyte_file_streams_and_finds_a_secret_near_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.log");
    let token = github_token(4);
    let size: u64 = 2 * 1024 * 1024 * 1024;
    let mut f = std::fs::File::create(&path).unwrap();
    // Text for the first 16 KiB (so it is not sniffed as binary), then a 2 GB hole of zeros.
    f.write_all(&b"log line\n".repeat(2048)).unwrap();
    f.set_len(size).unwrap();
    f.seek(SeekFrom::Start(size - 200)).unwrap();
    f.write_all(format!("\nauth {token}\n").as_bytes()).unwrap();
    drop(f);
    let scanner = Scanner::new(
        secrets::builtin::rules().unwrap().to_vec(),
        Settings::everything(),
    )
    .unwrap();
    let mut buf = Vec::new();
    let FileScan::Scanned(scan) = scanner.scan_path(&path, &mut buf).unwrap() else {
        panic!("the file was not scanned");
    };
    assert_eq!(scan.matches.len(), 1);
    assert_eq!(scan.matches[0].rule.id, "github-pat-classic");
    assert_eq!(scan.matches[0].line, 2050);
    assert_eq!(scan.bytes, size);
    // Memory stayed bounded: the scratch buffer never held more than one chunk plus overlap.
    assert!(
        buf.capacity() < 64 * 1024 * 1024,
        "buffer grew to {}",
        buf.capacity()
    );
}

#[test]
fn files_over_the_limit_are_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    std::fs::write(&path, vec![b'a'; 2048]).unwrap();
    let mut settings = Settings::everything();
    settings.max_file_bytes = 1024;
    let scanner = Scanner::new(secrets::builtin::rules().unwrap().to_vec(), settings).unwrap();
    let outcome = scanner.scan_path(&path, &mut Vec::new()).unwrap();
    assert!(
        matches!(outcome, FileScan::TooLarge { size: 2048 }),
        "{outcome:?}"
    );
}

#[test]
fn binary_and_non_utf8_content() {
    let token = github_token(5);
    let scanner = builtin_scanner();
    let cases: Vec<(&str, Vec<u8>, Option<usize>)> = vec![
        (
            "binary: NUL in the first 8 KiB",
            [b"\x00\x01PNG".as_slice(), token.as_bytes()].concat(),
            None,
        ),
        (
            "latin-1 text around a token",
            [b"caf\xe9 = ".as_slice(), token.as_bytes(), b"\n\xff\xfe"].concat(),
            Some(1),
        ),
        (
            "NUL after the sniffed prefix is still text",
            [
                vec![b'x'; 9000],
                b"\n\x00\n".to_vec(),
                token.clone().into_bytes(),
            ]
            .concat(),
            Some(1),
        ),
    ];
    for (name, bytes, expected) in cases {
        let outcome = scanner
            .scan_reader(bytes.as_slice(), &mut Vec::new())
            .unwrap();
        match (outcome, expected) {
            (FileScan::Binary, None) => {}
            (FileScan::Scanned(scan), Some(n)) => assert_eq!(scan.matches.len(), n, "{name}"),
            (other, _) => panic!("{name}: {other:?}"),
        }
    }
}

fn policy_with(files: &[(&str, &str)], policy_toml: &str) -> Policy {
    let mut snapshot = PolicyFiles::new("refs/heads/main");
    snapshot.insert(".vouch/policy.toml", policy_toml.as_bytes().to_vec());
    for (path, text) in files {
        snapshot.insert(*path, text.as_bytes().to_vec());
    }
    Policy::load(snapshot).unwrap().unwrap()
}

fn scan_text(policy: &Policy, path: &str, text: &str, allowed: Allowed) -> Vec<Finding> {
    let scanner = secrets::load(policy).unwrap();
    let baseline = secrets::load_baseline(policy).unwrap();
    if scanner.path_allowed(path) {
        return Vec::new();
    }
    let scan = scanner.scan_bytes(text.as_bytes(), 1);
    let found = scan
        .matches
        .into_iter()
        .map(|m| Located {
            found: m,
            location: Location::file(path, None),
        })
        .collect();
    findings(found, &baseline, allowed)
}

/// (name, policy text, extra files, path, text, findings shown, shown with --show-allowed)
type AllowCase<'a> = (
    &'a str,
    String,
    Vec<(&'a str, String)>,
    &'a str,
    String,
    usize,
    usize,
);

#[test]
fn allow_comments_baseline_and_policy_knobs() {
    let t = github_token(6);
    let base = "[signatures]\nrequired = false\n";
    let fp = {
        let found = scan_text(
            &Policy::builtin(),
            "a.txt",
            &format!("x {t}\n"),
            Allowed::Hide,
        );
        found[0].properties["fingerprint"].clone()
    };
    let baseline = format!("[{{\"fingerprint\": \"{fp}\", \"rule\": \"secrets.github-pat-classic\", \"path\": \"a.txt\"}}]");
    let no_inline = format!("{base}[secrets]\ninline_allow = false\n");
    let allow_paths = format!("{base}[secrets]\nallow_paths = [\"fixtures/**\"]\n");
    let disabled = format!("{base}[secrets]\ndisable_rules = [\"github-pat-classic\"]\n");
    let high_only = format!("{base}[secrets]\nmin_confidence = \"high\"\n");
    // Only the medium-confidence generic rule matches this line.
    let medium_only = r#"widget_secret = "bFcjUcW3SBvHPBw9xJeZyqZ7sGVuPwzL""#;
    // (name, policy text, extra files, path, text, shown findings, shown with --show-allowed)
    let cases: Vec<AllowCase> = vec![
        (
            "plain",
            base.to_string(),
            vec![],
            "a.txt",
            format!("x {t}\n"),
            1,
            1,
        ),
        (
            "allow on the line",
            base.to_string(),
            vec![],
            "a.txt",
            format!("x {t} # vouch:allow\n"),
            0,
            1,
        ),
        (
            "allow-next-line",
            base.to_string(),
            vec![],
            "a.txt",
            format!("# vouch:allow-next-line\nx {t}\n"),
            0,
            1,
        ),
        (
            "allow-next-line does not reach two lines",
            base.to_string(),
            vec![],
            "a.txt",
            format!("# vouch:allow-next-line\n\nx {t}\n"),
            1,
            1,
        ),
        (
            "allow-next-line is not an allow for its own line",
            base.to_string(),
            vec![],
            "a.txt",
            format!("x {t} # vouch:allow-next-line\n"),
            1,
            1,
        ),
        (
            "inline allows off in the policy",
            no_inline,
            vec![],
            "a.txt",
            format!("x {t} # vouch:allow\n"),
            1,
            1,
        ),
        (
            "baseline accepts it",
            base.to_string(),
            vec![(".vouch/baseline.json", baseline.clone())],
            "a.txt",
            format!("x {t}\n"),
            0,
            1,
        ),
        (
            "baseline is per path",
            base.to_string(),
            vec![(".vouch/baseline.json", baseline)],
            "b.txt",
            format!("x {t}\n"),
            1,
            1,
        ),
        (
            "allow_paths",
            allow_paths,
            vec![],
            "fixtures/keys/a.txt",
            format!("x {t}\n"),
            0,
            0,
        ),
        (
            "disable_rules",
            disabled,
            vec![],
            "a.txt",
            format!("x {t}\n"),
            0,
            0,
        ),
        (
            "min_confidence high drops medium rules",
            high_only,
            vec![],
            "a.txt",
            format!("{medium_only}\n"),
            0,
            0,
        ),
        (
            "medium rules report by default",
            base.to_string(),
            vec![],
            "a.txt",
            format!("{medium_only}\n"),
            1,
            1,
        ),
    ];
    for (name, policy_text, files, path, text, shown, with_allowed) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let policy = policy_with(&files, &policy_text);
        let hidden = scan_text(&policy, path, &text, Allowed::Hide);
        assert_eq!(hidden.len(), shown, "{name}: {hidden:#?}");
        let all = scan_text(&policy, path, &text, Allowed::Show);
        assert_eq!(all.len(), with_allowed, "{name} (--show-allowed)");
        for f in &all {
            let allowed = f.properties.contains_key("allowed");
            assert_eq!(f.severity == vouch_rules::Severity::Note, allowed, "{name}");
        }
    }
}

#[test]
fn fingerprints_ignore_line_numbers() {
    let t = github_token(7);
    let p = Policy::builtin();
    let a = scan_text(&p, "a.txt", &format!("{t}\n"), Allowed::Hide);
    let b = scan_text(&p, "a.txt", &format!("\n\n\nmoved: {t}\n"), Allowed::Hide);
    let c = scan_text(&p, "other.txt", &format!("{t}\n"), Allowed::Hide);
    assert_eq!(
        a[0].properties["fingerprint"],
        b[0].properties["fingerprint"]
    );
    assert_ne!(
        a[0].properties["fingerprint"],
        c[0].properties["fingerprint"]
    );
    assert_ne!(a[0].location.line, b[0].location.line);
}

#[test]
fn custom_rules_load_from_the_policy_snapshot_and_errors_name_the_place() {
    let base = "[signatures]\nrequired = false\n";
    let custom = r#"[[rule]]
id = "acme-internal-token"
description = "Acme internal API token"
provider = "Acme"
keywords = ["acme_"]
regex = '''\b(acme_[a-z0-9]{32})\b'''
confidence = "high"
examples = ["acme_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"]
"#;
    let policy = policy_with(&[(".vouch/secrets.toml", custom)], base);
    let found = scan_text(
        &policy,
        "x",
        "k = acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0\n",
        Allowed::Hide,
    );
    assert_eq!(
        rules_of(&found),
        vec![("secrets.acme-internal-token".into(), Some(1))]
    );

    let broken = custom.replace("'''\\b(acme_[a-z0-9]{32})\\b'''", "'''(?<=x)acme'''");
    let duplicate = custom.replace("acme-internal-token", "github-pat-classic");
    let no_examples = custom.replace(
        "examples = [\"acme_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d\"]",
        "examples = []",
    );
    let cases = [
        (
            "lookbehind",
            broken,
            ".vouch/secrets.toml:6",
            "does not compile",
        ),
        (
            "duplicate id",
            duplicate,
            ".vouch/secrets.toml:2",
            "defined twice",
        ),
        (
            "no examples",
            no_examples,
            ".vouch/secrets.toml:8",
            "no examples",
        ),
    ];
    for (name, text, at, message) in cases {
        let policy = policy_with(&[(".vouch/secrets.toml", &text)], base);
        let errors = vouch_rules::validate_files(&policy);
        assert_eq!(errors.len(), 1, "{name}");
        let shown = errors[0].to_string();
        assert!(
            shown.contains(at) && shown.contains(message),
            "{name}: {shown}"
        );
        assert!(errors[0].hint().is_some(), "{name}");
        // The check fails closed on the same error.
        let verdict = vouch_rules::evaluate(&policy, &Change::new(Stage::Commit, 0));
        assert!(!verdict.passed(), "{name}");
    }
}

#[test]
fn no_renderer_shows_the_whole_secret() {
    let t = github_token(8);
    let pem_body = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\n";
    let text = format!(
        "token {t}\n-----BEGIN RSA PRIVATE KEY-----\n{pem_body}-----END RSA PRIVATE KEY-----\n"
    );
    let found = scan_text(&Policy::builtin(), "leak.txt", &text, Allowed::Show);
    assert_eq!(found.len(), 2, "{found:#?}");
    let mut verdict = Verdict::empty("test", 0);
    verdict.push(CheckOutcome::ran("secrets", found));
    for format in [Format::Text, Format::Json, Format::Sarif, Format::Markdown] {
        let out = render(&verdict, format, TextOptions::default());
        if format != Format::Markdown {
            // The check-run markdown summarises; the others list each finding's properties.
            assert!(
                out.contains("ghp_\u{2026}"),
                "{format:?} shows no redacted value"
            );
        }
        assert!(!out.contains(&t), "{format:?} shows the whole token");
        assert!(
            !out.contains(&t[4..20]),
            "{format:?} shows part of the token body"
        );
        assert!(
            !out.contains("MIIBOgIBAAJBAKj34G"),
            "{format:?} shows the key"
        );
        if format != Format::Markdown {
            assert!(out.contains("rotate"), "{format:?} has no remediation");
        }
    }
    let sarif: serde_json::Value =
        serde_json::from_str(&render(&verdict, Format::Sarif, TextOptions::default())).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["runs"][0]["results"][0]["partialFingerprints"]["vouch/v1"].is_string());
}

#[test]
fn a_text_without_keywords_compiles_no_regex() {
    // Parse a fresh copy of the built-ins so no other test has compiled their patterns.
    let rules: Vec<std::sync::Arc<secrets::Rule>> =
        secrets::builtin::parse(secrets::rule::Compile::Lazily)
            .unwrap()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
    let scanner = Scanner::new(rules.clone(), Settings::everything()).unwrap();
    let scan = scanner.scan_bytes(b"fn main() { println!(\"hello\"); }\n", 1);
    assert!(scan.matches.is_empty());
    assert!(rules.iter().all(|r| !r.is_compiled()));
    let text = format!("x {}\n", github_token(9)).to_ascii_lowercase();
    scanner.scan_bytes(text.as_bytes(), 1);
    // Only rules with a keyword in the text were compiled, the GitHub rule among them.
    for r in rules.iter().filter(|r| r.is_compiled()) {
        assert!(
            r.keywords.iter().any(|k| text.contains(k.as_str())),
            "{} compiled",
            r.id
        );
    }
    assert!(rules
        .iter()
        .any(|r| r.id == "github-pat-classic" && r.is_compiled()));
}

/// A generated base62 value, different for every `seed` (not a real credential).
fn random_value(seed: u64, len: usize) -> String {
    let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(alphabet[(x % 62) as usize])
        })
        .collect()
}

#[test]
fn findings_say_how_sure_they_are_and_why() {
    let base = "[signatures]\nrequired = false\n";
    let medium = policy_with(&[], base);
    let low = policy_with(&[], &format!("{base}[secrets]\nmin_confidence = \"low\"\n"));
    let strong = random_value(1, 28);
    let weak = random_value(2, 12);
    let token = github_token(9);
    let text = format!("GH={token}\nAPP_SECRET={strong}\nAUTH_TOKEN={weak}\n");
    let why = |f: &Finding| f.properties.get("why").cloned().unwrap_or_default();

    let found = scan_text(&medium, "deploy/.env", &text, Allowed::Hide);
    let lines: Vec<Option<u32>> = found.iter().map(|f| f.location.line).collect();
    assert_eq!(
        lines,
        [Some(1), Some(2)],
        "the weak value stays under medium"
    );
    let github = &found[0];
    assert_eq!(github.properties["confidence"], "high");
    assert!(
        why(github).starts_with("checksum: github valid"),
        "{}",
        why(github)
    );
    let generic = &found[1];
    assert_eq!(generic.properties["confidence"], "medium");
    assert!(
        why(generic).contains("keyword: APP_SECRET"),
        "{}",
        why(generic)
    );
    assert!(why(generic).contains("file: dotenv"), "{}", why(generic));

    let found = scan_text(&low, "deploy/.env", &text, Allowed::Hide);
    let weak_finding = found.iter().find(|f| f.location.line == Some(3));
    let weak_finding = weak_finding.expect("min_confidence = low reports the weak value");
    assert_eq!(weak_finding.properties["confidence"], "low");
    assert!(
        why(weak_finding).contains("too short"),
        "{}",
        why(weak_finding)
    );
}

#[test]
fn near_misses_of_a_provider_format_are_not_generic_findings() {
    let policy = policy_with(
        &[],
        "[signatures]\nrequired = false\n[secrets]\nmin_confidence = \"low\"\n",
    );
    // A truncated GitHub token, and a value under a provider's name its rule does not accept.
    let truncated = format!("GITHUB_TOKEN=ghp_{}\n", random_value(3, 20));
    let datadog = format!("DATADOG_API_KEY={}\n", random_value(4, 40));
    for text in [truncated, datadog] {
        let found = scan_text(&policy, "ci.env", &text, Allowed::Hide);
        assert!(found.is_empty(), "{text}: {:?}", rules_of(&found));
    }
    // The same value under a name no provider owns is a finding.
    let plain = format!("BILLING_API_KEY={}\n", random_value(4, 40));
    assert_eq!(scan_text(&policy, "ci.env", &plain, Allowed::Hide).len(), 1);
}

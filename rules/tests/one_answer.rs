//! One engine, one answer: the secrets a commit added are the same whether a push judges the
//! commit (the hooks, the server, `vouch check`, the bot) or `vouch scan --git` walks history.

// Helpers outside #[test] fns panic on a broken setup, as the tests themselves do.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::range::Revisions;
use vouch_rules::change::{Change, Stage};
use vouch_rules::policy::{Origin, Policy, PolicyFiles};
use vouch_rules::secrets::report::{findings, Allowed};
use vouch_rules::secrets::{self, history, Baseline};
use vouch_testkit::github_token as token;

/// git, with no system or user configuration.
fn git(dir: &Path, args: &[&str]) {
    vouch_testkit::git(dir, args);
}

fn policy(max_file_bytes: u64) -> Policy {
    Policy::parse(
        &format!("[signatures]\nrequired = false\n[secrets]\nmax_file_bytes = {max_file_bytes}\n"),
        ".vouch/policy.toml",
        Origin::File {
            origin: "refs/heads/main".into(),
        },
        String::new(),
        PolicyFiles::new("refs/heads/main"),
    )
    .unwrap()
}

/// (rule, commit, path, line) of every secret finding, and every other finding's rule.
type Answer = BTreeSet<(String, String, String, u32)>;

fn by_push(repo: &git2::Repository, policy: &Policy) -> Answer {
    let head = repo.head().unwrap().target().unwrap();
    let update = Gatherer::new(repo)
        .update("refs/heads/main", None, Some(head), &[])
        .unwrap();
    let mut change = Change::new(Stage::Push, 0);
    change.updates.push(update);
    let verdict = vouch_rules::Engine::new(policy.clone())
        .only(&["secrets"])
        .evaluate(&change);
    verdict.findings().map(key).collect()
}

fn by_history(repo: &git2::Repository, policy: &Policy) -> Answer {
    let commits = Revisions::parse(repo, "HEAD")
        .and_then(|r| r.commits(repo))
        .unwrap();
    let scanner = secrets::load(policy).unwrap();
    let scan = history::scan_commits(repo.path(), &commits, &scanner, None).unwrap();
    let mut all = findings(scan.found, &Baseline::default(), Allowed::Hide);
    all.extend(scan.findings);
    all.iter().map(key).collect()
}

fn key(f: &vouch_rules::Finding) -> (String, String, String, u32) {
    (
        f.rule.clone(),
        f.location.commit.clone().unwrap_or_default(),
        f.location.path.clone().unwrap_or_default(),
        f.location.line.unwrap_or(0),
    )
}

#[test]
fn a_second_copy_of_an_existing_secret_is_found_by_both() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let secret = token(11);
    let file = dir.path().join("deploy.env");
    std::fs::write(&file, format!("GH_TOKEN={secret}\n")).unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "first copy"]);
    std::fs::write(&file, format!("GH_TOKEN={secret}\nBACKUP_TOKEN={secret}\n")).unwrap();
    git(dir.path(), &["commit", "-q", "-am", "second copy"]);
    let repo = git2::Repository::open(dir.path()).unwrap();
    let second = repo.head().unwrap().target().unwrap().to_string();

    let policy = policy(1024 * 1024);
    let push = by_push(&repo, &policy);
    assert_eq!(push, by_history(&repo, &policy));
    assert_eq!(push.len(), 2, "{push:#?}");
    assert!(push
        .iter()
        .any(|(_, commit, path, line)| *commit == second && path == "deploy.env" && *line == 2));
}

#[test]
fn a_one_line_change_to_a_large_file_is_judged_by_its_added_line_in_both() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let file = dir.path().join("big.log");
    let filler = "an ordinary log line with nothing secret in it\n".repeat(200);
    std::fs::write(&file, &filler).unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "big file"]);
    std::fs::write(&file, format!("{filler}token {}\n", token(12))).unwrap();
    git(dir.path(), &["commit", "-q", "-am", "one more line"]);
    let repo = git2::Repository::open(dir.path()).unwrap();
    let added = repo.head().unwrap().target().unwrap().to_string();

    // The file is larger than the limit; the added lines are not.
    let policy = policy(4096);
    let push = by_push(&repo, &policy);
    let history = by_history(&repo, &policy);
    assert_eq!(push, history);
    let rules: Vec<&str> = push.iter().map(|k| k.0.as_str()).collect();
    assert!(rules.contains(&"secrets.github-pat-classic"), "{push:#?}");
    assert!(push
        .iter()
        .any(|(_, c, _, line)| *c == added && *line == 201));
    // The first commit added the whole file, over the limit: both say it was not scanned.
    assert!(rules.contains(&"secrets.not-scanned"), "{push:#?}");
}

//! Gathering a Change from real git repositories: which commits a ref update brings, their added
//! lines, merges, tags, and the staged (index) content.

// Test helpers panic on setup failure by design.
#![allow(clippy::unwrap_used)]

use git2::{Oid, Repository};
use std::path::Path;
use vouch_rules::change::git::{ref_tips, Gatherer};
use vouch_rules::change::UpdateKind;

fn git(dir: &Path, args: &[&str]) -> String {
    let home = vouch_testkit::Home::new();
    let out = home
        .command("git", dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@example.com")
        .env("GIT_COMMITTER_NAME", "C")
        .env("GIT_COMMITTER_EMAIL", "c@example.com")
        .output()
        .expect("git runs");
    vouch_testkit::check(&out, &format!("git {args:?}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(dir: &Path, file: &str, content: &str, message: &str) -> Oid {
    std::fs::write(dir.join(file), content).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    Oid::from_str(&git(dir, &["rev-parse", "HEAD"])).unwrap()
}

#[test]
fn creation_brings_only_commits_no_existing_ref_has() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    commit(dir, "a", "1\n", "one");
    let main_tip = commit(dir, "a", "1\n2\n", "two");
    git(dir, &["checkout", "-q", "-b", "feature"]);
    let f1 = commit(dir, "b", "x\n", "f1");
    let f2 = commit(
        dir,
        "b",
        "x\ny\nz\n",
        "f2\n\nCo-authored-by: Bob B <bob@example.com>",
    );
    let repo = Repository::open(dir).unwrap();

    let exclude: Vec<Oid> = vec![main_tip];
    let update = Gatherer::new(&repo)
        .update("refs/heads/feature", None, Some(f2), &exclude)
        .unwrap();
    assert_eq!(update.kind, UpdateKind::Create);
    let ids: Vec<String> = update.commits.iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        ids,
        vec![f2.to_string(), f1.to_string()],
        "newest first, main's commits excluded"
    );

    let newest = &update.commits[0];
    assert_eq!(newest.co_authors[0].email, "bob@example.com");
    assert_eq!(newest.author.email, "a@example.com");
    assert_eq!(newest.committer.email, "c@example.com");
    assert!(
        newest.raw.starts_with(b"tree "),
        "raw object bytes are kept for signature checks"
    );
    let file = &newest.files[0];
    assert_eq!(file.path, "b");
    assert_eq!(file.hunks.len(), 1);
    assert_eq!(file.hunks[0].start_line, 2);
    assert_eq!(file.hunks[0].text, b"y\nz\n");

    // Without diffs nothing is read beyond the commit.
    let lean = Gatherer::new(&repo)
        .with_diffs(false)
        .update("refs/heads/feature", None, Some(f2), &exclude)
        .unwrap();
    assert!(lean.commits[0].files.is_empty());

    // All ref tips, peeled.
    let tips = ref_tips(&repo, None).unwrap();
    assert!(tips.contains(&main_tip) && tips.contains(&f2));
}

#[test]
fn update_kinds_and_tags_are_told_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    let one = commit(dir, "a", "1\n", "one");
    let two = commit(dir, "a", "2\n", "two");
    git(dir, &["checkout", "-q", "-b", "other", &one.to_string()]);
    let side = commit(dir, "c", "s\n", "side");
    git(dir, &["tag", "-a", "v1", "-m", "release", &two.to_string()]);
    let tag = Oid::from_str(&git(dir, &["rev-parse", "v1"])).unwrap();
    let repo = Repository::open(dir).unwrap();
    let g = Gatherer::new(&repo);
    assert_eq!(
        g.update("refs/heads/main", Some(one), Some(two), &[one])
            .unwrap()
            .kind,
        UpdateKind::FastForward
    );
    assert_eq!(
        g.update("refs/heads/main", Some(two), Some(side), &[two])
            .unwrap()
            .kind,
        UpdateKind::Force
    );
    assert_eq!(
        g.update("refs/heads/main", Some(two), None, &[])
            .unwrap()
            .kind,
        UpdateKind::Delete
    );
    let missing = Oid::from_str(&"ab".repeat(20)).unwrap();
    assert_eq!(
        g.update("refs/heads/main", Some(missing), Some(two), &[])
            .unwrap()
            .kind,
        UpdateKind::Force
    );
    let t = g.update("refs/tags/v1", None, Some(tag), &[two]).unwrap();
    assert_eq!(t.tags.len(), 1);
    assert_eq!(t.tags[0].name, "v1");
    assert_eq!(t.tags[0].target, two.to_string());
    assert!(t.tags[0].raw.starts_with(b"object "));
    assert!(t.commits.is_empty(), "the tagged commit is already on main");
}

#[test]
fn merges_report_only_what_no_parent_had() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    commit(dir, "a", "1\n", "base");
    git(dir, &["checkout", "-q", "-b", "topic"]);
    commit(dir, "t", "topic line\n", "topic");
    git(dir, &["checkout", "-q", "main"]);
    commit(dir, "m", "main line\n", "main side");
    git(dir, &["merge", "-q", "--no-ff", "--no-edit", "topic"]);
    let merge = Oid::from_str(&git(dir, &["rev-parse", "HEAD"])).unwrap();
    let repo = Repository::open(dir).unwrap();
    let c = Gatherer::new(&repo).commit(merge).unwrap();
    assert!(c.is_merge());
    assert!(
        c.files.is_empty(),
        "a clean merge adds nothing new: {:?}",
        c.files
    );
}

#[test]
fn staged_reads_the_index_not_the_working_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("s.txt"), "staged line\n").unwrap();
    git(dir, &["add", "s.txt"]);
    std::fs::write(dir.join("s.txt"), "working tree only\n").unwrap();
    std::fs::write(dir.join("unstaged.txt"), "never added\n").unwrap();
    let repo = Repository::open(dir).unwrap();
    let staged = Gatherer::new(&repo).staged().unwrap();
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0].path, "s.txt");
    assert_eq!(staged[0].hunks[0].text, b"staged line\n");
    // After a first commit, only the new lines count.
    git(dir, &["commit", "-q", "-m", "first"]);
    std::fs::write(dir.join("s.txt"), "staged line\nsecond\n").unwrap();
    git(dir, &["add", "s.txt"]);
    let staged = Gatherer::new(&repo).staged().unwrap();
    assert_eq!(staged[0].hunks[0].text, b"second\n");
    assert_eq!(staged[0].hunks[0].start_line, 2);
}

//! Signature policy through real pushes: the server hook refuses a range with an unsigned or
//! untrusted commit anywhere in it, naming the commit, the reason and the fix.

// Test helpers panic on setup failure by design.
#![allow(clippy::unwrap_used)]

mod common;
use common::{Sandbox, TestRepo};
use std::path::{Path, PathBuf};

fn signed_commit(repo: &TestRepo<'_>, key: &Path, file: &str, message: &str) -> String {
    repo.write(file, &format!("{message}\n"));
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&[
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingkey={}", key.display()),
        "commit",
        "-q",
        "-S",
        "-m",
        message,
    ])
    .assert_ok();
    repo.head()
}

/// A server whose main trusts alice's SSH key for alice@example.com.
fn setup(sb: &Sandbox) -> (TestRepo<'_>, PathBuf, PathBuf) {
    let (alice, alice_pub) = sb.ssh_key("alice");
    let (mallory, _) = sb.ssh_key("mallory");
    let server = sb.server("server.git");
    let repo = sb.repo("work");
    repo.add_remote(&server);
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = true\n[[branch]]\npattern = \"main\"\nrequire_review = false\n",
    );
    repo.write(
        ".vouch/allowed_signers",
        &format!("alice@example.com namespaces=\"git\" {alice_pub}\n"),
    );
    signed_commit(&repo, &alice, "README", "trust alice");
    // The first policy lands under the bootstrap default.
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    (repo, alice, mallory)
}

#[test]
fn a_good_range_is_accepted() {
    let sb = Sandbox::new();
    let (repo, alice, _) = setup(&sb);
    signed_commit(&repo, &alice, "a", "one");
    signed_commit(&repo, &alice, "b", "two");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
}

#[test]
fn an_unsigned_commit_inside_the_range_is_refused() {
    let sb = Sandbox::new();
    let (repo, alice, _) = setup(&sb);
    signed_commit(&repo, &alice, "a", "signed first");
    let unsigned = repo.commit("unsigned middle");
    signed_commit(&repo, &alice, "c", "signed last");
    repo.push_as("alice", &["origin", "main"])
        .assert_refused_with(&[
            "signatures.unsigned",
            &unsigned[..10],
            "git rebase",
            "pre-receive hook declined",
        ]);
}

#[test]
fn a_commit_by_an_untrusted_key_is_refused() {
    let sb = Sandbox::new();
    let (repo, _, mallory) = setup(&sb);
    let bad = signed_commit(&repo, &mallory, "m", "signed by someone else");
    repo.push_as("alice", &["origin", "main"])
        .assert_refused_with(&["signatures.unknown-key", &bad[..10], "vouch keys add"]);
}

#[test]
fn a_new_branch_is_judged_on_its_own_commits_only() {
    let sb = Sandbox::new();
    let (repo, alice, _) = setup(&sb);
    repo.git(&["checkout", "-q", "-b", "topic"]).assert_ok();
    signed_commit(&repo, &alice, "t", "topic work");
    repo.push_as("alice", &["-q", "origin", "topic"])
        .assert_ok();
    let unsigned = repo.commit("unsigned topic work");
    repo.git(&["checkout", "-q", "-b", "topic2"]).assert_ok();
    repo.push_as("alice", &["origin", "topic2"])
        .assert_refused_with(&["signatures.unsigned", &unsigned[..10]]);
}

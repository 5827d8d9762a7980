//! Branch and tag protection through real pushes to a bare remote carrying the server hook.

mod common;
use common::Sandbox;

const POLICY: &str = r#"version = 1
[signatures]
required = false

[[branch]]
pattern = "main"
require_review = false

[[branch]]
pattern = "release/*"
push_allow = ["merge-bot"]

[[tag]]
pattern = "v*"
"#;

/// A server whose main already holds POLICY, and a clone-like working repo pointing at it.
fn setup(sb: &Sandbox) -> (common::TestRepo<'_>, std::path::PathBuf) {
    let server = sb.server("server.git");
    let repo = sb.repo("work");
    repo.add_remote(&server);
    repo.write(".vouch/policy.toml", POLICY)
        .write("README", "hello\n");
    repo.commit("add policy");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    (repo, server)
}

#[test]
fn force_push_to_protected_branch_is_refused_and_leaves_no_objects() {
    let sb = Sandbox::new();
    let (repo, server) = setup(&sb);
    let before = sb.objects(&server);
    repo.write("README", "rewritten\n");
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "--amend", "-m", "rewrite history"])
        .assert_ok();
    repo.push_as("alice", &["--force", "origin", "main"])
        .assert_refused_with(&[
            "protection.force-push",
            "[[branch]] pattern \"main\"",
            "git pull --rebase",
            "pre-receive hook declined",
        ]);
    assert_eq!(
        sb.objects(&server),
        before,
        "a refused push must leave none of its objects"
    );
}

#[test]
fn fast_forward_to_protected_branch_without_review_rule_is_accepted() {
    let sb = Sandbox::new();
    let (repo, server) = setup(&sb);
    repo.write("README", "more\n");
    let id = repo.commit("more");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    let run = sb.run(
        &server,
        std::path::Path::new("git"),
        &["rev-parse", "main"],
        &[],
        None,
    );
    assert_eq!(run.stdout().trim(), id);
}

#[test]
fn deleting_a_protected_branch_is_refused() {
    let sb = Sandbox::new();
    let (repo, _server) = setup(&sb);
    repo.git(&["branch", "release/1"]).assert_ok();
    sb.run(
        &repo.path,
        std::path::Path::new("git"),
        &["push", "-q", "origin", "release/1"],
        &[("REMOTE_USER", "merge-bot")],
        None,
    )
    .assert_ok();
    repo.push_as("merge-bot", &["origin", ":release/1"])
        .assert_refused_with(&["protection.deletion", "release/1", "allow_deletion"]);
}

#[test]
fn direct_push_requires_an_allowed_pusher() {
    let sb = Sandbox::new();
    let (repo, _server) = setup(&sb);
    repo.git(&["branch", "release/2"]).assert_ok();
    repo.push_as("alice", &["origin", "release/2"])
        .assert_refused_with(&[
            "protection.direct-push",
            "\"alice\"",
            "only merge-bot may push to it directly",
        ]);
    // Each server's variable is honoured.
    for var in [
        "GL_USERNAME",
        "GITHUB_USER_LOGIN",
        "GITEA_PUSHER_NAME",
        "REMOTE_USER",
    ] {
        let branch = format!("release/{}", var.to_lowercase());
        repo.git(&["branch", &branch]).assert_ok();
        sb.run(
            &repo.path,
            std::path::Path::new("git"),
            &["push", "-q", "origin", &branch],
            &[(var, "merge-bot")],
            None,
        )
        .assert_ok();
    }
}

#[test]
fn new_and_unprotected_branches_behave_as_git_does() {
    let sb = Sandbox::new();
    let (repo, _server) = setup(&sb);
    repo.git(&["checkout", "-q", "-b", "feature"]).assert_ok();
    repo.write("f", "1\n");
    repo.commit("feature work");
    repo.push_as("alice", &["-q", "origin", "feature"])
        .assert_ok();
    repo.git(&["commit", "-q", "--amend", "-m", "reworded"])
        .assert_ok();
    repo.push_as("alice", &["-q", "--force", "origin", "feature"])
        .assert_ok();
    repo.push_as("alice", &["-q", "origin", ":feature"])
        .assert_ok();
}

#[test]
fn the_target_branch_policy_judges_not_the_pushed_one() {
    let sb = Sandbox::new();
    let (repo, _server) = setup(&sb);
    // The pushed commit loosens the policy and rewrites history at once: the server's policy rules.
    repo.write(
        ".vouch/policy.toml",
        &POLICY.replace(
            "require_review = false",
            "require_review = false\nallow_force_push = true",
        ),
    );
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "--amend", "-m", "loosen policy"])
        .assert_ok();
    repo.push_as("alice", &["--force", "origin", "main"])
        .assert_refused_with(&["protection.force-push"]);
}

#[test]
fn protected_tags_cannot_move_or_be_deleted() {
    let sb = Sandbox::new();
    let (repo, _server) = setup(&sb);
    repo.git(&["tag", "-a", "v1.0", "-m", "release 1.0"])
        .assert_ok();
    repo.push_as("alice", &["-q", "origin", "v1.0"]).assert_ok();
    repo.write("README", "next\n");
    repo.commit("next");
    repo.git(&["tag", "-f", "-a", "v1.0", "-m", "moved"])
        .assert_ok();
    repo.push_as("alice", &["--force", "origin", "v1.0"])
        .assert_refused_with(&["protection.tag-move", "v1.0", "create a new tag"]);
    repo.push_as("alice", &["origin", ":refs/tags/v1.0"])
        .assert_refused_with(&["protection.deletion", "v1.0"]);
    // Unprotected tags are free.
    repo.git(&["tag", "nightly"]).assert_ok();
    repo.push_as("alice", &["-q", "origin", "nightly"])
        .assert_ok();
    repo.git(&["tag", "-f", "nightly", "HEAD~1"]).assert_ok();
    repo.push_as("alice", &["-q", "--force", "origin", "nightly"])
        .assert_ok();
}

#[test]
fn atomic_push_is_refused_whole() {
    let sb = Sandbox::new();
    let (repo, server) = setup(&sb);
    repo.git(&["branch", "other"]).assert_ok();
    repo.git(&["commit", "-q", "--amend", "-m", "rewrite"])
        .assert_ok();
    repo.push_as("alice", &["--atomic", "--force", "origin", "main", "other"])
        .assert_refused_with(&["protection.force-push"]);
    let run = sb.run(
        &server,
        std::path::Path::new("git"),
        &["branch", "--list", "other"],
        &[],
        None,
    );
    assert_eq!(
        run.stdout().trim(),
        "",
        "no ref of a refused atomic push may land"
    );
}

#[test]
fn push_options_and_update_hook_work() {
    let sb = Sandbox::new();
    let (repo, server) = setup(&sb);
    sb.run(
        &server,
        std::path::Path::new("git"),
        &["config", "receive.advertisePushOptions", "true"],
        &[],
        None,
    )
    .assert_ok();
    repo.write("README", "opt\n");
    repo.commit("with options");
    repo.push_as(
        "alice",
        &["-q", "-o", "ci.skip", "-o", "note=x", "origin", "main"],
    )
    .assert_ok();
    // The options reach the server's verdict, which shows them when it speaks (here, a refusal).
    repo.git(&["commit", "-q", "--amend", "-m", "rewritten with options"])
        .assert_ok();
    repo.push_as(
        "alice",
        &["-f", "-o", "ci.skip", "-o", "note=x", "origin", "main"],
    )
    .assert_refused_with(&["protection.force-push", "push options: ci.skip, note=x"]);

    // The per-ref update hook judges the same way.
    let sb2 = Sandbox::new();
    let server2 = sb2.path().join("s2.git");
    sb2.run(
        sb2.path(),
        std::path::Path::new("git"),
        &["init", "-q", "--bare", "-b", "main", "s2.git"],
        &[],
        None,
    )
    .assert_ok();
    sb2.run(
        sb2.path(),
        &common::vouch_bin(),
        &[
            "install",
            "--server",
            server2.to_str().unwrap(),
            "--server-hook",
            "update",
        ],
        &[],
        None,
    )
    .assert_ok();
    assert!(server2.join("hooks/update").exists());
    let r2 = sb2.repo("w2");
    r2.add_remote(&server2);
    r2.write(".vouch/policy.toml", POLICY);
    r2.commit("policy");
    r2.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    r2.git(&["commit", "-q", "--amend", "-m", "rewrite"])
        .assert_ok();
    r2.push_as("alice", &["--force", "origin", "main"])
        .assert_refused_with(&["protection.force-push", "hook declined"]);
}

#[test]
fn a_branch_without_policy_uses_the_default_branch_policy_and_says_so() {
    let sb = Sandbox::new();
    let (repo, _server) = setup(&sb);
    // release/* requires review; a new release branch has no policy of its own on the server.
    repo.git(&["checkout", "-q", "--orphan", "release/3"])
        .assert_ok();
    repo.git(&["rm", "-rq", "--cached", "."]).assert_ok();
    repo.git(&["commit", "-q", "--allow-empty", "-m", "orphan"])
        .assert_ok();
    repo.push_as("alice", &["origin", "release/3"])
        .assert_refused_with(&["protection.direct-push", "the default branch's applies"]);
}

#[test]
fn a_tag_is_judged_by_the_default_branch_policy_not_by_the_commit_it_points_at() {
    let sb = Sandbox::new();
    let server = sb.server("server.git");
    let repo = sb.repo("work");
    repo.add_remote(&server);
    // v1 points at a commit whose policy protects no tag …
    repo.write(".vouch/policy.toml", "[signatures]\nrequired = false\n");
    repo.commit("no tag rules yet");
    repo.git(&["tag", "v1"]).assert_ok();
    repo.push_as("alice", &["-q", "origin", "main", "v1"])
        .assert_ok();
    // … then main starts protecting release tags.
    repo.write(".vouch/policy.toml", POLICY);
    repo.commit("protect tags");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    repo.git(&["tag", "-f", "v1"]).assert_ok();
    repo.push_as("alice", &["--force", "origin", "v1"])
        .assert_refused_with(&["protection.tag-move", "refs/heads/main:.vouch/policy.toml"]);
}

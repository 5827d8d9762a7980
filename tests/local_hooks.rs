//! Local hooks: install, chaining, uninstall, core.hooksPath, linked worktrees, pre-push and
//! commit-msg through real `git commit` and `git push`.

mod common;
use common::Sandbox;
use std::os::unix::fs::PermissionsExt;

const EXISTING_HOOK: &str = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/../existing-hook-ran\"\nexit ${EXISTING_EXIT:-0}\n";

#[test]
fn install_chains_an_existing_hook_and_uninstall_restores_it_byte_for_byte() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    let hooks = repo.path.join(".git/hooks");
    std::fs::write(hooks.join("pre-commit"), EXISTING_HOOK).unwrap();
    std::fs::set_permissions(
        hooks.join("pre-commit"),
        std::fs::Permissions::from_mode(0o751),
    )
    .unwrap();

    repo.vouch(&["install"])
        .assert_ok()
        .assert_output_has("runs the existing hook first");
    let installed = std::fs::read(hooks.join("pre-commit")).unwrap();
    assert!(String::from_utf8_lossy(&installed).contains("vouch-managed-hook"));

    // Installing twice changes nothing.
    repo.vouch(&["install"])
        .assert_ok()
        .assert_output_has("already installed");
    assert_eq!(std::fs::read(hooks.join("pre-commit")).unwrap(), installed);

    // The existing hook still runs, and its failure fails the commit.
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    repo.git(&["commit", "-q", "-m", "first"]).assert_ok();
    assert!(
        repo.path.join("existing-hook-ran").exists(),
        "the chained hook must run"
    );
    repo.write("b.txt", "b\n");
    repo.git(&["add", "b.txt"]).assert_ok();
    let run = repo.git_env(&["commit", "-q", "-m", "second"], &[("EXISTING_EXIT", "3")]);
    assert!(
        !run.output.status.success(),
        "a failing chained hook must fail the commit"
    );

    repo.vouch(&["uninstall"])
        .assert_ok()
        .assert_output_has("restored");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        EXISTING_HOOK
    );
    let mode = std::fs::metadata(hooks.join("pre-commit"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o751, "the restored hook keeps its mode");
    assert!(!hooks.join("pre-commit.vouch-chained").exists());
    assert!(!hooks.join("pre-push").exists());
}

#[test]
fn install_honours_core_hooks_path() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.git(&["config", "core.hooksPath", "githooks"])
        .assert_ok();
    repo.vouch(&["install"]).assert_ok();
    assert!(repo.path.join("githooks/pre-commit").exists());
    assert!(repo.path.join("githooks/pre-push").exists());
    assert!(!repo.path.join(".git/hooks/pre-commit").exists());
    // git runs the hooks from core.hooksPath: a committed policy that asks for a sign-off makes
    // the commit-msg hook there refuse a commit without one, and let one with it through.
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[commit_message]\nrequire_signoff = true\n",
    );
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "-s", "-m", "policy"])
        .assert_ok();
    repo.write("f", "1\n");
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "-m", "no sign-off"])
        .assert_refused_with(&["commit-message.signoff"]);
    repo.git(&["commit", "-q", "-s", "-m", "signed off"])
        .assert_ok();
    // The working tree's policy never judges: a malformed copy changes nothing.
    repo.write(".vouch/policy.toml", "bogus = 1\n");
    repo.git(&["add", "f"]).assert_ok();
    repo.write("g", "2\n");
    repo.git(&["add", "g"]).assert_ok();
    repo.git(&[
        "commit",
        "-q",
        "-s",
        "-m",
        "still judged by the committed policy",
    ])
    .assert_ok();
}

#[test]
fn install_in_a_linked_worktree_uses_the_shared_hooks() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.commit("root");
    let wt = sb.path().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "side"])
        .assert_ok();
    sb.run(&wt, &common::vouch_bin(), &["install"], &[], None)
        .assert_ok();
    assert!(
        repo.path.join(".git/hooks/pre-commit").exists(),
        "worktrees share the main hooks folder"
    );
    // A commit in the worktree runs vouch: prove it with a policy that needs a sign-off.
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[commit_message]\nrequire_signoff = true\n",
    );
    repo.commit("policy");
    sb.run(
        &wt,
        std::path::Path::new("git"),
        &["merge", "-q", "main"],
        &[],
        None,
    )
    .assert_ok();
    std::fs::write(wt.join("x"), "x\n").unwrap();
    sb.run(&wt, std::path::Path::new("git"), &["add", "x"], &[], None)
        .assert_ok();
    sb.run(
        &wt,
        std::path::Path::new("git"),
        &["commit", "-q", "-m", "unsigned-off"],
        &[],
        None,
    )
    .assert_refused_with(&["commit-message.signoff", "--signoff"]);
    sb.run(
        &wt,
        std::path::Path::new("git"),
        &["commit", "-q", "-s", "-m", "signed off"],
        &[],
        None,
    )
    .assert_ok();
}

#[test]
fn pre_push_gives_early_feedback_and_the_server_still_enforces_with_no_verify() {
    let sb = Sandbox::new();
    let server = sb.server("server.git");
    let repo = sb.repo("work");
    repo.add_remote(&server);
    repo.vouch(&["install"]).assert_ok();
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\n",
    );
    repo.commit("policy");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    repo.write("f", "1\n");
    repo.commit("direct change");
    let local = repo.push_as("alice", &["origin", "main"]);
    local.assert_refused_with(&[
        "protection.direct-push",
        "refs/remotes/origin/main:.vouch/policy.toml",
    ]);
    assert!(
        !local.stderr().contains("remote:"),
        "pre-push refuses before anything is sent"
    );
    repo.push_as("alice", &["--no-verify", "origin", "main"])
        .assert_refused_with(&[
            "remote:",
            "protection.direct-push",
            "pre-receive hook declined",
        ]);
}

#[test]
fn commit_msg_enforces_the_committed_policy() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.vouch(&["install"]).assert_ok();
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[commit_message]\nmax_subject_length = 20\n",
    );
    repo.commit("policy");
    repo.write("f", "1\n");
    repo.git(&["add", "f"]).assert_ok();
    repo.git(&["commit", "-q", "-m", "this subject line is far too long"])
        .assert_refused_with(&["commit-message.subject-length", "20"]);
    repo.git(&["commit", "-q", "-m", "short subject"])
        .assert_ok();
}

#[test]
fn a_missing_binary_fails_closed_with_a_fix() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    let copy = sb.path().join("vouch-copy");
    std::fs::copy(common::vouch_bin(), &copy).unwrap();
    repo.vouch(&["install", "--binary", copy.to_str().unwrap()])
        .assert_ok();
    std::fs::remove_file(&copy).unwrap();
    repo.write("f", "1\n");
    repo.git(&["add", "f"]).assert_ok();
    // PATH holding git and nothing else, so no vouch anywhere on this machine (even one in
    // /usr/bin) can stand in: the shim cannot find one and refuses, saying how to fix it.
    let git = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .expect("git on PATH");
    let only_git = sb.path().join("only-git");
    std::fs::create_dir(&only_git).unwrap();
    std::os::unix::fs::symlink(&git, only_git.join("git")).unwrap();
    let run = sb.run(
        &repo.path,
        &git,
        &["commit", "-q", "-m", "x"],
        &[("PATH", only_git.to_str().unwrap())],
        None,
    );
    run.assert_refused_with(&["cannot run", "vouch install"]);
}

#[test]
fn init_writes_a_valid_policy_and_installs_hooks() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.vouch(&["init"]).assert_ok();
    assert!(repo.path.join(".vouch/policy.toml").exists());
    assert!(repo.path.join(".vouch/allowed_signers").exists());
    assert!(repo.path.join(".git/hooks/pre-push").exists());
    repo.vouch(&["policy", "check"])
        .assert_ok()
        .assert_output_has("valid");
    // A second init keeps the policy.
    repo.write(".vouch/policy.toml", "# mine\n");
    repo.vouch(&["init"])
        .assert_ok()
        .assert_output_has("keeping it");
    assert_eq!(
        std::fs::read_to_string(repo.path.join(".vouch/policy.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn a_malformed_policy_exits_2_naming_line_and_column() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.write(
        ".vouch/policy.toml",
        "version = 1\n\n[signatures]\n  requird = true\n",
    );
    repo.vouch(&["policy", "check"])
        .assert_code(2)
        .assert_output_has(".vouch/policy.toml:4:3: unknown key `requird`")
        .assert_output_has("did you mean `required`?");
    repo.write(
        ".vouch/policy.toml",
        "[[branch]]\npattern = \"main\"\nallow_force_push = \"yes\"\n",
    );
    repo.vouch(&["policy", "check"])
        .assert_code(2)
        .assert_output_has(".vouch/policy.toml:3:");
    // Committed, it makes the server-side judgement fail closed too.
    repo.commit("bad policy");
    repo.vouch(&["check", "HEAD"])
        .assert_code(2)
        .assert_output_has("refs/heads/main:.vouch/policy.toml:3:");
}

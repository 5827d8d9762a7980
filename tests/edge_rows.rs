//! The edges a new user meets first, each judged as the design says: a SHA-256 repository is
//! refused by name (and every installed hook fails closed with the same reason), a large
//! staged file is scanned or fails as too large to scan, and a repository with no commits says
//! so and what to do.

mod common;
use common::Sandbox;
use std::path::Path;
use vouch_testkit::github_token;

const SHA256_REFUSAL: &str = "SHA-256 repositories are not supported: ";

fn sha256_repo(sb: &Sandbox, name: &str, bare: bool) -> std::path::PathBuf {
    let mut args = vec!["init", "-q", "--object-format=sha256", "-b", "main"];
    if bare {
        args.push("--bare");
    }
    args.push(name);
    sb.run(sb.path(), Path::new("git"), &args, &[], None)
        .assert_ok();
    sb.path().join(name)
}

#[test]
fn a_sha256_repository_is_refused_by_name_with_a_fix_by_every_command() {
    let sb = Sandbox::new();
    let dir = sha256_repo(&sb, "s", false);
    let vouch = common::vouch_bin();
    for args in [
        &["init"][..],
        &["install"],
        &["check"],
        &["check", "HEAD"],
        &["verify"],
        &["scan", "--staged"],
        &["scan", "."],
        &["owners", "README"],
        &["hook", "pre-commit"],
    ] {
        let run = sb.run(&dir, &vouch, args, &[], Some(""));
        run.assert_code(2)
            .assert_output_has(SHA256_REFUSAL)
            .assert_output_has("fix: use a SHA-1 repository");
        assert!(
            !run.stderr().contains("run vouch inside a git repository"),
            "vouch {args:?}: the repository is there; the old hint is wrong\n{}",
            run.stderr()
        );
    }
    assert!(
        !dir.join(".git/hooks/pre-commit").exists(),
        "no hook that can only refuse is installed"
    );
    let bare = sha256_repo(&sb, "s.git", true);
    sb.run(
        sb.path(),
        &vouch,
        &["install", "--server", bare.to_str().unwrap()],
        &[],
        None,
    )
    .assert_code(2)
    .assert_output_has(SHA256_REFUSAL);
    assert!(!bare.join("hooks/pre-receive").exists());
}

#[test]
fn hooks_installed_before_the_repository_was_sha256_fail_closed_with_the_reason() {
    let sb = Sandbox::new();
    // Hooks written for a SHA-1 repository, shared through core.hooksPath (as a team's
    // hooks folder is), and a server hook copied into a SHA-256 bare repository.
    let sha1 = sb.repo("sha1");
    let shared = sb.path().join("shared-hooks");
    sha1.git(&["config", "core.hooksPath", shared.to_str().unwrap()])
        .assert_ok();
    sha1.vouch(&["install"]).assert_ok();
    let server1 = sb.server("server1.git");

    let work = sha256_repo(&sb, "s", false);
    let git = |args: &[&str]| sb.run(&work, Path::new("git"), args, &[], None);
    git(&["config", "core.hooksPath", shared.to_str().unwrap()]).assert_ok();
    std::fs::write(work.join("f"), "1\n").unwrap();
    git(&["add", "f"]).assert_ok();
    git(&["commit", "-q", "-m", "first"]).assert_refused_with(&[SHA256_REFUSAL]);

    // A commit made without the hooks still cannot be pushed to a SHA-256 server with vouch's
    // hook, nor pass the local pre-push hook.
    git(&["commit", "-q", "--no-verify", "-m", "first"]).assert_ok();
    let server = sha256_repo(&sb, "server.git", true);
    std::fs::copy(
        server1.join("hooks/pre-receive"),
        server.join("hooks/pre-receive"),
    )
    .unwrap();
    git(&["remote", "add", "origin", server.to_str().unwrap()]).assert_ok();
    git(&["push", "-q", "origin", "main"]).assert_refused_with(&[SHA256_REFUSAL]);
    let run = git(&["push", "-q", "--no-verify", "origin", "main"]);
    run.assert_refused_with(&[SHA256_REFUSAL, "pre-receive hook declined"]);
    let refs = sb.run(&server, Path::new("git"), &["for-each-ref"], &[], None);
    assert_eq!(refs.stdout().trim(), "", "no ref moved on the server");
}

/// A text file of about `mb` megabytes with a fake token on its last line.
fn padded(mb: usize, token: &str) -> String {
    let line = "the quick brown fox jumps over the lazy dog, again and again and again\n";
    let mut text = line.repeat(mb * 1024 * 1024 / line.len());
    text.push_str(&format!("token = \"{token}\"\n"));
    text
}

#[test]
fn a_secret_padded_into_a_large_staged_file_is_still_found() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.vouch(&["install"]).assert_ok();
    let token = github_token(1301);
    repo.write("big.txt", &padded(50, &token));
    repo.git(&["add", "big.txt"]).assert_ok();
    let run = repo.git(&["commit", "-q", "-m", "big"]);
    run.assert_refused_with(&["secrets.github-pat-classic", "big.txt"]);
    assert!(
        !run.stderr().contains(&token),
        "the secret itself is never shown"
    );
}

#[test]
fn a_file_over_the_limit_fails_by_default_and_warns_when_the_policy_says_so() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[secrets]\nmax_file_bytes = 1048576\n",
    );
    repo.commit("policy");
    repo.vouch(&["install"]).assert_ok();
    repo.write("big.txt", &padded(2, &github_token(1302)));
    repo.git(&["add", "big.txt"]).assert_ok();
    repo.git(&["commit", "-q", "-m", "big"])
        .assert_refused_with(&[
            "error[secrets.not-scanned]",
            "big.txt",
            "1048576-byte limit",
            "oversize = \"warn\"",
        ]);
    // The same through `vouch check` and the server's judgement of a push.
    repo.git(&["commit", "-q", "--no-verify", "-m", "big"])
        .assert_ok();
    repo.vouch(&["check", "HEAD~1..HEAD"])
        .assert_code(1)
        .assert_output_has("secrets.not-scanned");

    repo.git(&["reset", "-q", "--soft", "HEAD~1"]).assert_ok();
    repo.git(&["restore", "--staged", "big.txt"]).assert_ok();
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[secrets]\nmax_file_bytes = 1048576\noversize = \"warn\"\n",
    );
    repo.git(&["add", ".vouch/policy.toml"]).assert_ok();
    repo.git(&["commit", "-q", "--no-verify", "-m", "warn only"])
        .assert_ok();
    repo.git(&["add", "big.txt"]).assert_ok();
    let run = repo.git(&["commit", "-q", "-m", "big"]);
    run.assert_ok();
    assert!(
        run.stderr().contains("warning[secrets.not-scanned]"),
        "{}",
        run.stderr()
    );
}

#[test]
fn oversize_and_max_file_bytes_are_validated_naming_file_line_and_fix() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.write(".vouch/policy.toml", "[secrets]\noversize = \"fial\"\n");
    repo.vouch(&["policy", "check"])
        .assert_code(2)
        .assert_output_has(".vouch/policy.toml:2:12: unknown `oversize` value \"fial\"")
        .assert_output_has("did you mean \"fail\"?");
    repo.write(
        ".vouch/policy.toml",
        "[secrets]\n\nmax_file_bytes = 1073741824\n",
    );
    repo.vouch(&["policy", "check"])
        .assert_code(2)
        .assert_output_has(".vouch/policy.toml:3:")
        .assert_output_has("between 1 and 536870912")
        .assert_output_has("fix: the default is 268435456");
}

#[test]
fn check_in_a_repository_with_no_commits_says_so_and_what_to_do() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    for args in [&["check"][..], &["check", "HEAD"], &["verify"]] {
        let run = repo.vouch(args);
        run.assert_code(2)
            .assert_output_has("this repository has no commits yet (main is unborn)")
            .assert_output_has("fix: make a first commit");
        assert!(
            !run.stderr().contains("revspec"),
            "libgit2's words are not the message\n{}",
            run.stderr()
        );
    }
    // Before the first commit the staged files can still be checked.
    repo.write("a.txt", &format!("{}\n", github_token(1303)));
    repo.git(&["add", "a.txt"]).assert_ok();
    repo.vouch(&["scan", "--staged"])
        .assert_code(1)
        .assert_output_has("secrets.github-pat-classic");
}

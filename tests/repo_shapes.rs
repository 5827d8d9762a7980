//! Repository shapes that real projects have and tidy test repositories do not: shallow clones,
//! submodules, odd and very long path names, symbolic links, linked worktrees and
//! `core.hooksPath` on the server, pushes of thousands of refs, and commits whose `gpgsig`
//! header is malformed. Each must never panic and never pass what vouch cannot judge.

// Test helpers panic on setup failure by design.
#![allow(clippy::unwrap_used)]

mod common;
use common::{Run, Sandbox, TestRepo};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use vouch_testkit::github_token;

const NO_SIGNATURES: &str = "[signatures]\nrequired = false\n";

#[track_caller]
fn assert_no_panic(run: &Run) {
    let all = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        !all.contains("panicked") && run.code() != 101,
        "vouch panicked\n{all}"
    );
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn a_range_past_the_shallow_boundary_fails_closed_and_one_inside_it_is_judged() {
    let sb = Sandbox::new();
    let origin = sb.repo("origin");
    origin.write(".vouch/policy.toml", NO_SIGNATURES);
    origin.commit("a");
    origin.write("b", "b\n");
    origin.commit("b");
    origin.write("c", "c\n");
    origin.commit("c");
    sb.run(
        sb.path(),
        Path::new("git"),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &file_url(&origin.path),
            "shallow",
        ],
        &[],
        None,
    )
    .assert_ok();
    let shallow = TestRepo {
        sandbox: &sb,
        path: sb.path().join("shallow"),
    };
    let boundary = shallow.head();
    shallow.write("d", "d\n");
    let d = shallow.commit("d");

    // Inside the clone's history: origin/main..HEAD is just d, and is judged as usual.
    shallow.vouch(&["check"]).assert_ok();

    // A push to an empty mirror brings d and everything behind it, which is not here.
    let input = format!("refs/heads/main {d} refs/heads/main {}\n", "0".repeat(40));
    let run = shallow.vouch_env(&["hook", "pre-push", "mirror", "x"], &[], Some(&input));
    assert_no_panic(&run);
    run.assert_code(2).assert_output_has(&format!(
        "reach past this shallow clone's boundary at {boundary}"
    ));
    run.assert_output_has("git fetch --unshallow");
    // `vouch check HEAD` stops at origin/main, inside the clone; `vouch verify HEAD` asks for
    // all of HEAD's history, which is not here.
    shallow.vouch(&["check", "HEAD"]).assert_ok();
    let run = shallow.vouch(&["verify", "HEAD"]);
    assert_no_panic(&run);
    run.assert_code(2)
        .assert_output_has("shallow clone's boundary");
    // A scan of "all history" has only part of it: refused, not a clean result.
    let run = shallow.vouch(&["scan", "--git", "--all"]);
    assert_no_panic(&run);
    run.assert_code(2)
        .assert_output_has(&format!("shallow clone's boundary at {boundary}"));
    // Through git: the installed pre-push hook refuses the same push to a real mirror.
    let mirror = sb.server("mirror.git");
    shallow.vouch(&["install"]).assert_ok();
    shallow
        .git(&["remote", "add", "mirror", mirror.to_str().unwrap()])
        .assert_ok();
    shallow
        .git(&["push", "-q", "mirror", "main"])
        .assert_refused_with(&["shallow clone's boundary"]);
}

#[test]
fn a_submodule_gitlink_in_a_change_is_judged_without_reading_the_submodule() {
    let sb = Sandbox::new();
    let lib = sb.repo("lib");
    lib.write("lib.txt", "lib\n");
    lib.commit("lib");
    let server = sb.server("server.git");
    let repo = sb.repo("work");
    repo.add_remote(&server);
    repo.write(".vouch/policy.toml", NO_SIGNATURES);
    repo.commit("policy");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &file_url(&lib.path),
        "vendor/lib",
    ])
    .assert_ok();
    repo.commit("add the lib submodule");
    let run = repo.vouch(&["check", "HEAD~1..HEAD"]);
    assert_no_panic(&run);
    run.assert_ok();
    // Move the gitlink to a commit this repository does not have: still judged, no crash.
    lib.write("lib.txt", "lib 2\n");
    let newer = lib.commit("lib 2");
    repo.git(&[
        "update-index",
        "--cacheinfo",
        &format!("160000,{newer},vendor/lib"),
    ])
    .assert_ok();
    repo.git(&["commit", "-q", "--no-verify", "-m", "bump lib"])
        .assert_ok();
    let run = repo.vouch(&["check", "HEAD~1..HEAD"]);
    assert_no_panic(&run);
    run.assert_ok();
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    // A secret next to a gitlink change is still found (the diff is not abandoned).
    repo.write(".gitmodules", &format!(
        "[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = https://x:{}@example.com/lib.git\n",
        github_token(1401)
    ));
    lib.write("lib.txt", "lib 3\n");
    let newest = lib.commit("lib 3");
    repo.git(&[
        "update-index",
        "--cacheinfo",
        &format!("160000,{newest},vendor/lib"),
    ])
    .assert_ok();
    repo.git(&["add", ".gitmodules"]).assert_ok();
    repo.git(&["commit", "-q", "--no-verify", "-m", "bump with a token"])
        .assert_ok();
    let run = repo.push_as("alice", &["-q", "origin", "main"]);
    assert_no_panic(&run);
    run.assert_refused_with(&["secrets.github-pat-classic", ".gitmodules"]);
}

/// A path of `len` bytes: folders of 200 bytes and a file name to make up the rest.
fn long_path(len: usize) -> String {
    let mut path = String::new();
    let mut n = 0;
    while len - path.len() > 250 {
        path.push_str(&format!("{:0<199}/", n));
        n += 1;
    }
    let rest = len - path.len();
    path.push_str(&"f".repeat(rest - 4));
    path.push_str(".txt");
    assert_eq!(path.len(), len);
    path
}

#[test]
fn non_utf8_and_4000_byte_paths_reach_every_renderer() {
    let sb = Sandbox::new();
    let repo = sb.repo("r");
    repo.write(".vouch/policy.toml", NO_SIGNATURES);
    repo.commit("policy");
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9-\xff\xfe.txt");
    std::fs::write(repo.path.join(odd), format!("{}\n", github_token(1402))).unwrap();
    let long = long_path(4000);
    repo.write(&long, &format!("{}\n", github_token(1403)));
    repo.commit("odd names");
    let last = long.rsplit('/').next().unwrap();
    for format in ["text", "json", "sarif", "markdown"] {
        let run = repo.vouch(&["check", "--format", format, "HEAD~1..HEAD"]);
        assert_no_panic(&run);
        run.assert_code(1);
        let out = run.stdout();
        assert!(
            out.matches("github-pat-classic").count() >= 2,
            "--format {format}: both findings\n{out}"
        );
        assert!(
            out.contains(last),
            "--format {format}: the long name in full"
        );
        assert!(
            out.contains("caf") && !out.contains("caf\u{e9}-"),
            "--format {format}: the non-UTF-8 name is shown, its bad bytes replaced\n{out}"
        );
        if format == "json" || format == "sarif" {
            let doc: serde_json::Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("--format {format} is not JSON: {e}\n{out}"));
            assert!(doc.is_object());
        }
    }
}

#[test]
fn symbolic_links_are_never_followed_outside_the_repository() {
    let sb = Sandbox::new();
    let outside = sb.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let token = github_token(1404);
    std::fs::write(outside.join("secret.txt"), format!("{token}\n")).unwrap();
    std::fs::write(outside.join("policy.toml"), "[secrets]\nenabled = false\n").unwrap();
    let repo = sb.repo("r");
    repo.write(".vouch/policy.toml", NO_SIGNATURES);
    repo.commit("policy");
    repo.vouch(&["install"]).assert_ok();
    std::os::unix::fs::symlink(outside.join("secret.txt"), repo.path.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path.join("out")).unwrap();
    std::os::unix::fs::symlink(".", repo.path.join("loop")).unwrap();
    // git records each link as its target's name; that is what the hooks judge.
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "-m", "links"]).assert_ok();
    repo.vouch(&["check", "HEAD~1..HEAD"]).assert_ok();
    // A working-tree scan does not follow them either (and the loop does not hang it).
    let run = repo.vouch(&["scan", "."]);
    assert_no_panic(&run);
    run.assert_ok();
    assert!(!run.stdout().contains("github-pat"), "{}", run.stdout());
    let run = repo.vouch(&["scan", "leak.txt"]);
    run.assert_ok()
        .assert_output_has("secrets.symlink-not-followed");
    // A policy file that is a link is refused, committed or not: following it would read
    // what nobody reviewed, and skipping it would judge with a weaker policy.
    std::fs::remove_file(repo.path.join(".vouch/policy.toml")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("policy.toml"),
        repo.path.join(".vouch/policy.toml"),
    )
    .unwrap();
    repo.vouch(&["policy", "check"])
        .assert_code(2)
        .assert_output_has(".vouch/policy.toml:1:1: is a symbolic link");
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "--no-verify", "-m", "policy by link"])
        .assert_ok();
    repo.write("x", &format!("{token}\n"));
    repo.git(&["add", "x"]).assert_ok();
    repo.git(&["commit", "-q", "-m", "x"])
        .assert_refused_with(&["refs/heads/main:.vouch/policy.toml:1:1: is a symbolic link"]);
    std::os::unix::fs::symlink(outside.join("secret.txt"), repo.path.join("CODEOWNERS")).unwrap();
    repo.git(&["rm", "-q", "--cached", ".vouch/policy.toml"])
        .assert_ok();
    std::fs::remove_file(repo.path.join(".vouch/policy.toml")).unwrap();
    repo.write(".vouch/policy.toml", NO_SIGNATURES);
    repo.git(&["add", "-A"]).assert_ok();
    repo.git(&["commit", "-q", "--no-verify", "-m", "owners by link"])
        .assert_ok();
    repo.vouch(&["owners", "x"])
        .assert_code(2)
        .assert_output_has("CODEOWNERS:1:1: is a symbolic link");
}

fn refusing_policy_repo<'s>(sb: &'s Sandbox, server: &Path) -> TestRepo<'s> {
    let repo = sb.repo("work");
    repo.add_remote(server);
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\nrequire_review = false\n",
    );
    repo.commit("policy");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    repo
}

#[test]
fn the_server_hook_honours_core_hooks_path_and_linked_worktrees() {
    let sb = Sandbox::new();
    // A bare server whose hooks live in core.hooksPath.
    let bare = sb.path().join("hookspath.git");
    sb.run(
        sb.path(),
        Path::new("git"),
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
        &[],
        None,
    )
    .assert_ok();
    let hooks = sb.path().join("server-hooks");
    sb.run(
        &bare,
        Path::new("git"),
        &["config", "core.hooksPath", hooks.to_str().unwrap()],
        &[],
        None,
    )
    .assert_ok();
    sb.run(
        sb.path(),
        &common::vouch_bin(),
        &["install", "--server", bare.to_str().unwrap()],
        &[],
        None,
    )
    .assert_ok();
    assert!(hooks.join("pre-receive").exists());
    assert!(!bare.join("hooks/pre-receive").exists());
    let repo = refusing_policy_repo(&sb, &bare);
    repo.write("x", &format!("{}\n", github_token(1405)));
    repo.commit("x");
    repo.push_as("alice", &["-q", "origin", "main"])
        .assert_refused_with(&["secrets.github-pat-classic", "pre-receive hook declined"]);

    // A non-bare server repository, installed through one of its linked worktrees: the hook
    // goes to the shared hooks folder and judges pushes to the repository.
    let srv = sb.repo("srv");
    srv.commit("root");
    srv.git(&["config", "receive.denyCurrentBranch", "ignore"])
        .assert_ok();
    let wt = sb.path().join("srv-wt");
    srv.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "-b", "side"])
        .assert_ok();
    sb.run(
        sb.path(),
        &common::vouch_bin(),
        &["install", "--server", wt.to_str().unwrap()],
        &[],
        None,
    )
    .assert_ok();
    assert!(srv.path.join(".git/hooks/pre-receive").exists());
    let pusher = TestRepo {
        sandbox: &sb,
        path: sb.path().join("pusher"),
    };
    sb.run(
        sb.path(),
        Path::new("git"),
        &["clone", "-q", srv.path.to_str().unwrap(), "pusher"],
        &[],
        None,
    )
    .assert_ok();
    pusher.write("y", &format!("{}\n", github_token(1406)));
    pusher.commit("y");
    pusher
        .push_as("alice", &["-q", "origin", "HEAD:refs/heads/topic"])
        .assert_refused_with(&["secrets.github-pat-classic", "pre-receive hook declined"]);
}

#[test]
fn five_thousand_refs_in_one_push_are_all_judged() {
    let sb = Sandbox::new();
    let server = sb.server("server.git");
    let repo = refusing_policy_repo(&sb, &server);
    repo.write("ok", "fine\n");
    let fine = repo.commit("fine");
    let updates: String = (0..5000)
        .map(|i| format!("create refs/heads/many/{i:04} {fine}\n"))
        .collect();
    let mut cmd = sb.home.command("git", &repo.path);
    cmd.args(["update-ref", "--stdin"])
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(updates.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    // One of the 5,000 deletes the protected main on the server: the whole push is refused.
    let started = std::time::Instant::now();
    let run = repo.push_as(
        "alice",
        &[
            "-q",
            "--atomic",
            "origin",
            "refs/heads/many/*:refs/heads/many/*",
            ":refs/heads/main",
        ],
    );
    assert_no_panic(&run);
    run.assert_refused_with(&["protection.deletion", "pre-receive hook declined"]);
    let listed = sb.run(
        &server,
        Path::new("git"),
        &["for-each-ref", "refs/heads/many"],
        &[],
        None,
    );
    assert_eq!(
        listed.stdout().lines().count(),
        0,
        "no ref of a refused push lands"
    );
    // Without the deletion, all 5,000 land.
    repo.push_as(
        "alice",
        &["-q", "origin", "refs/heads/many/*:refs/heads/many/*"],
    )
    .assert_ok();
    let listed = sb.run(
        &server,
        Path::new("git"),
        &["for-each-ref", "refs/heads/many"],
        &[],
        None,
    );
    assert_eq!(listed.stdout().lines().count(), 5000);
    eprintln!("5,000-ref pushes took {:?}", started.elapsed());
}

/// Write a raw commit object (bypassing git's own checks) and return its id.
fn raw_commit(repo: &TestRepo<'_>, body: &[u8]) -> String {
    let mut cmd = repo.sandbox.home.command("git", &repo.path);
    cmd.args([
        "hash-object",
        "-t",
        "commit",
        "-w",
        "--literally",
        "--stdin",
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn commits_with_malformed_gpgsig_headers_are_refused_never_passed() {
    let sb = Sandbox::new();
    let server = sb.server("server.git");
    let repo = sb.repo("work");
    repo.add_remote(&server);
    repo.write(
        ".vouch/policy.toml",
        "[signatures]\nrequired = true\n[[branch]]\npattern = \"main\"\nrequire_review = false\n",
    );
    repo.write(".vouch/allowed_signers", "");
    let base = repo.commit("policy");
    repo.push_as("alice", &["-q", "origin", "main"]).assert_ok();
    let tree = repo.rev("HEAD^{tree}");
    let head = format!(
        "tree {tree}\nparent {base}\nauthor Alice Author <alice@example.com> 1764068400 +0000\ncommitter Alice Author <alice@example.com> 1764068400 +0000\n"
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"gpgsig not a signature\n".to_vec()),
        ("empty", b"gpgsig \n".to_vec()),
        ("pgp without end", b"gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAAB\n".to_vec()),
        ("pgp bad base64", b"gpgsig -----BEGIN PGP SIGNATURE-----\n \n !!!!****\n -----END PGP SIGNATURE-----\n".to_vec()),
        ("ssh truncated", b"gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lHAAAAAQAAADMAAAALc3NoLWVk\n -----END SSH SIGNATURE-----\n".to_vec()),
        ("ssh no continuation", b"gpgsig -----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n".to_vec()),
        ("two headers", b"gpgsig -----BEGIN SSH SIGNATURE-----\n -----END SSH SIGNATURE-----\ngpgsig -----BEGIN PGP SIGNATURE-----\n -----END PGP SIGNATURE-----\n".to_vec()),
        ("sha256 only", b"gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n -----END PGP SIGNATURE-----\n".to_vec()),
        ("nul bytes", b"gpgsig -----BEGIN PGP SIGNATURE-----\n \0\0\0\n -----END PGP SIGNATURE-----\n".to_vec()),
        ("crlf", b"gpgsig -----BEGIN SSH SIGNATURE-----\r\n U1NIU0lH\r\n -----END SSH SIGNATURE-----\r\n".to_vec()),
        ("x509", b"gpgsig -----BEGIN SIGNED MESSAGE-----\n MIAG\n -----END SIGNED MESSAGE-----\n".to_vec()),
        ("huge", {
            let mut v = b"gpgsig -----BEGIN PGP SIGNATURE-----\n".to_vec();
            for _ in 0..20_000 {
                v.extend_from_slice(b" QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n");
            }
            v.extend_from_slice(b" -----END PGP SIGNATURE-----\n");
            v
        }),
    ];
    for (name, sig) in cases {
        let mut body = head.clone().into_bytes();
        body.extend_from_slice(&sig);
        body.extend_from_slice(format!("\n{name}\n").as_bytes());
        let id = raw_commit(&repo, &body);
        let run = repo.vouch(&["verify", &id]);
        assert_no_panic(&run);
        assert_eq!(
            run.code(),
            1,
            "{name}: vouch verify must refuse\n{}{}",
            run.stdout(),
            run.stderr()
        );
        repo.git(&["update-ref", "refs/heads/main", &id])
            .assert_ok();
        let run = repo.push_as("alice", &["-q", "--no-verify", "origin", "main"]);
        assert_no_panic(&run);
        run.assert_refused_with(&["signatures.", "pre-receive hook declined"]);
        repo.git(&["update-ref", "refs/heads/main", &base])
            .assert_ok();
    }
}

//! `vouch verify` and `vouch keys` end to end: a real repository, SSH keys made by ssh-keygen,
//! commits signed by git, the real `vouch` binary.

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `vouch` binary built beside this test (cargo builds it for `cargo test --workspace`).
fn vouch_bin() -> PathBuf {
    if let Some(p) = option_env!("CARGO_BIN_EXE_vouch") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir.join(format!("vouch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p vouch-hooks` first",
        bin.display()
    );
    bin
}

struct Repo {
    /// No system or user configuration (the shared test kit).
    home: vouch_testkit::Home,
    _dir: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
}

fn check(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys).unwrap();
        let home = vouch_testkit::Home::new();
        check(
            home.command("git", dir.path())
                .args(["init", "-q", "-b", "main"])
                .arg(&root),
        );
        let repo = Repo {
            home,
            _dir: dir,
            root,
            keys,
        };
        repo.git(&["config", "user.name", "Alice"]);
        repo.git(&["config", "user.email", "alice@example.com"]);
        repo.git(&["config", "gpg.format", "ssh"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        let out = check(self.home.command("git", &self.root).args(args));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn key(&self, name: &str) -> PathBuf {
        let path = self.keys.join(name);
        check(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(&path),
        );
        path
    }

    /// Commit everything staged (or nothing), signed with `key` as `email`.
    fn commit(&self, msg: &str, key: Option<&Path>, email: &str) -> String {
        let mut args = vec!["-c".to_string(), format!("user.email={email}")];
        if let Some(k) = key {
            args.push("-c".into());
            args.push(format!("user.signingkey={}", k.display()));
        }
        args.extend(["commit", "-q", "--allow-empty", "-m", msg].map(String::from));
        if key.is_some() {
            args.push("-S".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.git(&args);
        self.git(&["rev-parse", "HEAD"])
    }

    fn vouch(&self, args: &[&str]) -> Output {
        self.home
            .command(vouch_bin(), &self.root)
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap()
    }

    fn vouch_ok(&self, args: &[&str]) -> String {
        let out = self.vouch(args);
        assert!(
            out.status.success(),
            "vouch {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// (rule, commit) of every finding in a JSON verdict.
fn rules(json: &[u8]) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(json)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(json)));
    let mut out = Vec::new();
    for check in v["checks"].as_array().unwrap() {
        for f in check["findings"].as_array().unwrap() {
            out.push((
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["commit"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

fn write_policy(r: &Repo, text: &str) {
    std::fs::create_dir_all(r.root.join(".vouch")).unwrap();
    std::fs::write(r.root.join(".vouch/policy.toml"), text).unwrap();
}

#[test]
fn verify_judges_by_the_policy_in_force_and_audits_from_a_trust_root() {
    let r = Repo::new();
    let alice = r.key("alice");
    let bob = r.key("bob");
    let mallory = r.key("mallory");
    let pubkey = |k: &Path| k.with_extension("pub").display().to_string();

    write_policy(
        &r,
        "# team policy\n[signatures]\nrequired = true # every commit\n",
    );
    let added = r.vouch_ok(&[
        "keys",
        "add",
        &pubkey(&alice),
        "--identity",
        "alice@example.com",
    ]);
    assert!(added.contains("git add .vouch/allowed_signers"), "{added}");
    r.git(&["add", ".vouch"]);
    let root = r.commit("policy", Some(&alice), "alice@example.com");

    r.vouch_ok(&[
        "keys",
        "add",
        &pubkey(&bob),
        "--identity",
        "bob@example.com",
    ]);
    r.git(&["add", ".vouch"]);
    r.commit("trust bob", Some(&alice), "alice@example.com");
    let by_bob = r.commit("bob's work", Some(&bob), "bob@example.com");

    // Mallory trusts herself in the same commit she signs.
    r.vouch_ok(&[
        "keys",
        "add",
        &pubkey(&mallory),
        "--identity",
        "mallory@example.com",
    ]);
    r.git(&["add", ".vouch"]);
    let selfish = r.commit("trust me", Some(&mallory), "mallory@example.com");

    // One policy (the branch's own, which now trusts mallory): everything passes.
    let out = r.vouch(&["verify", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // -v lists the good ones too, each with its signer and key.
    let out = r.vouch(&["-v", "verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = v["checks"][0]["findings"].as_array().unwrap();
    assert_eq!(notes.len(), 4, "{notes:?}");
    let bob_note = notes
        .iter()
        .find(|f| f["location"]["commit"] == by_bob.as_str())
        .unwrap();
    assert_eq!(bob_note["rule"], "signatures.good");
    assert_eq!(bob_note["severity"], "note");
    assert_eq!(bob_note["properties"]["signer"], "bob@example.com");
    assert!(bob_note["properties"]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("SHA256:"));

    // Audited from the trust root, each commit by its parent's policy: mallory's fails.
    let out = r.vouch(&["verify", "--trust-root", &root, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        rules(&out.stdout),
        vec![("signatures.unknown-key".to_string(), selfish.clone())]
    );

    // A range: only bob's commit.
    let out = r.vouch(&["verify", &format!("{by_bob}~1..{by_bob}")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("verified 1 commit"));

    // Default range: the commits not on the upstream, judged by the upstream's policy.
    r.git(&[
        "remote",
        "add",
        "origin",
        "https://example.invalid/repo.git",
    ]);
    r.git(&["update-ref", "refs/remotes/origin/main", &by_bob]);
    r.git(&["config", "branch.main.remote", "origin"]);
    r.git(&["config", "branch.main.merge", "refs/heads/main"]);
    let unsigned = r.commit("unsigned", None, "alice@example.com");
    let out = r.vouch(&["verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let mut found = rules(&out.stdout);
    found.sort();
    let mut want = vec![
        ("signatures.unsigned".to_string(), unsigned.clone()),
        ("signatures.unknown-key".to_string(), selfish.clone()),
    ];
    want.sort();
    assert_eq!(found, want);
    let text = r.vouch(&["verify"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("signatures.unknown-key"), "{stdout}");
    assert!(stdout.contains("vouch keys add"), "{stdout}");
    // Signed annotated tags: `vouch verify TAG` judges the tag object too.
    let eve = r.key("eve");
    let signing = |k: &Path| format!("user.signingkey={}", k.display());
    r.git(&[
        "-c",
        &signing(&alice),
        "tag",
        "-s",
        "-m",
        "release",
        "v1",
        &by_bob,
    ]);
    r.git(&[
        "-c",
        &signing(&eve),
        "tag",
        "-s",
        "-m",
        "fake",
        "v1-eve",
        &by_bob,
    ]);
    let out = r.vouch(&[
        "verify",
        "--policy-ref",
        "refs/heads/main",
        &format!("{by_bob}..v1"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 commit(s) and 1 tag(s)"));
    let out = r.vouch(&["verify", "--format", "json", &format!("{by_bob}..v1-eve")]);
    assert_eq!(out.status.code(), Some(1));
    let tag_id = r.git(&["rev-parse", "v1-eve"]);
    assert_eq!(
        rules(&out.stdout),
        vec![("signatures.unknown-key".to_string(), tag_id)]
    );

    let sarif = r.vouch(&["verify", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(String::from_utf8_lossy(&sarif.stdout).contains("signatures.unsigned"));
}

#[test]
fn keys_retire_and_compromise_edit_the_policy_and_change_verdicts() {
    let r = Repo::new();
    let alice = r.key("alice");
    let pubkey = alice.with_extension("pub").display().to_string();
    write_policy(
        &r,
        "# team policy\n[signatures]\nrequired = true # every commit\n",
    );
    r.vouch_ok(&["keys", "add", &pubkey, "--identity", "alice@example.com"]);
    r.git(&["add", ".vouch"]);
    let old = r.commit("old work", Some(&alice), "alice@example.com");
    let list = r.vouch_ok(&["keys", "list"]);
    assert!(
        list.contains("alice@example.com") && list.contains("SHA256:"),
        "{list}"
    );

    // Retired from tomorrow: history stays good.
    let tomorrow = vouch_rules::signatures::iso(vouch_rules::change::unix_now() + 86_400);
    r.vouch_ok(&["keys", "retire", &pubkey, "--since", &tomorrow]);
    let policy = std::fs::read_to_string(r.root.join(".vouch/policy.toml")).unwrap();
    assert!(policy.starts_with("# team policy\n"), "{policy}");
    assert!(
        policy.contains("required = true # every commit"),
        "{policy}"
    );
    assert!(policy.contains("[[signatures.retired]]"), "{policy}");
    r.git(&["add", ".vouch"]);
    r.commit("retire", Some(&alice), "alice@example.com");
    r.vouch_ok(&["verify"]);

    // Retired since yesterday: commits dated after it fail.
    let yesterday = vouch_rules::signatures::iso(vouch_rules::change::unix_now() - 86_400);
    r.git(&["checkout", "-q", ".vouch/policy.toml"]);
    write_policy(&r, "# team policy\n[signatures]\nrequired = true\n");
    r.vouch_ok(&["keys", "retire", &pubkey, "--since", &yesterday]);
    r.git(&["add", ".vouch"]);
    r.commit("retire earlier", Some(&alice), "alice@example.com");
    let out = r.vouch(&["verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let found = rules(&out.stdout);
    assert!(
        found
            .iter()
            .any(|(rule, _)| rule == "signatures.retired-key"),
        "{found:?}"
    );

    // Compromised, with the old commit exempt.
    write_policy(&r, "# team policy\n[signatures]\nrequired = true\n");
    r.vouch_ok(&["keys", "compromise", &pubkey, "--exempt", &old]);
    let policy = std::fs::read_to_string(r.root.join(".vouch/policy.toml")).unwrap();
    assert!(
        policy.contains(&format!("exempt_commits = [\"{old}\"]")),
        "{policy}"
    );
    r.git(&["add", ".vouch"]);
    r.commit("compromised", Some(&alice), "alice@example.com");
    let out = r.vouch(&["verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let found = rules(&out.stdout);
    assert!(
        found
            .iter()
            .any(|(rule, _)| rule == "signatures.compromised-key"),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(_, c)| *c == old),
        "the exempt commit is not reported: {found:?}"
    );

    // Bad input: exit 2 with a fix.
    let out = r.vouch(&["keys", "retire", "not-a-key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fix:"));
}

#[test]
fn keys_add_from_the_gpg_keyring_then_verify() {
    let r = Repo::new();
    let home = r.keys.join("gnupg");
    std::fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    check(
        r.home
            .command("gpg", &r.root)
            .env("GNUPGHOME", &home)
            .args(["--batch", "--quiet", "--passphrase", "", "--quick-gen-key"])
            .args(["Carol <carol@example.com>", "ed25519", "sign", "0"]),
    );
    write_policy(&r, "[signatures]\nrequired = true\n");
    let gpg_env = |args: &[&str]| {
        r.home
            .command(vouch_bin(), &r.root)
            .env("GNUPGHOME", &home)
            .args(args)
            .output()
            .unwrap()
    };
    // An identity the key does not have is refused, with the gpg command that adds it.
    let out = gpg_env(&[
        "keys",
        "add",
        "--gpg",
        "carol@example.com",
        "--identity",
        "nobody@example.com",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpg --quick-add-uid"));
    let out = gpg_env(&["keys", "add", "--gpg", "carol@example.com"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(r.root.join(".vouch/keys/carol.asc").is_file());
    let list = r.vouch_ok(&["keys", "list"]);
    assert!(
        list.contains("openpgp") && list.contains("carol@example.com"),
        "{list}"
    );

    r.git(&["add", ".vouch"]);
    check(
        r.home
            .command("git", &r.root)
            .env("GNUPGHOME", &home)
            .args([
                "-c",
                "gpg.format=openpgp",
                "-c",
                "user.signingkey=carol@example.com",
            ])
            .args([
                "-c",
                "user.email=carol@example.com",
                "commit",
                "-q",
                "-S",
                "-m",
                "carol",
            ]),
    );
    let out = r.vouch(&["verify", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Her signature is good only as carol: a commit as someone else is refused.
    check(
        r.home
            .command("git", &r.root)
            .env("GNUPGHOME", &home)
            .args([
                "-c",
                "gpg.format=openpgp",
                "-c",
                "user.signingkey=carol@example.com",
            ])
            .args([
                "-c",
                "user.email=dave@example.com",
                "commit",
                "-q",
                "--allow-empty",
                "-S",
                "-m",
                "dave",
            ]),
    );
    let out = r.vouch(&["verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let found = rules(&out.stdout);
    let _ = Command::new("gpgconf")
        .arg("--homedir")
        .arg(&home)
        .args(["--kill", "gpg-agent"])
        .output();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "signatures.untrusted-identity");
}

/// `vouch check` judges as the server does — at push time — so a commit signed with a key that
/// was retired after the commit's (self-chosen) date is refused by both; only an explicit
/// `--clock commit-date` accepts it, and says it relied on the date. `vouch verify --keys`
/// audits the same history against keys held outside the repository.
#[test]
fn check_judges_at_push_time_and_verify_audits_with_outside_keys() {
    let r = Repo::new();
    let alice = r.key("alice");
    let pubkey = alice.with_extension("pub").display().to_string();
    write_policy(&r, "[signatures]\nrequired = true\n");
    r.vouch_ok(&["keys", "add", &pubkey, "--identity", "alice@example.com"]);
    r.git(&["add", ".vouch"]);
    r.commit("policy", Some(&alice), "alice@example.com");
    let fp = {
        let out = check(r.home.command("ssh-keygen", &r.root).args(["-lf", &pubkey]));
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    let text = std::fs::read_to_string(r.root.join(".vouch/policy.toml")).unwrap();
    write_policy(
        &r,
        &format!("{text}\n[[signatures.retired]]\nkey = \"{fp}\"\nsince = \"2021-01-01\"\n"),
    );
    r.git(&["add", ".vouch"]);
    r.commit("retire alice's key", Some(&alice), "alice@example.com");
    // A commit dated before the retirement, made now with the retired key.
    r.git(&["branch", "base"]);
    let dated = {
        let mut cmd = r.home.command("git", &r.root);
        cmd.env("GIT_COMMITTER_DATE", "2020-06-01T00:00:00Z")
            .env("GIT_AUTHOR_DATE", "2020-06-01T00:00:00Z")
            .args(["-c", "user.email=alice@example.com", "-c"])
            .arg(format!("user.signingkey={}", alice.display()))
            .args(["commit", "-q", "--allow-empty", "-S", "-m", "backdated"]);
        check(&mut cmd);
        r.git(&["rev-parse", "HEAD"])
    };

    let at_push = r.vouch(&["check", "base..HEAD", "--into", "base", "--format", "json"]);
    assert_eq!(at_push.status.code(), Some(1));
    assert!(
        rules(&at_push.stdout).contains(&("signatures.retired-key".into(), dated.clone())),
        "{}",
        String::from_utf8_lossy(&at_push.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&at_push.stdout).unwrap();
    assert_eq!(v["clock"]["basis"], "push-time");

    let by_date = r.vouch(&[
        "check",
        "base..HEAD",
        "--into",
        "base",
        "--clock",
        "commit-date",
        "--format",
        "json",
    ]);
    assert_eq!(by_date.status.code(), Some(0));
    assert!(rules(&by_date.stdout)
        .contains(&("signatures.relied-on-commit-date".into(), dated.clone())));

    // An auditor holding only alice's key judges the whole history with it, not with the
    // repository's own (and here retiring) policy.
    let keys = r.keys.join("audit");
    std::fs::create_dir(&keys).unwrap();
    std::fs::write(
        keys.join("allowed_signers"),
        format!(
            "alice@example.com {}",
            std::fs::read_to_string(&pubkey).unwrap()
        ),
    )
    .unwrap();
    let audit = r.vouch(&["verify", "--keys", keys.to_str().unwrap(), "HEAD"]);
    assert_eq!(
        audit.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    let empty = r.keys.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let refused = r.vouch(&["verify", "--keys", empty.to_str().unwrap(), "HEAD"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no `allowed_signers` file"));
}

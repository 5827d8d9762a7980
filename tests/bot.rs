//! The GitHub App bot end to end: the real `vouch-bot` against a fake GitHub (GitHub's published
//! REST examples and webhook payloads, a real bare repository over git smart HTTP), with commits
//! signed by real ssh-keygen keys. Each scenario asserts the check run reviewers would see.

#![allow(clippy::unwrap_used)]

mod bot_world;
mod common;

use bot_world::{post, summary, World, REPO, SECRET};
use serde_json::json;
use std::time::{Duration, Instant};

/// A pull request by alice with one signed commit, opened; the bot judges it.
fn alice_pull(w: &World, file: &str) -> String {
    w.topic("topic");
    w.write(file, "hello\n");
    let alice = w.alice.clone();
    w.commit_as(&alice, "Add a file", true);

    w.open_pull(1, &alice, &[&alice])
}

fn opened(w: &World, head: &str) {
    let a = w.deliver(
        "pull_request",
        &w.pull_payload("pull_request", "opened", 1, head, "alice"),
    );
    assert_eq!(a.status, 202, "{}", a.body);
}

#[test]
fn an_unsigned_commit_fails_naming_it() {
    let mut w = World::new();
    w.start_bot();
    w.topic("topic");
    w.write("a.txt", "a\n");
    let alice = w.alice.clone();
    let unsigned = w.commit_as(&alice, "Unsigned work", false);
    let head = w.open_pull(1, &alice, &[&alice]);
    opened(&w, &head);
    let check = w.completed(&head);
    assert_eq!(check.name, "vouch: main");
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let text = summary(&check);
    assert!(text.contains("signatures.unsigned"), "{text}");
    assert!(text.contains(&unsigned[..7]), "{text}");
    w.assert_clean();
}

#[test]
fn self_approval_fails_naming_the_author() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "b.txt");
    let alice = w.alice.clone();
    w.approve(1, &alice, &head);
    opened(&w, &head);
    let check = w.completed(&head);
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let text = summary(&check);
    assert!(text.contains("alice"), "{text}");
    assert!(text.contains("review."), "{text}");
    w.assert_clean();
}

#[test]
fn a_co_authors_approval_is_refused() {
    let mut w = World::new();
    w.start_bot();
    w.topic("topic");
    w.write("c.txt", "c\n");
    let alice = w.alice.clone();
    let carol = w.carol.clone();
    w.commit_as(
        &alice,
        // GitHub's no-reply address, as its UI suggests for co-author trailers.
        "Pair work\n\nCo-authored-by: carol <9001+carol@users.noreply.github.com>",
        true,
    );
    let head = w.open_pull(1, &alice, &[&alice]);
    w.approve(1, &carol, &head);
    opened(&w, &head);
    let check = w.completed(&head);
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let text = summary(&check);
    assert!(text.contains("carol"), "{text}");
    assert!(text.contains("co-author"), "{text}");
    w.assert_clean();
}

#[test]
fn an_independent_code_owners_approval_passes() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "d.txt");
    let carol = w.carol.clone();
    w.approve(1, &carol, &head);
    opened(&w, &head);
    let check = w.completed(&head);
    assert_eq!(
        check.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&check)
    );
    let text = summary(&check);
    assert!(text.contains("carol"), "{text}");
    assert!(
        text.contains(".vouch/policy.toml"),
        "the policy that judged: {text}"
    );
    w.assert_clean();
}

#[test]
fn a_push_after_approval_fails_again() {
    let mut w = World::new();
    w.start_bot();
    let first = alice_pull(&w, "e.txt");
    let carol = w.carol.clone();
    w.approve(1, &carol, &first);
    opened(&w, &first);
    assert_eq!(w.completed(&first).conclusion.as_deref(), Some("success"));
    // bob pushes a new commit after carol's approval.
    w.write("e2.txt", "more\n");
    let bob = w.bob.clone();
    let alice = w.alice.clone();
    w.commit_as(&bob, "Sneak in a change", true);
    let second = w.open_pull(1, &alice, &[&alice, &bob]);
    let a = w.deliver(
        "pull_request",
        &w.pull_payload("pull_request", "synchronize", 1, &second, "bob"),
    );
    assert_eq!(a.status, 202, "{}", a.body);
    let check = w.completed(&second);
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let text = summary(&check);
    assert!(
        text.contains(&first[..7]),
        "the stale approval's commit is named: {text}"
    );
    w.assert_clean();
}

#[test]
fn a_secret_fails_with_the_value_redacted_and_annotated() {
    let mut w = World::new();
    w.start_bot();
    w.topic("topic");
    // A GitHub token built at run time (never a literal in the repository).
    let token = vouch_testkit::github_token(42);
    w.write("config/app.env", &format!("GITHUB_TOKEN={token}\n"));
    let alice = w.alice.clone();
    w.commit_as(&alice, "Add config", true);
    let head = w.open_pull(1, &alice, &[&alice]);
    opened(&w, &head);
    let check = w.completed(&head);
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    let text = summary(&check);
    assert!(text.contains("secrets."), "{text}");
    assert!(
        !text.contains(&token),
        "the secret itself is in the check run"
    );
    let annotations = serde_json::to_string(&check.annotations).unwrap();
    assert!(
        !annotations.contains(&token),
        "the secret itself is in an annotation"
    );
    assert!(
        check
            .annotations
            .iter()
            .any(|a| a["path"] == "config/app.env" && a["start_line"] == 1),
        "{annotations}"
    );
    w.assert_clean();
}

#[test]
fn a_merge_group_is_checked_on_its_head() {
    let mut w = World::new();
    w.start_bot();
    w.topic("gh-readonly-queue/main/pr-1-abc");
    w.write("f.txt", "f\n");
    let alice = w.alice.clone();
    let head = w.commit_as(&alice, "Merge pull request #1", true);
    w.git(&[
        "push",
        "-q",
        "origin",
        "HEAD:refs/heads/gh-readonly-queue/main/pr-1-abc",
    ]);
    let mut p = vouch_fake_github::webhook_payload("merge_group", "checks_requested.payload.json");
    p["installation"] = json!({"id": bot_world::INSTALLATION});
    p["repository"]["full_name"] = REPO.into();
    p["merge_group"]["head_sha"] = head.clone().into();
    p["merge_group"]["head_ref"] = "refs/heads/gh-readonly-queue/main/pr-1-abc".into();
    p["merge_group"]["base_sha"] = w.main_sha().into();
    p["merge_group"]["base_ref"] = "refs/heads/main".into();
    let a = w.deliver("merge_group", &p);
    assert_eq!(a.status, 202, "{}", a.body);
    let check = w.completed(&head);
    assert_eq!(check.name, "vouch: main");
    assert_eq!(
        check.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&check)
    );
    w.assert_clean();
}

#[test]
fn a_bad_signature_is_refused_before_anything_happens_and_oversize_is_413() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "g.txt");
    let before = w.fake.requests().len();
    let body =
        serde_json::to_vec(&w.pull_payload("pull_request", "opened", 1, &head, "alice")).unwrap();
    let wrong = vouch_fake_github::sign_webhook(b"not-the-secret", &body);
    for sig in [Some(wrong), None, Some("sha256=00".to_string())] {
        let mut headers = vec![
            ("X-GitHub-Event", "pull_request".to_string()),
            ("X-GitHub-Delivery", "bad-1".to_string()),
        ];
        if let Some(s) = sig {
            headers.push(("X-Hub-Signature-256", s));
        }
        let a = post(w.port, "/webhook", &headers, &body);
        assert_eq!(a.status, 401, "{}", a.body);
    }
    let big = vec![b' '; 26 * 1024 * 1024];
    let sig = vouch_fake_github::sign_webhook(SECRET.as_bytes(), &big);
    let a = post(
        w.port,
        "/webhook",
        &[
            ("X-GitHub-Event", "pull_request".to_string()),
            ("X-GitHub-Delivery", "big-1".to_string()),
            ("X-Hub-Signature-256", sig),
        ],
        &big,
    );
    assert_eq!(a.status, 413, "{}", a.body);
    // An event the bot does not handle: 202, nothing queued.
    let a = w.deliver(
        "push",
        &vouch_fake_github::webhook_payload("push", "payload.json"),
    );
    assert_eq!(a.status, 202);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(w.fake.requests().len(), before, "GitHub was called");
    assert!(w.fake.check_runs().is_empty());
    // The same delivery id, properly signed later, is still taken: nothing was recorded.
    let a = w.deliver_as(
        "pull_request",
        &w.pull_payload("pull_request", "opened", 1, &head, "alice"),
        "bad-1",
    );
    assert_eq!(a.status, 202, "{}", a.body);
    w.completed(&head);
    let metrics = bot_world::get(w.port, "/metrics").unwrap();
    assert!(
        metrics.body.contains("outcome=\"unauthorized\""),
        "{}",
        metrics.body
    );
    w.assert_clean();
}

#[test]
fn a_duplicate_delivery_makes_one_check_run() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "h.txt");
    let p = w.pull_payload("pull_request", "opened", 1, &head, "alice");
    assert_eq!(w.deliver_as("pull_request", &p, "same-id").status, 202);
    let again = w.deliver_as("pull_request", &p, "same-id");
    assert_eq!(again.status, 200, "{}", again.body);
    w.completed(&head);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(w.checks_on(&head).len(), 1, "{:#?}", w.fake.check_runs());
    w.assert_clean();
}

#[test]
fn github_failing_twice_then_answering_still_lands_the_check_run() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "i.txt");
    w.fake.fail_next(
        "POST",
        &format!("/repos/{REPO}/check-runs"),
        2,
        502,
        Vec::new(),
        None,
    );
    opened(&w, &head);
    let check = w.completed(&head);
    assert!(check.conclusion.is_some());
    let posts = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(posts, vec![502, 502, 201], "{posts:?}");
    assert_eq!(w.checks_on(&head).len(), 1);
    w.assert_clean();
}

#[test]
fn a_secondary_rate_limit_with_retry_after_is_honoured() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "j.txt");
    w.fake.fail_next(
        "POST",
        &format!("/repos/{REPO}/check-runs"),
        1,
        403,
        vec![("retry-after".into(), "3".into())],
        Some(vouch_fake_github::secondary_rate_limit_body()),
    );
    let sent = Instant::now();
    opened(&w, &head);
    w.completed(&head);
    assert!(
        sent.elapsed() >= Duration::from_secs(3),
        "the bot did not wait the 3 s GitHub asked for"
    );
    let posts: Vec<u16> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/check-runs"))
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, vec![403, 201]);
    w.assert_clean();
}

#[test]
fn a_job_killed_mid_way_completes_after_restart() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "k.txt");
    // Hold the job inside its first GitHub call long enough to kill the bot there.
    w.fake.fail_next(
        "GET",
        &format!("/repos/{REPO}/pulls/1/reviews"),
        1,
        403,
        vec![("retry-after".into(), "20".into())],
        Some(vouch_fake_github::secondary_rate_limit_body()),
    );
    opened(&w, &head);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !w
        .fake
        .requests()
        .iter()
        .any(|r| r.path.contains("/pulls/1/reviews"))
    {
        assert!(
            Instant::now() < deadline,
            "the job never started:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    w.kill_bot();
    assert!(w.checks_on(&head).iter().all(|c| c.status != "completed"));
    w.start_bot();
    let check = w.completed(&head);
    assert_eq!(
        check.conclusion.as_deref(),
        Some("failure"),
        "no approval yet"
    );
    assert_eq!(
        w.checks_on(&head).len(),
        1,
        "the restarted job reuses its check run"
    );
    w.assert_clean();
}

#[test]
fn an_expired_installation_token_is_minted_again() {
    let mut w = World::with_key_format("");
    w.start_bot();
    let head = alice_pull(&w, "l.txt");
    opened(&w, &head);
    w.completed(&head);
    let minted = w.fake.tokens_minted();
    assert!(minted >= 1);
    w.fake.expire_tokens();
    let carol = w.carol.clone();
    w.approve(1, &carol, &head);
    let a = w.deliver(
        "pull_request_review",
        &w.pull_payload("pull_request_review", "submitted", 1, &head, "carol"),
    );
    assert_eq!(a.status, 202, "{}", a.body);
    let check = w.completed_n(&head, 2);
    assert_eq!(
        check.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&check)
    );
    assert!(w.fake.tokens_minted() > minted, "no new token was minted");
    w.assert_clean();
}

#[test]
fn rerun_judges_the_head_again() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "m.txt");
    opened(&w, &head);
    assert_eq!(w.completed(&head).conclusion.as_deref(), Some("failure"));
    let carol = w.carol.clone();
    w.approve(1, &carol, &head);
    let mut p = vouch_fake_github::webhook_payload("check_run", "rerequested.payload.json");
    p["installation"] = json!({"id": bot_world::INSTALLATION});
    p["repository"]["full_name"] = REPO.into();
    p["check_run"]["name"] = "vouch: main".into();
    p["check_run"]["head_sha"] = head.clone().into();
    p["check_run"]["pull_requests"] = json!([{"number": 1, "head": {"ref": "topic", "sha": head}, "base": {"ref": "main", "sha": w.main_sha()}}]);
    assert_eq!(w.deliver("check_run", &p).status, 202);
    let check = w.completed_n(&head, 2);
    assert_eq!(
        check.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&check)
    );
    w.assert_clean();
}

#[test]
fn reconciliation_judges_pull_requests_nobody_delivered() {
    let mut w = World::new();
    let head = alice_pull(&w, "n.txt");
    // The harness turns reconciliation off in bot.toml; the environment turns it back on.
    w.start_bot_with(&[("VOUCH_BOT_RECONCILE_INTERVAL", "3600")]);
    let check = w.completed(&head);
    assert_eq!(check.name, "vouch: main");
    w.assert_clean();
}

#[test]
fn sigterm_exits_cleanly() {
    let mut w = World::new();
    w.start_bot();
    let status = w.stop_bot();
    assert!(status.success(), "{status}\n{}", w.log());
    assert!(w.log().contains("stopped"), "{}", w.log());
}

#[test]
fn replay_prints_the_check_run_and_the_cli_reproduces_it() {
    let mut w = World::new();
    w.start_bot();
    let head = alice_pull(&w, "o.txt");
    let carol = w.carol.clone();
    w.approve(1, &carol, &head);
    let payload = w.sb.path().join("delivery.json");
    std::fs::write(
        &payload,
        serde_json::to_vec(&w.pull_payload("pull_request", "opened", 1, &head, "alice")).unwrap(),
    )
    .unwrap();
    let facts = w.sb.path().join("pr.json");
    let run = w.run_bot_cli(&[
        "replay",
        "--config",
        w.config.to_str().unwrap(),
        "--facts-out",
        facts.to_str().unwrap(),
        "pull_request",
        payload.to_str().unwrap(),
    ]);
    run.assert_ok();
    let printed: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(printed[0]["conclusion"], "success", "{}", run.stdout());
    assert_eq!(printed[0]["name"], "vouch: main");
    assert!(w.fake.check_runs().is_empty(), "replay posted a check run");
    // The CLI, given the same facts and commits, reaches the same verdict.
    let base = w.main_sha().trim().to_string();
    w.git(&["fetch", "-q", "origin", "refs/pull/1/head"]);
    let cli = w.vouch(&[
        "check",
        "--pull-request",
        facts.to_str().unwrap(),
        &format!("{base}..{head}"),
    ]);
    assert_eq!(cli.code(), 0, "{}\n{}", cli.stdout(), cli.stderr());
    // Without carol's approval both fail.
    let mut pr: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    pr["reviews"] = json!([]);
    std::fs::write(&facts, serde_json::to_vec(&pr).unwrap()).unwrap();
    let cli = w.vouch(&[
        "check",
        "--pull-request",
        facts.to_str().unwrap(),
        &format!("{base}..{head}"),
    ]);
    assert_eq!(cli.code(), 1, "{}\n{}", cli.stdout(), cli.stderr());
}

#[test]
fn check_config_names_what_is_wrong() {
    let mut w = World::new();
    w.start_bot();
    let ok = w.run_bot_cli(&["check-config", "--config", w.config.to_str().unwrap()]);
    ok.assert_ok();
    assert!(ok.stdout().contains("ok:"), "{}", ok.stdout());
    assert!(!ok.stdout().contains(SECRET));
    let bad = w.sb.path().join("bad.toml");
    std::fs::write(&bad, "listen = \"nowhere\"\n").unwrap();
    let run = w.run_bot_cli(&["check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("listen"), "{}", run.stderr());
    let typo = w.sb.path().join("typo.toml");
    std::fs::write(&typo, "listen = \"127.0.0.1:1\"\ndatabse = \"x\"\n").unwrap();
    let run = w.run_bot_cli(&["check-config", "--config", typo.to_str().unwrap()]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("typo.toml:2"), "{}", run.stderr());
}

/// `[attestation] merge = "on-approval"`: carol's approval makes the pull request pass, and the
/// bot makes the merge itself — signed with its own key file, judged as the push it makes (the
/// bot is `push_allow`'s one identity), attested — and pushes merge and note over HTTPS with the
/// installation token. git verifies the merge commit; `vouch attest verify` the note.
#[test]
fn on_approval_the_bot_merges_signs_attests_and_pushes() {
    let mut w = World::new();
    let key = w.sb.path().join("merge-key");
    w.sb.run(
        w.sb.path(),
        std::path::Path::new("ssh-keygen"),
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "vouch-bot",
            "-f",
            key.to_str().unwrap(),
        ],
        &[],
        None,
    )
    .assert_ok();
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let bot_email = "vouch-bot@users.noreply.github.com";
    let signers = std::fs::read_to_string(w.work.join(".vouch/allowed_signers")).unwrap();
    w.write(
        ".vouch/allowed_signers",
        &format!("{signers}{bot_email} {}\n", public.trim()),
    );
    w.write(
        ".vouch/policy.toml",
        &format!(
            "{}push_allow = [\"vouch-bot[bot]\"]\n\n[attestation]\nmerge = \"on-approval\"\nverifier_id = \"https://vouch-bot.example/\"\ntrusted_verifiers = [\"{bot_email}\"]\n",
            bot_world::POLICY
        ),
    );
    let alice = w.alice.clone();
    w.commit_as(&alice, "the bot merges main", true);
    w.git(&["push", "-q", "origin", "main"]);
    let base = w.main_sha().trim().to_string();
    w.start_bot_with(&[("VOUCH_BOT_MERGE_KEY_PATH", key.to_str().unwrap())]);

    let head = alice_pull(&w, "merged.txt");
    let carol = w.carol.clone();
    w.approve(1, &carol, &head);
    let a = w.deliver(
        "pull_request_review",
        &w.pull_payload("pull_request_review", "submitted", 1, &head, "carol"),
    );
    assert_eq!(a.status, 202, "{}", a.body);
    let check = w.completed(&head);
    assert_eq!(
        check.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&check)
    );

    // The forge's main is now the bot's merge: base and head as parents, signed, attested.
    let bare = |args: &[&str]| {
        w.sb.run(&w.bare, std::path::Path::new("git"), args, &[], None)
    };
    let merge = bare(&["rev-parse", "main"]).stdout().trim().to_string();
    assert_eq!(bare(&["rev-parse", "main^1"]).stdout().trim(), base);
    assert_eq!(bare(&["rev-parse", "main^2"]).stdout().trim(), head);
    let signers_file = w.sb.path().join("bot-signers");
    std::fs::write(&signers_file, format!("{bot_email} {}\n", public.trim())).unwrap();
    bare(&[
        "-c",
        &format!("gpg.ssh.allowedSignersFile={}", signers_file.display()),
        "verify-commit",
        &merge,
    ])
    .assert_ok();
    bare(&["notes", "--ref", "refs/notes/vouch", "show", &merge]).assert_ok();
    w.git(&[
        "fetch",
        "-q",
        "origin",
        "main:refs/remotes/origin/main",
        "refs/notes/vouch:refs/notes/vouch",
    ]);
    w.git(&["switch", "-q", "main"]);
    w.git(&["reset", "-q", "--hard", "origin/main"]);
    let pubkey = key.with_extension("pub");
    w.vouch(&[
        "attest",
        "verify",
        "--branch",
        "main",
        "--key",
        pubkey.to_str().unwrap(),
    ])
    .assert_ok()
    .assert_output_has("1 attestations covering 1 commits");
    w.assert_clean();
}

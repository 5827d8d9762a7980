//! The bot's posture audit end to end: the real `vouch-bot` against the fake GitHub, audits
//! queued by settings events and by the schedule, the `vouch: posture` check run on the
//! default branch's head, the one issue per repository that opens, edits itself and closes,
//! and `audit_fix` repairing settings without loosening a stricter one.

#![allow(clippy::unwrap_used)]

mod bot_world;
mod common;

use bot_world::{summary, World, APP_ID, INSTALLATION, NAME, OWNER, REPO};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use vouch_fake_github::{webhook_payload, CheckRun, FakeIssue, FakeRuleset};

/// Every rule the scenario policy asks of `main` (signed commits, one code-owner approval on
/// the last push, stale approvals dismissed, the bot's check, no force push or deletion).
fn full_rules() -> Vec<Value> {
    vec![
        json!({"type": "deletion"}),
        json!({"type": "non_fast_forward"}),
        json!({"type": "required_signatures"}),
        json!({"type": "pull_request", "parameters": {
            "required_approving_review_count": 1,
            "dismiss_stale_reviews_on_push": true,
            "require_code_owner_review": true,
            "require_last_push_approval": true,
            "required_review_thread_resolution": false
        }}),
        json!({"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": false,
            "required_status_checks": [{"context": "vouch: main", "integration_id": APP_ID}]
        }}),
    ]
}

fn ruleset(id: i64, name: &str, bypass: Vec<Value>) -> FakeRuleset {
    FakeRuleset {
        id,
        name: name.into(),
        enforcement: "active".into(),
        bypass_actors: bypass,
        include: vec!["~DEFAULT_BRANCH".into()],
        rules: full_rules(),
    }
}

/// The scenario's repository belongs to an organisation that requires 2FA, with alice, bob and
/// carol as members who have it.
fn org_world() -> World {
    let w = World::new();
    w.fake.set_organization(OWNER);
    w.fake.set_org_2fa(OWNER, true);
    for login in ["alice", "bob", "carol"] {
        w.fake.add_member(OWNER, login, true);
    }
    w
}

/// A settings event's payload as GitHub sends it: `extra` on top of the repository, sender
/// and installation of GitHub's published `repository` example.
fn settings_payload(action: &str, extra: Value) -> Value {
    let base = webhook_payload("repository", "edited.payload.json");
    let mut p = json!({
        "action": action,
        "repository": base["repository"].clone(),
        "sender": base["sender"].clone(),
        "installation": {"id": INSTALLATION},
    });
    p["repository"]["full_name"] = REPO.into();
    p["repository"]["name"] = NAME.into();
    p["repository"]["owner"]["login"] = OWNER.into();
    if let (Value::Object(into), Value::Object(from)) = (&mut p, extra) {
        into.extend(from);
    }
    p
}

fn posture_runs(w: &World) -> Vec<CheckRun> {
    w.fake
        .check_runs()
        .into_iter()
        .filter(|c| c.name == "vouch: posture" && c.status == "completed")
        .collect()
}

/// Wait for the `n`th completed posture check run; it.
fn nth_posture(w: &World, n: usize) -> CheckRun {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let runs = posture_runs(w);
        if runs.len() >= n {
            return runs[n - 1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no posture check run #{n}\nchecks: {:#?}\nrequests: {:#?}\nviolations: {:#?}\nbot log:\n{}",
            w.fake.check_runs(),
            w.fake.requests(),
            w.fake.violations(),
            w.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn issues(w: &World) -> Vec<FakeIssue> {
    w.fake.issues(OWNER, NAME)
}

fn deliver(w: &World, event: &str, payload: &Value) {
    let a = w.deliver(event, payload);
    assert_eq!(a.status, 202, "{event}: {}", a.body);
}

/// The issue and check run after the `n`th audit (the issue is written after the check run).
fn settle(w: &World, n: usize) -> CheckRun {
    let run = nth_posture(w, n);
    let deadline = Instant::now() + Duration::from_secs(30);
    while audits_done(w) < n {
        assert!(
            Instant::now() < deadline,
            "audit #{n} did not finish:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run
}

fn audits_done(w: &World) -> usize {
    w.log().matches("audit done").count()
}

#[test]
fn settings_events_audit_and_the_issue_opens_edits_itself_closes_and_reopens() {
    let mut w = org_world();
    w.start_bot();
    let head = w.main_sha();

    // Nothing protects main: the branch protection event queues an audit, which fails.
    deliver(
        &w,
        "branch_protection_rule",
        &settings_payload("deleted", json!({"rule": {"id": 1, "name": "main"}})),
    );
    let first = settle(&w, 1);
    assert_eq!(first.head_sha, head, "the check run sits on main's head");
    assert_eq!(first.conclusion.as_deref(), Some("failure"));
    let text = summary(&first);
    for needle in [
        "posture.vouch-check",
        "posture.signed-commits",
        "who can fix it: repository admin",
        "create ruleset \"vouch: main\"",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    let opened = issues(&w);
    assert_eq!(opened.len(), 1, "{opened:#?}");
    assert_eq!(opened[0].state, "open");
    assert!(
        opened[0].author.ends_with("[bot]"),
        "{:?}",
        opened[0].author
    );
    assert!(
        opened[0].body.contains("posture.force-push"),
        "{}",
        opened[0].body
    );
    assert!(opened[0]
        .body
        .contains("vouch audit --repo octo-org/widgets --fix"));

    // An organisation ruleset now covers main, and mallory joined without 2FA: the same issue
    // is edited to say only what still falls short.
    w.fake
        .add_org_ruleset(OWNER, ruleset(90, "org baseline", vec![]));
    w.fake.add_member(OWNER, "mallory", false);
    deliver(
        &w,
        "repository_ruleset",
        &settings_payload(
            "created",
            json!({"repository_ruleset": {"id": 90, "source_type": "Organization"}}),
        ),
    );
    let second = settle(&w, 2);
    assert_eq!(second.conclusion.as_deref(), Some("failure"));
    let edited = issues(&w);
    assert_eq!(edited.len(), 1, "still one issue: {edited:#?}");
    assert_eq!((edited[0].state.as_str(), edited[0].edits), ("open", 1));
    assert!(edited[0].body.contains("mallory"), "{}", edited[0].body);
    assert!(
        edited[0]
            .body
            .contains("who can fix it: mallory (or an organisation owner"),
        "{}",
        edited[0].body
    );
    assert!(
        !edited[0].body.contains("posture.force-push"),
        "{}",
        edited[0].body
    );

    // The same findings again (a deploy key event): the issue is left alone.
    deliver(
        &w,
        "deploy_key",
        &settings_payload(
            "created",
            json!({"key": {"id": 5, "title": "ci", "read_only": true}}),
        ),
    );
    settle(&w, 3);
    assert_eq!(
        issues(&w)[0].edits,
        1,
        "an unchanged report is not rewritten"
    );

    // mallory leaves the organisation: everything holds, the check passes, the issue closes.
    let mut leave = webhook_payload(
        "organization",
        "member_added.with-installation.payload.json",
    );
    leave["action"] = "member_removed".into();
    leave["installation"] = json!({"id": INSTALLATION});
    leave["organization"]["login"] = OWNER.into();
    w.fake.remove_member(OWNER, "mallory");
    deliver(&w, "organization", &leave);
    let third = settle(&w, 4);
    assert_eq!(
        third.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&third)
    );
    let closed = issues(&w);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].state, "closed");
    assert_eq!(closed[0].state_reason.as_deref(), Some("completed"));
    assert!(
        closed[0].body.contains("now meets the policy"),
        "{}",
        closed[0].body
    );

    // A gap comes back (a team membership event, organisation-wide): the same issue reopens.
    w.fake.add_member(OWNER, "eve", false);
    deliver(
        &w,
        "membership",
        &json!({
            "action": "added", "scope": "team", "member": {"login": "eve"},
            "team": {"slug": "core"}, "organization": {"login": OWNER},
            "installation": {"id": INSTALLATION},
        }),
    );
    let fourth = settle(&w, 5);
    assert_eq!(fourth.conclusion.as_deref(), Some("failure"));
    let reopened = issues(&w);
    assert_eq!(reopened.len(), 1, "{reopened:#?}");
    assert_eq!(reopened[0].number, opened[0].number);
    assert_eq!(reopened[0].state, "open");
    assert!(reopened[0].body.contains("eve"), "{}", reopened[0].body);
    w.assert_clean();
}

#[test]
fn audit_fix_repairs_each_gap_and_never_loosens_a_stricter_setting() {
    let mut w = org_world();
    // Classic protection stricter than the policy in approvals (3), but admins exempt.
    w.fake.set_protection(
        OWNER,
        NAME,
        "main",
        json!({
            "required_status_checks": {"strict": true, "checks": [{"context": "vouch: main", "app_id": APP_ID}]},
            "enforce_admins": false,
            "required_pull_request_reviews": {
                "required_approving_review_count": 3,
                "dismiss_stale_reviews": true,
                "require_code_owner_reviews": true,
                "require_last_push_approval": true
            },
            "restrictions": null,
            "required_linear_history": true,
            "allow_force_pushes": false,
            "allow_deletions": false
        }),
    );
    // The organisation's ruleset lets the release team skip everything…
    w.fake
        .set_team_grant(OWNER, NAME, OWNER, "release", 234, "write");
    w.fake.add_org_ruleset(
        OWNER,
        ruleset(
            91,
            "org baseline",
            vec![json!({"actor_id": 234, "actor_type": "Team", "bypass_mode": "always"})],
        ),
    );
    // …and a contractor outside the organisation has write.
    w.fake.add_outside_collaborator(OWNER, "contractor");
    w.fake.set_permission(OWNER, NAME, "contractor", "write");
    let classic_before = w.fake.protection(OWNER, NAME, "main");
    w.extra_config = "audit_fix = true\n".into();
    w.start_bot();
    deliver(
        &w,
        "member",
        &settings_payload("added", json!({"member": {"login": "contractor"}})),
    );
    let run = settle(&w, 1);
    assert_eq!(
        run.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&run)
    );
    let text = summary(&run);
    assert!(text.contains("Applied by the bot"), "{text}");

    // A vouch ruleset with no bypass closes the team's bypass; the org layer is untouched.
    let sets = w.fake.repo_rulesets(OWNER, NAME);
    assert_eq!(sets.len(), 1, "{sets:#?}");
    assert_eq!(sets[0].name, "vouch: main");
    assert!(sets[0].bypass_actors.is_empty());
    assert_eq!(
        w.fake.permission_of(OWNER, NAME, "contractor").as_deref(),
        Some("read")
    );
    // The stricter classic protection (3 approvals, linear history) was not rewritten.
    assert_eq!(w.fake.protection(OWNER, NAME, "main"), classic_before);
    let wrote_classic = w
        .fake
        .requests()
        .iter()
        .any(|r| r.method == "PUT" && r.path.ends_with("/protection"));
    assert!(!wrote_classic, "classic protection was written");
    // Everything held after the repair: no issue was needed.
    assert!(issues(&w).is_empty(), "{:#?}", issues(&w));
    w.assert_clean();
}

#[test]
fn the_schedule_audits_every_installation_at_start_and_a_rerun_audits_again() {
    let mut w = org_world();
    w.fake
        .add_repo_ruleset(OWNER, NAME, ruleset(12, "repo rules", vec![]));
    w.audit_interval = 3600;
    w.start_bot();
    let first = settle(&w, 1);
    assert_eq!(
        first.conclusion.as_deref(),
        Some("success"),
        "{}",
        summary(&first)
    );
    assert!(issues(&w).is_empty());
    // Re-run on the check run queues the audit again.
    let mut p = webhook_payload("check_run", "rerequested.payload.json");
    p["check_run"]["name"] = "vouch: posture".into();
    p["installation"] = json!({"id": INSTALLATION});
    p["repository"]["full_name"] = REPO.into();
    deliver(&w, "check_run", &p);
    settle(&w, 2);
    w.assert_clean();
}

#[test]
fn an_audit_that_cannot_read_a_setting_fails_closed_naming_the_permission() {
    let mut w = org_world();
    w.fake
        .add_repo_ruleset(OWNER, NAME, ruleset(12, "repo rules", vec![]));
    w.start_bot();
    w.fake
        .fail_next("GET", "/orgs/octo-org/members", 1, 403, vec![], None);
    deliver(
        &w,
        "member",
        &settings_payload("edited", json!({"member": {"login": "bob"}})),
    );
    let run = settle(&w, 1);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    let text = summary(&run);
    assert!(text.contains("posture.unreadable"), "{text}");
    assert!(text.contains("Administration: read"), "{text}");
    assert_eq!(issues(&w).len(), 1);
    w.assert_clean();
}

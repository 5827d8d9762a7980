//! `vouch audit` end to end: the real binary with a plain `GITHUB_TOKEN` against the fake
//! GitHub's protection, rulesets, members, 2FA-filter, collaborator, team and deploy-key
//! endpoints. Each scenario asserts the exit code and the finding an org admin would read, and
//! `--fix` scenarios what the forge holds afterwards.

#![allow(clippy::unwrap_used)]

mod common;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use vouch_fake_github::{FakeGitHub, FakeRuleset, Options};

const APP_ID: i64 = 42;
const TOKEN: &str = "ghp_audittesttoken0000000000000000000000";
const POLICY: &str = "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\n";

struct Scene {
    _dir: tempfile::TempDir,
    policy: std::path::PathBuf,
    rt: tokio::runtime::Runtime,
    gh: FakeGitHub,
}

fn public_key(dir: &Path) -> String {
    let pem = dir.join("app.pem");
    let ok = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&pem)
        .arg("2048")
        .output()
        .unwrap();
    assert!(ok.status.success(), "openssl genrsa: {ok:?}");
    let out = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Classic protection that meets the default policy on `main`.
fn strict_classic() -> Value {
    json!({
        "required_status_checks": {"strict": true, "checks": [{"context": "vouch: main", "app_id": APP_ID}]},
        "enforce_admins": true,
        "required_pull_request_reviews": {
            "required_approving_review_count": 2,
            "dismiss_stale_reviews": true,
            "require_code_owner_reviews": true,
            "require_last_push_approval": true
        },
        "restrictions": null,
        "allow_force_pushes": false,
        "allow_deletions": false
    })
}

fn full_rules(approvals: u32) -> Vec<Value> {
    vec![
        json!({"type": "deletion"}),
        json!({"type": "non_fast_forward"}),
        json!({"type": "pull_request", "parameters": {
            "required_approving_review_count": approvals,
            "dismiss_stale_reviews_on_push": true,
            "require_code_owner_review": true,
            "require_last_push_approval": true,
            "required_review_thread_resolution": false
        }}),
        json!({"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": true,
            "required_status_checks": [{"context": "vouch: main", "integration_id": APP_ID}]
        }}),
    ]
}

impl Scene {
    /// acme/app with its default branch `main`, an organisation that requires 2FA, no
    /// protection yet, and `policy` as the policy.
    fn new(policy: &str) -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let public = public_key(dir.path());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let gh = rt.block_on(FakeGitHub::start(Options {
            app_id: APP_ID as u64,
            app_public_key_pem: public,
            token_ttl: Duration::from_secs(3600),
        }));
        let bare = dir.path().join("app.git");
        std::fs::create_dir_all(&bare).unwrap();
        gh.add_installation(7, "acme");
        gh.add_repo(7, "acme", "app", &bare, "main");
        gh.add_plain_token(TOKEN, 7);
        gh.set_branches("acme", "app", &["main", "topic"]);
        gh.set_org_2fa("acme", true);
        gh.add_member("acme", "alice", true);
        let root = dir.path().join("policy");
        std::fs::create_dir_all(root.join(".vouch")).unwrap();
        std::fs::write(root.join(".vouch/policy.toml"), policy).unwrap();
        Scene {
            policy: root,
            _dir: dir,
            rt,
            gh,
        }
    }

    fn audit(&self, extra: &[&str]) -> Output {
        let policy = self.policy.to_str().unwrap().to_string();
        let app = APP_ID.to_string();
        let mut args = vec![
            "audit", "--repo", "acme/app", "--org", "acme", "--app-id", &app, "--policy", &policy,
            "--color", "never",
        ];
        args.extend_from_slice(extra);
        let out = Command::new(common::vouch_bin())
            .args(&args)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_API_URL", self.gh.url())
            .env_remove("VOUCH_APP_ID")
            .output()
            .unwrap();
        let _ = &self.rt;
        out
    }

    fn assert_clean(&self) {
        assert_eq!(self.gh.violations(), Vec::<String>::new());
        let leaked = self.gh.requests().iter().any(|r| r.path.contains(TOKEN));
        assert!(!leaked, "the token reached a URL");
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn expect(out: &Output, code: i32, needles: &[&str]) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(code), "{all}");
    for n in needles {
        assert!(all.contains(n), "missing {n:?}\n{all}");
    }
}

#[test]
fn classic_protection_only_passes_and_reaches_tier_5() {
    let s = Scene::new(POLICY);
    s.gh.set_protection("acme", "app", "main", strict_classic());
    let out = s.audit(&[]);
    expect(&out, 0, &["tier 5 (10/10)", "plan: nothing to change"]);
    s.assert_clean();
}

#[test]
fn classic_protection_admins_can_bypass_without_enforce_admins() {
    let s = Scene::new(POLICY);
    let mut p = strict_classic();
    p["enforce_admins"] = json!(false);
    s.gh.set_protection("acme", "app", "main", p);
    let out = s.audit(&[]);
    expect(
        &out,
        1,
        &[
            "posture.bypass",
            "role:admin",
            "enforce_admins",
            "repository admin",
        ],
    );
    s.assert_clean();
}

#[test]
fn an_org_ruleset_a_repo_setting_cannot_weaken() {
    let s = Scene::new(POLICY);
    // The repository's own protection allows force pushes and asks for no review…
    s.gh.set_protection(
        "acme",
        "app",
        "main",
        json!({"required_status_checks": null, "enforce_admins": false,
               "required_pull_request_reviews": null, "restrictions": null,
               "allow_force_pushes": true, "allow_deletions": true}),
    );
    // …and the organisation's ruleset, which no one bypasses, enforces all of it.
    s.gh.add_org_ruleset(
        "acme",
        FakeRuleset {
            id: 73,
            name: "acme baseline".into(),
            enforcement: "active".into(),
            bypass_actors: vec![],
            include: vec!["~DEFAULT_BRANCH".into()],
            rules: full_rules(1),
        },
    );
    let out = s.audit(&[]);
    expect(&out, 0, &["plan: nothing to change"]);
    s.assert_clean();
}

#[test]
fn a_bypass_actor_lets_a_team_skip_review_and_fix_closes_it_without_touching_the_org_layer() {
    let s = Scene::new(POLICY);
    s.gh.set_team_grant("acme", "app", "acme", "release", 234, "write");
    s.gh.add_org_ruleset(
        "acme",
        FakeRuleset {
            id: 73,
            name: "acme baseline".into(),
            enforcement: "active".into(),
            bypass_actors: vec![
                json!({"actor_id": 234, "actor_type": "Team", "bypass_mode": "always"}),
            ],
            include: vec!["refs/heads/main".into()],
            rules: full_rules(1),
        },
    );
    let out = s.audit(&[]);
    expect(
        &out,
        1,
        &[
            "posture.bypass",
            "acme/release",
            "organisation owner",
            "create ruleset \"vouch: main\"",
        ],
    );
    let out = s.audit(&["--fix"]);
    expect(&out, 0, &["applying:"]);
    let sets = s.gh.repo_rulesets("acme", "app");
    assert_eq!(sets.len(), 1, "{sets:#?}");
    assert_eq!(sets[0].name, "vouch: main");
    assert!(sets[0].bypass_actors.is_empty());
    // The org ruleset and its bypass stay as they were: only a layer was added.
    let again = s.audit(&[]);
    expect(&again, 0, &[]);
    s.assert_clean();
}

#[test]
fn fix_keeps_a_stricter_managed_ruleset_and_classic_protection() {
    let s = Scene::new(POLICY);
    let mut stricter = strict_classic();
    stricter["required_pull_request_reviews"]["required_approving_review_count"] = json!(4);
    stricter["enforce_admins"] = json!(false);
    s.gh.set_protection("acme", "app", "main", stricter);
    // vouch's own ruleset from an earlier run, tightened by hand to 3 approvals, but missing
    // the force-push block.
    let mut rules = full_rules(3);
    rules.remove(1);
    s.gh.add_repo_ruleset(
        "acme",
        "app",
        FakeRuleset {
            id: 5,
            name: "vouch: main".into(),
            enforcement: "active".into(),
            bypass_actors: vec![],
            include: vec!["refs/heads/main".into()],
            rules,
        },
    );
    let before = s.gh.protection("acme", "app", "main");
    let out = s.audit(&["--fix"]);
    expect(&out, 0, &["update ruleset 5"]);
    let sets = s.gh.repo_rulesets("acme", "app");
    assert_eq!(sets.len(), 1);
    let pr = sets[0]
        .rules
        .iter()
        .find(|r| r["type"] == "pull_request")
        .unwrap();
    assert_eq!(pr["parameters"]["required_approving_review_count"], 3);
    assert!(sets[0]
        .rules
        .iter()
        .any(|r| r["type"] == "non_fast_forward"));
    assert_eq!(s.gh.protection("acme", "app", "main"), before);
    s.assert_clean();
}

#[test]
fn a_member_without_2fa_is_reported_for_whoever_must_act_and_not_fixed() {
    let s = Scene::new(POLICY);
    s.gh.set_protection("acme", "app", "main", strict_classic());
    s.gh.add_member("acme", "mallory", false);
    let out = s.audit(&[]);
    expect(
        &out,
        1,
        &[
            "posture.member-without-2fa",
            "mallory",
            "not fixable through the API",
        ],
    );
    let out = s.audit(&["--fix"]);
    expect(&out, 1, &["mallory"]);
    assert!(s
        .gh
        .requests()
        .iter()
        .any(|r| r.path.contains("filter=2fa_disabled")));
    s.assert_clean();
}

#[test]
fn an_outside_collaborator_with_write_is_lowered_by_fix() {
    let s = Scene::new(POLICY);
    s.gh.set_protection("acme", "app", "main", strict_classic());
    s.gh.add_outside_collaborator("acme", "contractor");
    s.gh.set_permission("acme", "app", "contractor", "write");
    s.gh.set_permission("acme", "app", "alice", "admin");
    let out = s.audit(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rendered = v.to_string();
    assert!(
        rendered.contains("posture.outside-collaborator"),
        "{rendered}"
    );
    assert!(rendered.contains("\"current\":\"write\""), "{rendered}");
    let out = s.audit(&["--fix"]);
    expect(
        &out,
        0,
        &["lower collaborator contractor from write to read"],
    );
    assert_eq!(
        s.gh.permission_of("acme", "app", "contractor").as_deref(),
        Some("read")
    );
    assert_eq!(
        s.gh.permission_of("acme", "app", "alice").as_deref(),
        Some("admin")
    );
    s.assert_clean();
}

#[test]
fn unreadable_protection_fails_closed_naming_the_permission() {
    let s = Scene::new(POLICY);
    s.gh.set_protection("acme", "app", "main", strict_classic());
    s.gh.fail_next(
        "GET",
        "/repos/acme/app/branches/main/protection",
        1,
        403,
        vec![],
        None,
    );
    s.gh.fail_next(
        "GET",
        "/repos/acme/app/rules/branches/main",
        1,
        403,
        vec![],
        None,
    );
    let out = s.audit(&[]);
    expect(&out, 1, &["posture.unreadable", "Administration: read"]);
    // The org's 2FA setting hidden from a non-owner is unknown, not "on".
    let t = Scene::new(POLICY);
    t.gh.set_protection("acme", "app", "main", strict_classic());
    t.gh.fail_next("GET", "/orgs/acme/members", 1, 403, vec![], None);
    let out = t.audit(&[]);
    expect(&out, 1, &["posture.unreadable", "every member has 2FA"]);
}

#[test]
fn no_token_is_a_usage_error() {
    let s = Scene::new(POLICY);
    let out = Command::new(common::vouch_bin())
        .args(["audit", "--repo", "acme/app", "--policy"])
        .arg(&s.policy)
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    expect(&out, 2, &["vouch: no GITHUB_TOKEN"]);
}

/// The README's sample report: one screen with a gap of each kind (an organisation ruleset a
/// team bypasses, admins exempt from classic protection, a member without 2FA, an outside
/// collaborator with write, a read-write deploy key), and its plan.
#[test]
fn the_readme_sample_report() {
    let s = Scene::new(
        "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\n[access]\nforbid_deploy_keys_with_write = true\n",
    );
    let mut p = strict_classic();
    p["enforce_admins"] = json!(false);
    s.gh.set_protection("acme", "app", "main", p);
    s.gh.set_team_grant("acme", "app", "acme", "release", 234, "write");
    s.gh.add_org_ruleset(
        "acme",
        FakeRuleset {
            id: 73,
            name: "acme baseline".into(),
            enforcement: "active".into(),
            bypass_actors: vec![
                json!({"actor_id": 234, "actor_type": "Team", "bypass_mode": "always"}),
            ],
            include: vec!["~DEFAULT_BRANCH".into()],
            rules: full_rules(2),
        },
    );
    s.gh.add_member("acme", "mallory", false);
    s.gh.add_outside_collaborator("acme", "contractor");
    s.gh.set_permission("acme", "app", "contractor", "write");
    s.gh.add_deploy_key(
        "acme",
        "app",
        vouch_fake_github::FakeDeployKey {
            id: 9,
            title: "deploy from CI".into(),
            created_at: "2026-01-05T09:00:00Z".into(),
            read_only: false,
        },
    );
    let out = s.audit(&[]);
    expect(
        &out,
        1,
        &[
            "posture.bypass",
            "posture.member-without-2fa",
            "posture.outside-collaborator",
            "posture.deploy-key",
            "tier",
            "plan (run with --fix to apply):",
        ],
    );
    if std::env::var_os("VOUCH_PRINT_SAMPLE").is_some() {
        println!("{}", String::from_utf8_lossy(&out.stdout));
    }
    s.assert_clean();
}

use super::*;
use crate::change::posture::*;
use crate::policy::{Origin, Permission, PolicyFiles};

const APP: i64 = 42;

fn policy(text: &str) -> Policy {
    Policy::parse(
        text,
        ".vouch/policy.toml",
        Origin::BuiltIn,
        String::new(),
        PolicyFiles::new(""),
    )
    .unwrap()
}

/// `[[branch]] main`, one approval, code owners, no signatures (fewer needs to list).
fn main_policy() -> Policy {
    policy("[signatures]\nrequired = false\n[access]\nrequire_2fa = false\n[[branch]]\npattern = \"main\"\n")
}

fn strict_classic() -> ClassicProtection {
    ClassicProtection {
        status_checks: Some(StatusChecks {
            strict: true,
            checks: vec![RequiredCheck {
                context: "vouch: main".into(),
                app_id: Some(APP),
            }],
        }),
        enforce_admins: true,
        reviews: Some(ClassicReviews {
            required_approvals: 2,
            dismiss_stale: true,
            code_owners: true,
            last_push_approval: true,
            bypass: vec![],
        }),
        allow_force_pushes: false,
        allow_deletions: false,
        required_signatures: false,
        linear_history: false,
    }
}

fn posture(classic: Option<ClassicProtection>, rulesets: Vec<Ruleset>) -> Posture {
    Posture {
        repo: "acme/app".into(),
        default_branch: "main".into(),
        owner_is_org: true,
        app_id: Some(APP),
        branches: vec![BranchPosture {
            name: "main".into(),
            classic: Fact::Known(classic),
            rulesets: Fact::Known(rulesets),
        }],
        org_requires_2fa: Some(Fact::Known(true)),
        members_without_2fa: Some(Fact::Known(vec![])),
        outside_collaborators: Some(Fact::Known(vec![])),
        collaborators: Fact::Known(vec![]),
        teams: Fact::Known(vec![]),
        team_members: Default::default(),
        deploy_keys: Fact::Known(vec![]),
        token_grants: Some(Fact::Known(vec![])),
    }
}

fn errors(policy: &Policy, p: &Posture) -> Vec<Finding> {
    audit(policy, p, 1_800_000_000)
        .into_iter()
        .filter(|f| f.severity == crate::finding::Severity::Error)
        .collect()
}

fn rules_of(fs: &[Finding]) -> Vec<&str> {
    fs.iter().map(|f| f.rule.as_str()).collect()
}

fn review_ruleset(source_type: &str, bypass: Vec<BypassActor>) -> Ruleset {
    Ruleset {
        id: 7,
        name: "org baseline".into(),
        source_type: source_type.into(),
        source: "acme".into(),
        enforcement: "active".into(),
        bypass: Fact::Known(bypass),
        rules: vec![
            Rule::Deletion,
            Rule::NonFastForward,
            Rule::PullRequest {
                required_approvals: 1,
                dismiss_stale: true,
                code_owners: true,
                last_push_approval: true,
            },
            Rule::RequiredStatusChecks {
                strict: false,
                checks: vec![RequiredCheck {
                    context: "vouch: main".into(),
                    app_id: Some(APP),
                }],
            },
        ],
    }
}

#[test]
fn strict_classic_protection_holds_and_reaches_tier_5() {
    let p = posture(Some(strict_classic()), vec![]);
    assert_eq!(errors(&main_policy(), &p), vec![]);
    let t = tier(&p);
    assert_eq!((t.tier, t.score, t.next), (5, 10, None));
}

#[test]
fn unprotected_branch_names_each_setting_its_value_and_who_fixes_it() {
    let p = posture(None, vec![]);
    let fs = errors(&main_policy(), &p);
    let rules = rules_of(&fs);
    for r in [
        "posture.vouch-check",
        "posture.required-approvals",
        "posture.code-owner-review",
        "posture.dismiss-stale-reviews",
        "posture.last-push-approval",
        "posture.force-push",
        "posture.deletion",
    ] {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    let approvals = fs
        .iter()
        .find(|f| f.rule == "posture.required-approvals")
        .unwrap();
    assert_eq!(
        approvals.properties["setting"],
        "pull_request.required_approving_review_count"
    );
    assert_eq!(approvals.properties["current"], "no review required");
    assert_eq!(approvals.properties["required"], "at least 1");
    assert_eq!(approvals.properties["fix_by"], REPO_ADMIN);
    assert_eq!(tier(&p).tier, 0);
}

#[test]
fn admins_bypass_classic_protection_without_enforce_admins() {
    let mut c = strict_classic();
    c.enforce_admins = false;
    let fs = errors(&main_policy(), &posture(Some(c), vec![]));
    assert!(!fs.is_empty());
    assert!(fs.iter().all(|f| f.rule == "posture.bypass"), "{fs:#?}");
    assert!(fs[0].properties["current"].contains("role:admin"));
    assert!(fs[0].hint.as_deref().unwrap().contains("enforce_admins"));
}

#[test]
fn org_ruleset_holds_although_the_repo_setting_is_weaker() {
    // Classic protection allows force pushes and needs no review; the org layer wins.
    let weak = ClassicProtection {
        allow_force_pushes: true,
        allow_deletions: true,
        ..ClassicProtection::default()
    };
    let p = posture(Some(weak), vec![review_ruleset("Organization", vec![])]);
    assert_eq!(errors(&main_policy(), &p), vec![]);
}

#[test]
fn a_bypass_actor_lets_a_team_skip_review() {
    let actor = BypassActor {
        actor_type: "Team".into(),
        actor_id: Some(234),
        mode: "always".into(),
        name: Some("acme/release".into()),
    };
    let p = posture(
        None,
        vec![review_ruleset("Organization", vec![actor.clone()])],
    );
    let fs = errors(&main_policy(), &p);
    assert!(!fs.is_empty());
    let review = fs
        .iter()
        .find(|f| {
            f.properties
                .get("requirement")
                .is_some_and(|r| r.split(", ").any(|r| r == "posture.required-approvals"))
        })
        .unwrap();
    // One finding names every requirement the same bypass skips.
    assert_eq!(
        fs.iter().filter(|f| f.rule == "posture.bypass").count(),
        1,
        "{fs:#?}"
    );
    assert!(review.properties["requirement"].contains("posture.force-push"));
    assert_eq!(review.rule, "posture.bypass");
    assert!(review.properties["current"].contains("acme/release"));
    assert_eq!(review.properties["fix_by"], ORG_OWNER);
    // Allowed by push_allow: holds.
    let allowing = policy("[signatures]\nrequired = false\n[access]\nrequire_2fa = false\n[[branch]]\npattern = \"main\"\npush_allow = [\"@acme/release\"]\n");
    assert_eq!(errors(&allowing, &p), vec![]);
    // The plan adds vouch's own ruleset without the bypass.
    let plan = plan(&main_policy(), &p, &fs);
    match &plan.actions[..] {
        [Action::Ruleset {
            existing: None,
            bypass,
            rules,
            ..
        }] => {
            assert!(bypass.is_empty());
            assert!(rules.contains(&Rule::NonFastForward));
        }
        other => panic!("{other:#?}"),
    }
}

#[test]
fn vouch_check_from_another_app_is_not_enough() {
    let mut c = strict_classic();
    c.status_checks.as_mut().unwrap().checks[0].app_id = None;
    let fs = errors(&main_policy(), &posture(Some(c), vec![]));
    assert_eq!(rules_of(&fs), vec!["posture.vouch-check"]);
    assert_eq!(
        fs[0].properties["current"],
        "required from any source (not the vouch App)"
    );
}

#[test]
fn unknown_facts_fail_closed_naming_the_permission() {
    let mut p = posture(None, vec![]);
    p.branches[0].classic = Fact::Unknown("the token lacks `Administration: read`".into());
    p.branches[0].rulesets = Fact::Known(vec![review_ruleset("Repository", vec![])]);
    // The ruleset enforces everything without bypass: known to hold despite the unknown layer.
    assert_eq!(errors(&main_policy(), &p), vec![]);
    p.branches[0].rulesets = Fact::Unknown("rulesets: 403".into());
    let fs = errors(&main_policy(), &p);
    assert!(!fs.is_empty());
    assert!(fs.iter().all(|f| f.rule == "posture.unreadable"));
    assert!(
        fs[0].message.contains("Administration: read"),
        "{}",
        fs[0].message
    );
    let mut q = posture(Some(strict_classic()), vec![]);
    q.app_id = None;
    let fs = errors(&main_policy(), &q);
    assert_eq!(rules_of(&fs), vec!["posture.unreadable"]);
    assert!(fs[0].message.contains("--app-id"));
    let mut r = posture(Some(strict_classic()), vec![]);
    r.members_without_2fa = Some(Fact::Unknown("`admin:org` scope".into()));
    let two_fa = policy("[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\n");
    assert_eq!(rules_of(&errors(&two_fa, &r)), vec!["posture.unreadable"]);
}

#[test]
fn access_findings_for_2fa_outside_collaborators_roles_and_keys() {
    let pol = policy(
        "[signatures]\nrequired = false\n[[branch]]\npattern = \"main\"\n[roles]\nowners = [\"@boss\"]\ndevelopers = [\"@acme/devs\"]\n[access]\nmax_admins = 1\nmax_deploy_key_age_days = 30\n",
    );
    let mut p = posture(Some(strict_classic()), vec![]);
    p.org_requires_2fa = Some(Fact::Known(false));
    p.members_without_2fa = Some(Fact::Known(vec!["mallory".into()]));
    p.outside_collaborators = Some(Fact::Known(vec![Grant {
        name: "contractor".into(),
        permission: Permission::Write,
    }]));
    p.collaborators = Fact::Known(vec![
        Grant {
            name: "boss".into(),
            permission: Permission::Admin,
        },
        Grant {
            name: "dev".into(),
            permission: Permission::Write,
        },
        Grant {
            name: "other".into(),
            permission: Permission::Admin,
        },
    ]);
    p.teams = Fact::Known(vec![Grant {
        name: "acme/devs".into(),
        permission: Permission::Maintain,
    }]);
    p.team_members
        .insert("acme/devs".into(), Fact::Known(vec!["dev".into()]));
    p.deploy_keys = Fact::Known(vec![DeployKey {
        id: 9,
        title: "ci".into(),
        created_at: 1_800_000_000 - 90 * 86_400,
        read_only: false,
    }]);
    let fs = errors(&pol, &p);
    let rules = rules_of(&fs);
    assert_eq!(
        rules,
        vec![
            "posture.2fa-required",
            "posture.member-without-2fa",
            "posture.outside-collaborator",
            "posture.admin-count",
            "posture.role-permission",
            "posture.role-permission",
            "posture.deploy-key-write",
            "posture.deploy-key-age",
        ],
        "{fs:#?}"
    );
    // `dev` (a developer through the team) may hold write; `other` (no role) only read.
    assert!(fs[4].message.contains("other"), "{}", fs[4].message);
    assert!(
        fs[5].message.contains("team acme/devs"),
        "{}",
        fs[5].message
    );
    let plan = plan(&pol, &p, &fs);
    let shown: Vec<String> = plan.actions.iter().map(ToString::to_string).collect();
    assert!(
        shown.contains(&"lower collaborator contractor from write to read".to_string()),
        "{shown:#?}"
    );
    assert!(
        shown.contains(&"lower collaborator other from admin to read".to_string()),
        "{shown:#?}"
    );
    assert!(
        shown.contains(&"lower team acme/devs from maintain to write".to_string()),
        "{shown:#?}"
    );
    let manual = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Manual { .. }))
        .count();
    assert_eq!(manual, 5, "{shown:#?}");
}

#[test]
fn merging_never_loosens_a_stricter_setting() {
    let existing = vec![Rule::PullRequest {
        required_approvals: 3,
        dismiss_stale: false,
        code_owners: true,
        last_push_approval: false,
    }];
    let needs = needs_for(&main_policy(), "main").unwrap();
    let merged = plan::merge_rules(&existing, &needs.needs, "main", Some(APP));
    assert!(merged.contains(&Rule::PullRequest {
        required_approvals: 3,
        dismiss_stale: true,
        code_owners: true,
        last_push_approval: true,
    }));
    let mut stricter = strict_classic();
    stricter.reviews.as_mut().unwrap().required_approvals = 4;
    stricter.required_signatures = true;
    stricter.enforce_admins = false;
    let merged = plan::merge_classic(
        Some(&stricter),
        &needs.needs,
        &needs.allowed,
        "main",
        Some(APP),
    );
    assert_eq!(merged.reviews.as_ref().unwrap().required_approvals, 4);
    assert!(merged.required_signatures && merged.enforce_admins);
}

#[test]
fn the_check_is_skipped_without_posture_facts_and_runs_in_the_engine() {
    let engine = crate::Engine::new(main_policy()).only(&["posture"]);
    let change = crate::Change::new(crate::change::Stage::Push, 1_800_000_000);
    let v = engine.evaluate(&change);
    assert!(v.passed());
    let mut change = change;
    change.posture = Some(posture(None, vec![]));
    let v = engine.evaluate(&change);
    assert!(!v.passed());
    assert!(v.findings().any(|f| f.rule == "posture.scorecard-tier"));
}

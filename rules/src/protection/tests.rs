use super::*;
use crate::change::{RefUpdate, Stage, UpdateKind};
use crate::policy::{Origin, PolicyFiles};

const POLICY: &str = r#"
[[branch]]
pattern = "main"
push_allow = ["merge-bot"]

[[branch]]
pattern = "release/*"
require_review = false

[[branch]]
pattern = "scratch/**"
require_review = false
allow_force_push = true
allow_deletion = true

[[tag]]
pattern = "v*"
push_allow = ["release-bot"]
"#;

fn policy() -> Policy {
    Policy::parse(
        POLICY,
        ".vouch/policy.toml",
        Origin::BuiltIn,
        String::new(),
        PolicyFiles::new(""),
    )
    .unwrap()
}

fn update(name: &str, kind: UpdateKind) -> RefUpdate {
    let id = |c: char| Some(c.to_string().repeat(40));
    RefUpdate {
        name: name.into(),
        old: if kind == UpdateKind::Create {
            None
        } else {
            id('a')
        },
        new: if kind == UpdateKind::Delete {
            None
        } else {
            id('b')
        },
        kind,
        commits: vec![],
        tags: vec![],
    }
}

fn rules(name: &str, kind: UpdateKind, pusher: Option<&str>) -> Vec<String> {
    let mut change = Change::new(Stage::Push, 0);
    change.pusher = pusher.map(str::to_string);
    change.updates.push(update(name, kind));
    crate::Engine::new(policy())
        .only(&["protection"])
        .evaluate(&change)
        .findings()
        .map(|f| f.rule.clone())
        .collect()
}

#[test]
fn table() {
    use UpdateKind::*;
    let cases: &[(&str, UpdateKind, Option<&str>, &[&str])] = &[
        (
            "refs/heads/main",
            FastForward,
            Some("alice"),
            &["protection.direct-push"],
        ),
        (
            "refs/heads/main",
            FastForward,
            None,
            &["protection.direct-push"],
        ),
        ("refs/heads/main", FastForward, Some("merge-bot"), &[]),
        (
            "refs/heads/main",
            Force,
            Some("merge-bot"),
            &["protection.force-push"],
        ),
        (
            "refs/heads/main",
            Delete,
            Some("merge-bot"),
            &["protection.deletion"],
        ),
        (
            "refs/heads/main",
            Delete,
            Some("alice"),
            &["protection.deletion"],
        ),
        ("refs/heads/release/1.0", FastForward, Some("alice"), &[]),
        (
            "refs/heads/release/1.0",
            Force,
            Some("alice"),
            &["protection.force-push"],
        ),
        ("refs/heads/release/1.0/x", Force, Some("alice"), &[]),
        ("refs/heads/scratch/a/b", Force, Some("alice"), &[]),
        ("refs/heads/scratch/a/b", Delete, Some("alice"), &[]),
        ("refs/heads/feature", Force, Some("alice"), &[]),
        ("refs/heads/feature", Delete, None, &[]),
        ("refs/tags/v1.0", Create, Some("release-bot"), &[]),
        (
            "refs/tags/v1.0",
            Create,
            Some("alice"),
            &["protection.tag-create"],
        ),
        (
            "refs/tags/v1.0",
            FastForward,
            Some("release-bot"),
            &["protection.tag-move"],
        ),
        (
            "refs/tags/v1.0",
            Force,
            Some("release-bot"),
            &["protection.tag-move"],
        ),
        (
            "refs/tags/v1.0",
            Move,
            Some("release-bot"),
            &["protection.tag-move"],
        ),
        (
            "refs/tags/v1.0",
            Delete,
            Some("release-bot"),
            &["protection.deletion"],
        ),
        ("refs/tags/nightly", Force, Some("alice"), &[]),
    ];
    for (name, kind, pusher, want) in cases {
        assert_eq!(
            &rules(name, *kind, *pusher),
            want,
            "{name} {kind:?} by {pusher:?}"
        );
    }
}

#[test]
fn messages_name_rule_and_fix() {
    let mut change = Change::new(Stage::Push, 0);
    change
        .updates
        .push(update("refs/heads/main", UpdateKind::Force));
    change.pusher = Some("merge-bot".into());
    let verdict = crate::Engine::new(policy())
        .only(&["protection"])
        .evaluate(&change);
    let f = verdict.findings().next().unwrap();
    assert!(
        f.message
            .contains("[[branch]] pattern \"main\" (.vouch/policy.toml:3)"),
        "{}",
        f.message
    );
    assert!(f.hint.as_deref().unwrap().contains("git pull --rebase"));
}

#[test]
fn skipped_without_rules_and_at_commit_time() {
    let empty = Policy::parse(
        "",
        "p",
        Origin::BuiltIn,
        String::new(),
        PolicyFiles::new(""),
    )
    .unwrap();
    let change = Change::new(Stage::Push, 0);
    assert!(Protection.skip_reason(&empty, &change).is_some());
    assert!(Protection
        .skip_reason(&policy(), &Change::new(Stage::Commit, 0))
        .is_some());
    assert!(Protection.skip_reason(&policy(), &change).is_none());
}

//! Four-eyes review scenarios, one named case per row, judged through the `Review` check.

use vouch_rules::change::{Change, Point};
use vouch_rules::policy::{Origin, Permission, Policy, PolicyFiles};
use vouch_rules::review::{
    Identity, PrCommit, PullRequest, Review, ReviewState, SignatureVerdict, SubmittedReview,
};
use vouch_rules::{Check, Severity, Status, Verdict};

const HEAD: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const OLD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const C1: &str = "3f2a1c9000000000000000000000000000000000";

const TARGET_CODEOWNERS: &str = "\
* @acme/maintainers
/src/ @sam
/src/vendor/
*.md docs@acme.example
/.vouch/ @acme/security
/.github/CODEOWNERS @acme/security
";

const POLICY: &str = "\
[review]
required_approvals = 1

[[review.bots]]
login = \"vouch-bot[bot]\"
signer = \"vouch-bot\"
";

fn person(login: &str) -> Identity {
    Identity {
        name: login.to_string(),
        email: format!("{login}@acme.example"),
        login: Some(login.to_string()),
    }
}

fn review(reviewer: &str, state: ReviewState, commit: &str, minute: u32) -> SubmittedReview {
    SubmittedReview {
        reviewer: reviewer.to_string(),
        state,
        commit_id: commit.to_string(),
        submitted_at: format!("2026-11-25T10:{minute:02}:00Z"),
    }
}

fn approve(reviewer: &str, minute: u32) -> SubmittedReview {
    review(reviewer, ReviewState::Approved, HEAD, minute)
}

/// alice's pull request changing src/lib.rs, one commit, approved by @sam (owner of /src/).
fn base() -> PullRequest {
    PullRequest {
        number: 7,
        author: "alice".into(),
        base: "main".into(),
        head_sha: HEAD.into(),
        changed_paths: vec!["src/lib.rs".into()],
        commits: vec![PrCommit {
            sha: C1.into(),
            author: person("alice"),
            committer: person("alice"),
            co_authors: vec![],
            signature: Some(SignatureVerdict {
                verified: true,
                signer: Some("alice@acme.example".into()),
            }),
        }],
        last_pusher: "alice".into(),
        reviews: vec![approve("sam", 1)],
        teams: [
            ("acme/maintainers".to_string(), vec!["mia".to_string()]),
            ("acme/security".to_string(), vec!["sec-sue".to_string()]),
        ]
        .into(),
        permissions: [
            ("alice", Permission::Write),
            ("sam", Permission::Write),
            ("mia", Permission::Maintain),
            ("sec-sue", Permission::Admin),
            ("bob", Permission::Write),
            ("rita", Permission::Read),
            ("dora", Permission::Write),
        ]
        .map(|(l, p)| (l.to_string(), p))
        .into(),
        emails: [("dora".to_string(), vec!["docs@acme.example".to_string()])].into(),
    }
}

fn policy(policy_toml: &str, codeowners: Option<&str>) -> Policy {
    let mut files = PolicyFiles::new("refs/heads/main");
    if let Some(text) = codeowners {
        files.insert(".github/CODEOWNERS", text.as_bytes().to_vec());
    }
    Policy::parse(
        policy_toml,
        ".vouch/policy.toml",
        Origin::File {
            origin: "refs/heads/main".into(),
        },
        String::new(),
        files,
    )
    .expect("test policy parses")
}

fn judge(policy: &Policy, pr: PullRequest) -> Verdict {
    let mut change = Change::new(Point::Bot, 0);
    change.pull_request = Some(pr);
    let checks: Vec<Box<dyn Check>> = vec![Box::new(Review)];
    vouch_rules::evaluate_with(policy, &change, &checks)
}

struct Case {
    name: &'static str,
    edit: fn(&mut PullRequest),
    passes: bool,
    /// Rules that must have an error finding.
    errors: &'static [&'static str],
    /// Text some finding's message must contain.
    says: &'static str,
}

#[test]
fn review_scenarios() {
    let cases = [
        Case {
            name: "owner approval on head passes",
            edit: |_| {},
            passes: true,
            errors: &[],
            says: "approved by code owner @sam",
        },
        Case {
            name: "self-approval does not count",
            edit: |pr| pr.reviews = vec![approve("alice", 1)],
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@alice approved but opened the pull request, pushed last, authored 3f2a1c9, committed 3f2a1c9",
        },
        Case {
            name: "co-author approval does not count",
            edit: |pr| {
                pr.commits[0].co_authors.push(Identity { name: "Sam".into(), email: "sam@personal.example".into(), login: None });
                pr.emails.insert("sam".into(), vec!["SAM@personal.example".into()]);
            },
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@sam approved but co-authored 3f2a1c9",
        },
        Case {
            name: "last pusher approval does not count",
            edit: |pr| pr.last_pusher = "Sam".into(),
            passes: false,
            errors: &["review.approvals"],
            says: "@sam approved but pushed last",
        },
        Case {
            name: "stale approval after a new push",
            edit: |pr| pr.reviews = vec![review("sam", ReviewState::Approved, OLD, 1)],
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@sam approved aaaaaaa but the head is now bbbbbbb",
        },
        Case {
            name: "re-approval on the new head counts",
            edit: |pr| pr.reviews = vec![review("sam", ReviewState::Approved, OLD, 1), approve("sam", 2)],
            passes: true,
            errors: &[],
            says: "approved by code owner @sam",
        },
        Case {
            name: "team member approval satisfies a team owner",
            edit: |pr| {
                pr.changed_paths = vec!["Cargo.toml".into()];
                pr.reviews = vec![approve("mia", 1)];
            },
            passes: true,
            errors: &[],
            says: "approved by code owner @mia",
        },
        Case {
            name: "non-owner approval leaves the owned group open",
            edit: |pr| pr.reviews = vec![approve("bob", 1)],
            passes: false,
            errors: &["review.code-owner-approval"],
            says: "needs approval from one of @sam",
        },
        Case {
            name: "insufficient permission",
            edit: |pr| {
                pr.changed_paths = vec!["src/vendor/x.c".into()];
                pr.reviews = vec![approve("rita", 1)];
            },
            passes: false,
            errors: &["review.approvals"],
            says: "@rita approved but has read permission on the repository; `write` is needed",
        },
        Case {
            name: "unknown permission does not count",
            edit: |pr| {
                pr.changed_paths = vec!["src/vendor/x.c".into()];
                pr.reviews = vec![approve("stranger", 1)];
            },
            passes: false,
            errors: &["review.approvals"],
            says: "has no known permission",
        },
        Case {
            name: "owner change request blocks",
            edit: |pr| pr.reviews = vec![review("sam", ReviewState::ChangesRequested, OLD, 1), approve("bob", 2)],
            passes: false,
            errors: &["review.changes-requested", "review.code-owner-approval"],
            says: "@sam, code owner of `/src/` (line 2), requested changes on aaaaaaa",
        },
        Case {
            name: "dismissed change request no longer blocks",
            edit: |pr| {
                pr.reviews = vec![
                    review("sam", ReviewState::ChangesRequested, OLD, 1),
                    review("sam", ReviewState::Dismissed, OLD, 2),
                    approve("mia", 3),
                    approve("sam", 4),
                ]
            },
            passes: true,
            errors: &[],
            says: "approved by code owner @sam",
        },
        Case {
            name: "a comment does not clear an approval",
            edit: |pr| pr.reviews = vec![approve("sam", 1), review("sam", ReviewState::Commented, HEAD, 2)],
            passes: true,
            errors: &[],
            says: "1 independent approval",
        },
        Case {
            name: "a dismissed approval does not count",
            edit: |pr| pr.reviews = vec![approve("sam", 1), review("sam", ReviewState::Dismissed, HEAD, 2)],
            passes: false,
            errors: &["review.approvals"],
            says: "0 of 1 required independent approval",
        },
        Case {
            name: "CODEOWNERS edited in the PR needs the target branch's owners",
            edit: |pr| {
                // The PR would make @bob owner of everything; that must not matter.
                pr.changed_paths.push(".github/CODEOWNERS".into());
                pr.reviews = vec![approve("sam", 1), approve("bob", 2)];
            },
            passes: false,
            errors: &["review.code-owner-approval"],
            says: "needs approval from one of @acme/security (they guard vouch's policy",
        },
        Case {
            name: "policy edit approved by the security team",
            edit: |pr| {
                pr.changed_paths.push(".vouch/policy.toml".into());
                pr.reviews = vec![approve("sam", 1), approve("sec-sue", 2)];
            },
            passes: true,
            errors: &[],
            says: "approved by code owner @sec-sue",
        },
        Case {
            name: "unowned files need only the general approval",
            edit: |pr| {
                pr.changed_paths = vec!["src/vendor/lib.c".into()];
                pr.reviews = vec![approve("bob", 1)];
            },
            passes: true,
            errors: &[],
            says: "1 changed path has no code owner",
        },
        Case {
            name: "e-mail owner matched through the login's addresses",
            edit: |pr| {
                pr.changed_paths = vec!["README.md".into()];
                pr.reviews = vec![approve("dora", 1)];
            },
            passes: true,
            errors: &[],
            says: "approved by code owner @dora",
        },
        Case {
            name: "verified bot update merge does not count against its co-author",
            edit: |pr| {
                pr.commits.push(PrCommit {
                    sha: HEAD.into(),
                    author: person("vouch-bot[bot]"),
                    committer: person("sam"),
                    co_authors: vec![person("sam")],
                    signature: Some(SignatureVerdict { verified: true, signer: Some("vouch-bot".into()) }),
                });
            },
            passes: true,
            errors: &[],
            says: "is signed by bot @vouch-bot[bot]'s trusted signer `vouch-bot`",
        },
        Case {
            name: "unverified bot commit counts like any other",
            edit: |pr| {
                pr.commits.push(PrCommit {
                    sha: HEAD.into(),
                    author: person("vouch-bot[bot]"),
                    committer: person("sam"),
                    co_authors: vec![],
                    signature: Some(SignatureVerdict { verified: false, signer: None }),
                });
            },
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@sam approved but committed bbbbbbb",
        },
        Case {
            name: "bot commit signed by another signer counts",
            edit: |pr| {
                pr.commits.push(PrCommit {
                    sha: HEAD.into(),
                    author: person("vouch-bot[bot]"),
                    committer: person("sam"),
                    co_authors: vec![],
                    signature: Some(SignatureVerdict { verified: true, signer: Some("sam@acme.example".into()) }),
                });
            },
            passes: false,
            errors: &["review.approvals"],
            says: "names a bot but its signature is not verified by that bot's signer",
        },
        Case {
            name: "unlinked commit identity is reported",
            edit: |pr| pr.commits[0].co_authors.push(Identity { name: "Ghost".into(), email: "ghost@elsewhere.example".into(), login: None }),
            passes: true,
            errors: &[],
            says: "1 commit identity is not linked to any login",
        },
        Case {
            name: "unreadable review time is an error",
            edit: |pr| pr.reviews.push(SubmittedReview { reviewer: "bob".into(), state: ReviewState::Approved, commit_id: HEAD.into(), submitted_at: "yesterday".into() }),
            passes: false,
            errors: &["review.bad-input"],
            says: "unreadable submitted_at",
        },
    ];
    let policy = policy(POLICY, Some(TARGET_CODEOWNERS));
    for case in &cases {
        let mut pr = base();
        (case.edit)(&mut pr);
        let verdict = judge(&policy, pr);
        let messages: Vec<String> = verdict
            .findings()
            .map(|f| format!("[{}] {}", f.rule, f.message))
            .collect();
        assert_eq!(
            verdict.passed(),
            case.passes,
            "case {}: {messages:#?}",
            case.name
        );
        for rule in case.errors {
            assert!(
                verdict
                    .findings()
                    .any(|f| f.rule == *rule && f.severity == Severity::Error),
                "case {}: no error {rule}: {messages:#?}",
                case.name
            );
        }
        if case.passes {
            assert_eq!(verdict.count(Severity::Error), 0, "case {}", case.name);
        }
        assert!(
            verdict.findings().any(|f| f.message.contains(case.says)),
            "case {}: nothing says {:?}: {messages:#?}",
            case.name,
            case.says
        );
    }
}

#[test]
fn policy_changes_need_owners_even_without_code_owner_review() {
    let lax = policy(
        "[review]\nrequire_code_owners = false\n",
        Some(TARGET_CODEOWNERS),
    );
    let mut pr = base();
    pr.changed_paths = vec!["src/lib.rs".into(), ".vouch/policy.toml".into()];
    pr.reviews = vec![approve("bob", 1)];
    let verdict = judge(&lax, pr.clone());
    assert!(!verdict.passed());
    let rules: Vec<&str> = verdict.findings().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"review.code-owner-approval"), "{rules:?}");
    // The /src/ group is not judged when code-owner review is off.
    assert_eq!(
        verdict
            .findings()
            .filter(|f| f.rule == "review.code-owner-approval")
            .count(),
        1
    );

    // With no owner for .vouch/ at all, the change cannot be approved: fail closed.
    let unguarded = policy(POLICY, Some("/src/ @sam\n"));
    let verdict = judge(&unguarded, pr.clone());
    assert!(verdict
        .findings()
        .any(|f| f.rule == "review.policy-owner-missing"));
    let no_file = policy(POLICY, None);
    let verdict = judge(&no_file, pr);
    assert!(verdict
        .findings()
        .any(|f| f.rule == "review.policy-owner-missing"));
    assert!(verdict.findings().any(|f| f.rule == "review.no-codeowners"));
}

#[test]
fn more_approvals_and_roles_from_the_policy() {
    let two = policy(
        "[review]\nrequired_approvals = 2\n",
        Some(TARGET_CODEOWNERS),
    );
    let verdict = judge(&two, base());
    assert!(verdict
        .findings()
        .any(|f| f.message.starts_with("1 of 2 required")));
    let mut pr = base();
    pr.reviews.push(approve("bob", 2));
    assert!(judge(&two, pr).passed());

    // When the policy lets the last pusher approve, their approval counts.
    let lenient = policy(
        "[review]\nnot_independent = [\"pr_author\", \"authors\"]\n",
        Some(TARGET_CODEOWNERS),
    );
    let mut pr = base();
    pr.last_pusher = "sam".into();
    assert!(judge(&lenient, pr.clone()).passed());
    assert!(!judge(&policy(POLICY, Some(TARGET_CODEOWNERS)), pr).passed());
}

#[test]
fn skipped_without_a_pull_request_and_broken_on_a_refused_codeowners() {
    let policy_ok = policy(POLICY, Some(TARGET_CODEOWNERS));
    let checks: Vec<Box<dyn Check>> = vec![Box::new(Review)];
    let verdict = vouch_rules::evaluate_with(&policy_ok, &Change::new(Point::PrePush, 0), &checks);
    assert_eq!(verdict.checks[0].status, Status::Skipped);
    assert!(verdict.checks[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("no pull request"));

    let mut files = PolicyFiles::new("refs/heads/main");
    files.insert("CODEOWNERS", b"* @a\n\xff\n".to_vec());
    let broken = Policy::parse(
        POLICY,
        ".vouch/policy.toml",
        Origin::BuiltIn,
        String::new(),
        files,
    )
    .unwrap();
    let verdict = judge(&broken, base());
    assert_eq!(verdict.checks[0].status, Status::Error);
    assert!(!verdict.passed());
}

#[test]
fn input_json_round_trips_and_rejects_unknown_fields() {
    let pr = base();
    let text = serde_json::to_string(&pr).unwrap();
    let back: PullRequest = serde_json::from_str(&text).unwrap();
    assert_eq!(back, pr);
    let typo = text.replacen("\"head_sha\"", "\"head\"", 1);
    assert!(serde_json::from_str::<PullRequest>(&typo).is_err());
    let example: PullRequest =
        serde_json::from_str(include_str!("../../examples/review/pass.json")).unwrap();
    assert_eq!(example.number, 42);
}

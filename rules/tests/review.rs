//! Four-eyes review scenarios, one named case per row, judged through the `Review` check. The
//! forge's facts are a `PullRequest`; the commits are real commit objects (bots' commits really
//! signed with ssh-keygen), so the engine decides itself which signer made each one.

// Helpers outside #[test] fns panic on a broken setup, as the tests themselves do.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use vouch_rules::change::{Change, Commit, FileChange, RefUpdate, Stage, Stamp, UpdateKind};
use vouch_rules::policy::{Origin, Permission, Policy, PolicyFiles};
use vouch_rules::review::{PullRequest, ReviewState, SubmittedReview};
use vouch_rules::{Engine, Severity, Status, Verdict};

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
[signatures]
forge_signers = [\"vouch-bot\"]

[review]
required_approvals = 1

[[review.bots]]
login = \"vouch-bot[bot]\"
signer = \"vouch-bot\"
";

/// A person on a commit; `login` is the forge account the e-mail belongs to, if any.
#[derive(Debug, Clone)]
struct Who {
    name: String,
    email: String,
    login: Option<String>,
}

/// A commit of the scenario: who made it, and which trusted signer (if any) signs it.
#[derive(Debug, Clone)]
struct PrCommit {
    sha: String,
    author: Who,
    committer: Who,
    co_authors: Vec<Who>,
    signed_by: Option<&'static str>,
}

/// A scenario: the forge's facts, the paths changed and the commits, as git has them.
#[derive(Debug, Clone)]
struct Pr {
    facts: PullRequest,
    changed_paths: Vec<String>,
    commits: Vec<PrCommit>,
}

/// SSH keys for the signers the policy trusts, made once per test run.
struct Keys {
    _dir: tempfile::TempDir,
    keys: Vec<(&'static str, PathBuf, String)>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys = ["vouch-bot", "sam@acme.example"]
            .into_iter()
            .enumerate()
            .map(|(i, signer)| {
                let path = dir.path().join(format!("key{i}"));
                let out = Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-C", signer, "-f"])
                    .arg(&path)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "ssh-keygen: {out:?}");
                let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
                (signer, path, public.trim().to_string())
            })
            .collect();
        Keys { _dir: dir, keys }
    })
}

fn allowed_signers() -> String {
    keys()
        .keys
        .iter()
        .map(|(signer, _, public)| format!("{signer} {public}\n"))
        .collect()
}

/// The commit object's bytes, signed (`gpgsig`, as git writes it) when `signed_by` is set.
fn raw(c: &PrCommit, message: &str) -> Vec<u8> {
    let stamp = |w: &Who| format!("{} <{}> 1764064800 +0000", w.name, w.email);
    let headers = format!(
        "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor {}\ncommitter {}\n",
        stamp(&c.author),
        stamp(&c.committer)
    );
    let payload = format!("{headers}\n{message}");
    let Some(signer) = c.signed_by else {
        return payload.into_bytes();
    };
    let (_, key, _) = keys().keys.iter().find(|(s, _, _)| *s == signer).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload");
    std::fs::write(&file, &payload).unwrap();
    let out = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "git", "-f"])
        .arg(key)
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen -Y sign: {out:?}");
    let armour = std::fs::read_to_string(file.with_extension("sig")).unwrap();
    let sig = armour.trim_end().replace('\n', "\n ");
    format!("{headers}gpgsig {sig}\n\n{message}").into_bytes()
}

fn stamp(w: &Who) -> Stamp {
    Stamp {
        name: w.name.clone(),
        email: w.email.clone(),
        time: 1_764_064_800,
        offset_minutes: 0,
    }
}

/// The change the bot would build: the pull request's commits from git, the forge's facts, and
/// the e-mail → login links the forge reports for commit identities.
fn change_of(pr: Pr) -> Change {
    let mut facts = pr.facts;
    let mut commits = Vec::new();
    for (i, c) in pr.commits.iter().enumerate() {
        for who in std::iter::once(&c.author)
            .chain(std::iter::once(&c.committer))
            .chain(&c.co_authors)
        {
            if let Some(login) = &who.login {
                let emails = facts.emails.entry(login.clone()).or_default();
                if !emails.contains(&who.email) {
                    emails.push(who.email.clone());
                }
            }
        }
        let trailers: String = c
            .co_authors
            .iter()
            .map(|w| format!("\nCo-authored-by: {} <{}>", w.name, w.email))
            .collect();
        let message = format!("change {i}\n{trailers}\n");
        let files = if i == 0 {
            pr.changed_paths
                .iter()
                .map(|p| FileChange {
                    path: p.clone(),
                    old_blob: None,
                    new_blob: None,
                    binary: false,
                    too_large: None,
                    hunks: vec![],
                })
                .collect()
        } else {
            vec![]
        };
        commits.push(Commit {
            id: c.sha.clone(),
            raw: raw(c, &message),
            parents: vec![],
            tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
            author: stamp(&c.author),
            committer: stamp(&c.committer),
            co_authors: vouch_rules::change::co_authors(&message),
            message,
            files,
        });
    }
    let mut change = Change::new(Stage::Push, 1_764_068_400);
    change.updates.push(RefUpdate {
        name: facts.base_ref(),
        old: Some(OLD.into()),
        new: Some(facts.head_sha.clone()),
        kind: UpdateKind::FastForward,
        commits,
        tags: vec![],
    });
    change.pull_request = Some(facts);
    change
}

fn person(login: &str) -> Who {
    Who {
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
fn base() -> Pr {
    Pr {
        changed_paths: vec!["src/lib.rs".into()],
        commits: vec![PrCommit {
            sha: C1.into(),
            author: person("alice"),
            committer: person("alice"),
            co_authors: vec![],
            signed_by: None,
        }],
        facts: base_facts(),
    }
}

fn base_facts() -> PullRequest {
    PullRequest {
        number: 7,
        author: "alice".into(),
        base: "main".into(),
        head_sha: HEAD.into(),
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
    files.insert(".vouch/allowed_signers", allowed_signers().into_bytes());
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

fn judge(policy: &Policy, pr: Pr) -> Verdict {
    Engine::new(policy.clone())
        .only(&["review"])
        .evaluate(&change_of(pr))
}

struct Case {
    name: &'static str,
    edit: fn(&mut Pr),
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
            edit: |pr| pr.facts.reviews = vec![approve("alice", 1)],
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@alice approved but opened the pull request, pushed last, authored 3f2a1c9, committed 3f2a1c9",
        },
        Case {
            name: "co-author approval does not count",
            edit: |pr| {
                pr.commits[0].co_authors.push(Who { name: "Sam".into(), email: "sam@personal.example".into(), login: None });
                pr.facts.emails.insert("sam".into(), vec!["SAM@personal.example".into()]);
            },
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@sam approved but co-authored 3f2a1c9",
        },
        Case {
            name: "last pusher approval does not count",
            edit: |pr| pr.facts.last_pusher = "Sam".into(),
            passes: false,
            errors: &["review.approvals"],
            says: "@sam approved but pushed last",
        },
        Case {
            name: "stale approval after a new push",
            edit: |pr| pr.facts.reviews = vec![review("sam", ReviewState::Approved, OLD, 1)],
            passes: false,
            errors: &["review.approvals", "review.code-owner-approval"],
            says: "@sam approved aaaaaaa but the head is now bbbbbbb",
        },
        Case {
            name: "re-approval on the new head counts",
            edit: |pr| pr.facts.reviews = vec![review("sam", ReviewState::Approved, OLD, 1), approve("sam", 2)],
            passes: true,
            errors: &[],
            says: "approved by code owner @sam",
        },
        Case {
            name: "team member approval satisfies a team owner",
            edit: |pr| {
                pr.changed_paths = vec!["Cargo.toml".into()];
                pr.facts.reviews = vec![approve("mia", 1)];
            },
            passes: true,
            errors: &[],
            says: "approved by code owner @mia",
        },
        Case {
            name: "non-owner approval leaves the owned group open",
            edit: |pr| pr.facts.reviews = vec![approve("bob", 1)],
            passes: false,
            errors: &["review.code-owner-approval"],
            says: "needs approval from one of @sam",
        },
        Case {
            name: "insufficient permission",
            edit: |pr| {
                pr.changed_paths = vec!["src/vendor/x.c".into()];
                pr.facts.reviews = vec![approve("rita", 1)];
            },
            passes: false,
            errors: &["review.approvals"],
            says: "@rita approved but has read permission on the repository; `write` is needed",
        },
        Case {
            name: "unknown permission does not count",
            edit: |pr| {
                pr.changed_paths = vec!["src/vendor/x.c".into()];
                pr.facts.reviews = vec![approve("stranger", 1)];
            },
            passes: false,
            errors: &["review.approvals"],
            says: "has no known permission",
        },
        Case {
            name: "owner change request blocks",
            edit: |pr| pr.facts.reviews = vec![review("sam", ReviewState::ChangesRequested, OLD, 1), approve("bob", 2)],
            passes: false,
            errors: &["review.changes-requested", "review.code-owner-approval"],
            says: "@sam, code owner of `/src/` (line 2), requested changes on aaaaaaa",
        },
        Case {
            name: "dismissed change request no longer blocks",
            edit: |pr| {
                pr.facts.reviews = vec![
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
            edit: |pr| pr.facts.reviews = vec![approve("sam", 1), review("sam", ReviewState::Commented, HEAD, 2)],
            passes: true,
            errors: &[],
            says: "1 independent approval",
        },
        Case {
            name: "a dismissed approval does not count",
            edit: |pr| pr.facts.reviews = vec![approve("sam", 1), review("sam", ReviewState::Dismissed, HEAD, 2)],
            passes: false,
            errors: &["review.approvals"],
            says: "0 of 1 required independent approval",
        },
        Case {
            name: "CODEOWNERS edited in the PR needs the target branch's owners",
            edit: |pr| {
                // The PR would make @bob owner of everything; that must not matter.
                pr.changed_paths.push(".github/CODEOWNERS".into());
                pr.facts.reviews = vec![approve("sam", 1), approve("bob", 2)];
            },
            passes: false,
            errors: &["review.code-owner-approval"],
            says: "needs approval from one of @acme/security (they guard vouch's policy",
        },
        Case {
            name: "policy edit approved by the security team",
            edit: |pr| {
                pr.changed_paths.push(".vouch/policy.toml".into());
                pr.facts.reviews = vec![approve("sam", 1), approve("sec-sue", 2)];
            },
            passes: true,
            errors: &[],
            says: "approved by code owner @sec-sue",
        },
        Case {
            name: "unowned files need only the general approval",
            edit: |pr| {
                pr.changed_paths = vec!["src/vendor/lib.c".into()];
                pr.facts.reviews = vec![approve("bob", 1)];
            },
            passes: true,
            errors: &[],
            says: "1 changed path has no code owner",
        },
        Case {
            name: "e-mail owner matched through the login's addresses",
            edit: |pr| {
                pr.changed_paths = vec!["README.md".into()];
                pr.facts.reviews = vec![approve("dora", 1)];
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
                    signed_by: Some("vouch-bot"),
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
                    signed_by: None,
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
                    signed_by: Some("sam@acme.example"),
                });
            },
            passes: false,
            errors: &["review.approvals"],
            says: "names a bot but its signature is not verified by that bot's signer",
        },
        Case {
            name: "unlinked commit identity is reported",
            edit: |pr| pr.commits[0].co_authors.push(Who { name: "Ghost".into(), email: "ghost@elsewhere.example".into(), login: None }),
            passes: true,
            errors: &[],
            says: "1 commit identity is not linked to any login",
        },
        Case {
            name: "unreadable review time is an error",
            edit: |pr| pr.facts.reviews.push(SubmittedReview { reviewer: "bob".into(), state: ReviewState::Approved, commit_id: HEAD.into(), submitted_at: "yesterday".into() }),
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
    pr.facts.reviews = vec![approve("bob", 1)];
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
    pr.facts.reviews.push(approve("bob", 2));
    assert!(judge(&two, pr).passed());

    // When the policy lets the last pusher approve, their approval counts.
    let lenient = policy(
        "[review]\nnot_independent = [\"pr_author\", \"authors\"]\n",
        Some(TARGET_CODEOWNERS),
    );
    let mut pr = base();
    pr.facts.last_pusher = "sam".into();
    assert!(judge(&lenient, pr.clone()).passed());
    assert!(!judge(&policy(POLICY, Some(TARGET_CODEOWNERS)), pr).passed());
}

#[test]
fn skipped_without_a_pull_request_and_broken_on_a_refused_codeowners() {
    let policy_ok = policy(POLICY, Some(TARGET_CODEOWNERS));
    let verdict = Engine::new(policy_ok)
        .only(&["review"])
        .evaluate(&Change::new(Stage::Push, 0));
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
    let pr = change_of(base()).pull_request.unwrap();
    let text = serde_json::to_string(&pr).unwrap();
    let back: PullRequest = serde_json::from_str(&text).unwrap();
    assert_eq!(back, pr);
    let typo = text.replacen("\"head_sha\"", "\"head\"", 1);
    assert!(serde_json::from_str::<PullRequest>(&typo).is_err());
    let example: PullRequest =
        serde_json::from_str(include_str!("../../examples/review/pass.json")).unwrap();
    assert_eq!(example.number, 42);
}

/// What a caller says about signatures does not matter: the engine verifies each commit. A
/// commit that claims the bot's identity but carries no signature, or a signature the bot's key
/// did not make, counts like anyone's; the record lists every approval and why it counted.
#[test]
fn the_engine_decides_who_signed_and_records_each_approval() {
    let policy = policy(POLICY, Some(TARGET_CODEOWNERS));
    let mut pr = base();
    pr.commits.push(PrCommit {
        sha: HEAD.into(),
        author: person("vouch-bot[bot]"),
        committer: person("sam"),
        co_authors: vec![],
        signed_by: Some("vouch-bot"),
    });
    let verdict = judge(&policy, pr.clone());
    assert!(
        verdict.passed(),
        "{:#?}",
        verdict.findings().collect::<Vec<_>>()
    );

    // With every check, review takes the signers the signatures check recorded: same answer.
    let all = Engine::new(policy.clone()).evaluate(&change_of(pr.clone()));
    let review = all.checks.iter().find(|c| c.check == "review").unwrap();
    assert_eq!(review.status, Status::Pass, "{:#?}", review.findings);
    assert!(all
        .evidence
        .signatures
        .iter()
        .any(|r| r.object == HEAD && r.signer.as_deref() == Some("vouch-bot")));

    // The same commit with its signature made by another trusted key: sam committed it.
    pr.commits[1].signed_by = Some("sam@acme.example");
    let verdict = judge(&policy, pr.clone());
    assert!(!verdict.passed());
    let all = Engine::new(policy.clone()).evaluate(&change_of(pr.clone()));
    let review = all.checks.iter().find(|c| c.check == "review").unwrap();
    assert_eq!(review.status, Status::Fail);
    let record = verdict.evidence.review.as_ref().unwrap();
    assert_eq!(record.pull_request, 7);
    assert_eq!(record.required_approvals, 1);
    assert_eq!(record.approvals.len(), 1);
    assert!(!record.approvals[0].counted);
    assert!(
        record.approvals[0].reason.contains("committed bbbbbbb"),
        "{record:?}"
    );
    assert!(record.not_independent["sam"]
        .iter()
        .any(|r| r == "committed bbbbbbb"));

    // The forge facts carry no signature claims at all: an unknown field is refused.
    let mut json: serde_json::Value =
        serde_json::to_value(change_of(base()).pull_request.unwrap()).unwrap();
    json["commits"] = serde_json::json!([{ "sha": C1, "signature": { "verified": true } }]);
    assert!(serde_json::from_value::<PullRequest>(json).is_err());
}

//! `vouch review --input pr.json` on arbitrary bytes: the forge facts parse or fail, and a
//! parsed pull request is judged by the review check (CODEOWNERS, teams, permissions, e-mails,
//! review times) and rendered in every format. Never a panic; the verdict never passes with no
//! approval counted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vouch_rules::change::{Change, Commit, FileChange, PullRequest, RefUpdate, Stage, Stamp, UpdateKind};
use vouch_rules::policy::{Origin, Policy, PolicyFiles};
use vouch_rules::report::{self, Format, TextOptions};
use vouch_rules::Engine;

const CODEOWNERS: &str = "* @acme/maintainers\n/src/ @sam\n*.md docs@acme.example\n/.vouch/ @acme/security\n";

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut files = PolicyFiles::new("refs/heads/main");
        files.insert(".github/CODEOWNERS", CODEOWNERS.as_bytes().to_vec());
        let policy = Policy::parse(
            "[review]\nrequired_approvals = 1\n",
            ".vouch/policy.toml",
            Origin::File { origin: "refs/heads/main".into() },
            String::new(),
            files,
        )
        .expect("the fuzz policy parses");
        Engine::new(policy).only(&["review"])
    })
}

fn stamp(name: &str) -> Stamp {
    Stamp { name: name.into(), email: format!("{name}@acme.example"), time: 1_764_068_400, offset_minutes: 0 }
}

fuzz_target!(|data: &[u8]| {
    let Ok(pr) = serde_json::from_slice::<PullRequest>(data) else {
        return;
    };
    let files = ["src/main.rs", "README.md", ".vouch/policy.toml", "other/x"]
        .map(|p| FileChange { path: p.into(), old_blob: None, new_blob: None, binary: false, too_large: None, hunks: vec![] })
        .to_vec();
    let commit = Commit {
        id: pr.head_sha.clone(),
        raw: b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@acme.example> 1 +0000\ncommitter a <a@acme.example> 1 +0000\n\nx\n".to_vec(),
        parents: vec![],
        tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
        author: stamp("alice"),
        committer: stamp("alice"),
        co_authors: vec![],
        message: "x\n".into(),
        files,
    };
    let mut change = Change::new(Stage::Push, 1_764_068_400);
    change.updates.push(RefUpdate {
        name: pr.base_ref(),
        old: Some("a".repeat(40)),
        new: Some(pr.head_sha.clone()),
        kind: UpdateKind::FastForward,
        commits: vec![commit],
        tags: vec![],
    });
    let approved = pr.reviews.iter().any(|r| matches!(r.state, vouch_rules::change::forge::ReviewState::Approved));
    change.pull_request = Some(pr);
    let verdict = engine().evaluate(&change);
    assert!(approved || !verdict.passed(), "a pull request with no approval passed review");
    for format in [Format::Text, Format::Json, Format::Sarif, Format::Markdown] {
        let _ = report::render(&verdict, format, TextOptions::default());
    }
});

//! Attestations for an existing first-parent history, as a `git fast-import` stream: what
//! `scripts/bench-attest.sh` uses to build a long attested branch without running thousands of
//! merges. Every commit gets the note `vouch merge` would have written for it had it merged
//! that commit alone (landed = the commit, previous tip = its first parent), chained.
//!
//! usage: git rev-list --first-parent --reverse main |
//!        cargo run --example attest-history -- KEY POLICY_DIR refs/heads/main refs/notes/vouch |
//!        git fast-import --quiet
//!
//! KEY is the verifier's unencrypted OpenSSH private key; POLICY_DIR the working tree whose
//! `.vouch/` every commit of the history carries (its digest is the policy digest attested).

// A developer tool: failing loudly on bad input is the point.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, Write};
use vouch_rules::attest::keys::SigningKey;
use vouch_rules::attest::statement::MergeFacts;
use vouch_rules::change::Clock;
use vouch_rules::verdict::{CheckOutcome, PolicySource, Verdict};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [key, policy_dir, target, notes_ref] = &args[..] else {
        eprintln!("usage: attest-history KEY POLICY_DIR TARGET_REF NOTES_REF < first-parent ids (oldest first)");
        std::process::exit(2);
    };
    let key = SigningKey::from_openssh(&std::fs::read_to_string(key).unwrap(), key).unwrap();
    let digest = vouch_rules::policy::PolicyFiles::from_dir(policy_dir)
        .unwrap()
        .digest();
    let now = vouch_rules::time::unix_now();
    let mut verdict = Verdict::new(
        PolicySource {
            source: format!("{target}:.vouch/policy.toml"),
            digest,
        },
        now,
        Clock::PushTime,
    );
    verdict.push(CheckOutcome::ran("signatures", vec![]));
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    writeln!(out, "commit {notes_ref}\ncommitter Bench <bench@example.com> {now} +0000\ndata 13\nattestations\n").unwrap();
    let mut previous: Option<(String, String)> = None;
    for line in std::io::stdin().lock().lines() {
        let commit = line.unwrap().trim().to_string();
        if commit.is_empty() {
            continue;
        }
        let facts = MergeFacts {
            verifier_id: "https://bench.invalid/vouch".into(),
            verifier_version: env!("CARGO_PKG_VERSION").into(),
            time_verified: now,
            repository: "git+file:///bench".into(),
            target: target.clone(),
            method: "merge".into(),
            merge_commit: commit.clone(),
            previous_tip: previous.as_ref().map(|(c, _)| c.clone()),
            landed: vec![commit.clone()],
            source_tip: commit.clone(),
            verdict: &verdict,
            previous_attestation: previous.as_ref().map(|(_, d)| d.clone()),
            levels: vec!["SLSA_SOURCE_LEVEL_3".into()],
        };
        let note = vouch_rules::attest::sign(&facts, &key).unwrap();
        writeln!(out, "N inline {commit}\ndata {}", note.len()).unwrap();
        out.write_all(&note).unwrap();
        writeln!(out).unwrap();
        previous = Some((commit, vouch_rules::attest::note_digest(&note)));
    }
    out.flush().unwrap();
}

//! The `attestation` check: a push that updates the notes ref attestations live under
//! (`[attestation] notes_ref`) may only add notes, each a valid attestation by a trusted
//! verifier key about the commit it is attached to. Notes are never rewritten or removed, so
//! the hash chain down a branch cannot be edited after the fact.

use super::keys::{self, VerifierKey};
use crate::change::{Change, RefUpdate, Stage, UpdateKind};
use crate::check::{Check, CheckError};
use crate::finding::{short_id, Finding, Location};
use crate::policy::Policy;
use crate::verdict::Evidence;
use std::collections::HashMap;

/// The attestation check (judges updates of the notes ref only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Notes;

fn notes_update<'c>(policy: &Policy, change: &'c Change) -> Option<&'c RefUpdate> {
    change
        .updates
        .iter()
        .find(|u| u.name == policy.attestation.notes_ref)
}

impl Check for Notes {
    fn id(&self) -> &'static str {
        "attestation"
    }

    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String> {
        if change.stage != Stage::Push {
            return Some("applies to pushes only".into());
        }
        if !policy.attestation.enabled {
            return Some(
                "the policy turns attestations off ([attestation] enabled = false)".into(),
            );
        }
        if notes_update(policy, change).is_none() {
            return Some(format!(
                "the change does not update {}",
                policy.attestation.notes_ref
            ));
        }
        None
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        _evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let Some(update) = notes_update(policy, change) else {
            return Ok(Vec::new());
        };
        let at = Location::reference(&update.name);
        let notes_ref = &policy.attestation.notes_ref;
        match update.kind {
            UpdateKind::Delete => {
                return Ok(vec![Finding::error(
                    "attestation.notes-deleted",
                    format!("deleting {notes_ref} would remove every attestation on the repository"),
                )
                .at(at)
                .hint("attestations are permanent; keep the ref")])
            }
            UpdateKind::Force | UpdateKind::Move => {
                return Ok(vec![Finding::error(
                    "attestation.notes-rewritten",
                    format!("non-fast-forward update of {notes_ref} rewrites existing attestations"),
                )
                .at(at)
                .hint(format!(
                    "fetch {notes_ref} first (`git fetch origin {notes_ref}:{notes_ref}`), let `git notes merge` add your notes on top, then push"
                ))])
            }
            _ => {}
        }
        let keys = keys::trusted(policy).map_err(|e| CheckError(e.to_string()))?;
        let mut findings = Vec::new();
        for commit in &update.commits {
            findings.extend(judge_notes_commit(policy, &keys, update, commit));
        }
        Ok(findings)
    }
}

/// A note's annotated object id from its path in the notes tree (fan-out `ab/cdef…` or flat).
fn object_of(path: &str) -> String {
    path.replace('/', "")
}

fn judge_notes_commit(
    policy: &Policy,
    keys: &[VerifierKey],
    update: &RefUpdate,
    commit: &crate::change::Commit,
) -> Vec<Finding> {
    let at = Location::commit(&commit.id).with_ref(&update.name);
    let mut findings = Vec::new();
    // git re-files notes under fan-out folders as their number grows: a note that leaves one
    // path and reappears, byte for byte, at another is moved, not changed.
    let removed: HashMap<String, &str> = commit
        .files
        .iter()
        .filter(|f| f.new_blob.is_none())
        .filter_map(|f| f.old_blob.as_deref().map(|b| (object_of(&f.path), b)))
        .collect();
    let added: HashMap<String, &str> = commit
        .files
        .iter()
        .filter(|f| f.old_blob.is_none())
        .filter_map(|f| f.new_blob.as_deref().map(|b| (object_of(&f.path), b)))
        .collect();
    for file in &commit.files {
        let object = object_of(&file.path);
        let moved = match (&file.old_blob, &file.new_blob) {
            (Some(old), None) => added.get(&object) == Some(&old.as_str()),
            (None, Some(new)) => removed.get(&object) == Some(&new.as_str()),
            _ => false,
        };
        if moved {
            continue;
        }
        if file.old_blob.is_some() {
            findings.push(
                Finding::error(
                    "attestation.note-rewritten",
                    format!(
                        "the push {} the attestation on {}",
                        if file.new_blob.is_some() {
                            "changes"
                        } else {
                            "removes"
                        },
                        short_id(&object)
                    ),
                )
                .at(at.clone())
                .hint("attestations are permanent: add notes to new merge commits only"),
            );
            continue;
        }
        let note: Vec<u8> = file
            .hunks
            .iter()
            .flat_map(|h| h.text.iter().copied())
            .collect();
        if file.binary || note.is_empty() {
            findings.push(
                Finding::error(
                    "attestation.untrusted-note",
                    format!(
                        "the note added on {} cannot be read as an attestation",
                        short_id(&object)
                    ),
                )
                .at(at.clone())
                .hint("only `vouch merge` (or the vouch bot) adds notes under this ref"),
            );
            continue;
        }
        if let Err(message) = accept(policy, keys, &note, &object) {
            findings.push(
                Finding::error(
                    "attestation.untrusted-note",
                    format!("the note added on {} is refused: {message}", short_id(&object)),
                )
                .at(at.clone())
                .hint("only a trusted verifier ([attestation] trusted_verifiers) may add notes under this ref; `vouch merge` signs with its key"),
            );
        }
    }
    findings
}

fn accept(policy: &Policy, keys: &[VerifierKey], note: &[u8], object: &str) -> Result<(), String> {
    let attestation = super::open(note, keys).map_err(|e| e.to_string())?;
    for s in [
        attestation.vsa.subject_commit(),
        attestation.merge.subject_commit(),
    ] {
        if s.map(|(c, _)| c) != Some(object) {
            return Err(format!(
                "it is about {}, not the commit it is attached to",
                s.map_or("no single commit", |(c, _)| short_id(c))
            ));
        }
    }
    let time =
        crate::time::parse_rfc3339(&attestation.merge.predicate.time_verified).unwrap_or(i64::MAX);
    keys::judge(&policy.attestation, &attestation.key, object, time)
        .map_err(|p| format!("verifier key {} is {p:?}", attestation.key.fingerprint))
}

//! Verifying a protected branch's attestations, downstream: walk its first-parent history from
//! the tip and stop at the first break.
//!
//! Each attested commit must carry a note that verifies with a trusted verifier key in a good
//! state; both statements must name that commit (and the branch); the commits the attestation
//! says it landed must be exactly the first-parent path down to its previous tip; its policy
//! digest must be the digest of the policy in that previous tip's tree; its chain link must be
//! the digest of the previous tip's note. The walk ends at the range's start or at the chain's
//! first attestation (one with no previous attestation). Policies only move forward: returning
//! to a policy that was already replaced is a rollback.

use super::keys::{self, KeyProblem, VerifierKey};
use super::{open, Attestation};
use crate::finding::{short_id, Finding, Location};
use crate::policy::{AttestationPolicy, PolicyFiles, CODEOWNERS_PATHS, VOUCH_DIR};
use crate::verdict::{CheckOutcome, PolicySource, Verdict};
use git2::{Oid, Repository};
use std::collections::HashMap;

/// What to verify.
pub struct Walk<'a> {
    pub repo: &'a Repository,
    /// The branch tip to start from.
    pub tip: Oid,
    /// Stop before this commit (`A..B`); `None` walks to the chain's first attestation.
    pub from: Option<Oid>,
    /// The ref the subjects must name, e.g. `refs/heads/main`.
    pub target: String,
    pub notes_ref: String,
    pub keys: &'a [VerifierKey],
    /// Retired and compromised verifier keys (the newest policy's, usually the tip's).
    pub policy: &'a AttestationPolicy,
}

impl std::fmt::Debug for Walk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walk")
            .field("repo", &self.repo.path())
            .field("tip", &self.tip)
            .field("from", &self.from)
            .field("target", &self.target)
            .field("notes_ref", &self.notes_ref)
            .finish_non_exhaustive()
    }
}

/// The first thing wrong, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// `attestation.missing`, `attestation.forged`, `attestation.wrong-subject`, ….
    pub rule: &'static str,
    pub commit: String,
    pub message: String,
    pub hint: String,
}

/// The outcome of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub target: String,
    pub tip: String,
    /// Attestations verified (before the break, if any).
    pub attestations: usize,
    /// First-parent commits those attestations cover.
    pub commits: usize,
    /// The chain's first attestation, when the walk reached it.
    pub genesis: Option<String>,
    pub broken: Option<Break>,
}

struct Entry {
    commit: String,
    policy_digest: String,
}

/// Policy digests by the ids of the trees they are read from, so a long history with few
/// policy changes reads each policy once.
#[derive(Default)]
struct PolicyDigests(HashMap<String, String>);

impl PolicyDigests {
    fn of(&mut self, repo: &Repository, commit: Oid) -> Result<String, String> {
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| e.message().to_string())?;
        let mut key = String::new();
        for path in std::iter::once(VOUCH_DIR).chain(CODEOWNERS_PATHS) {
            if let Ok(entry) = tree.get_path(std::path::Path::new(path)) {
                key.push_str(&entry.id().to_string());
            }
            key.push(':');
        }
        if let Some(d) = self.0.get(&key) {
            return Ok(d.clone());
        }
        let files =
            PolicyFiles::from_tree(repo, &tree, commit.to_string()).map_err(|e| e.to_string())?;
        // A tree without a policy file is judged by another branch's policy or the built-in
        // one, whose digest is empty.
        let digest = if files.get(crate::policy::POLICY_PATH).is_some() {
            files.digest()
        } else {
            String::new()
        };
        self.0.insert(key, digest.clone());
        Ok(digest)
    }
}

/// The note a new attestation on `branch` chains to: the one on its tip `tip`, or `None` when the
/// branch has no attestations yet. A tip without a note under a `notes_ref` that holds notes is a
/// broken chain: a merger refuses to go on from it (the one rule `vouch merge` and the bot share).
pub fn chain_link(
    repo: &Repository,
    notes_ref: &str,
    branch: &str,
    tip: Oid,
) -> Result<Option<Vec<u8>>, super::AttestError> {
    if let Ok(note) = repo.find_note(Some(notes_ref), tip) {
        return Ok(Some(note.message_bytes().to_vec()));
    }
    // No notes ref at all is a branch never attested; a notes ref that cannot be read is not.
    let any = match repo.notes(Some(notes_ref)) {
        Ok(mut n) => n.next().is_some(),
        Err(e) if e.code() == git2::ErrorCode::NotFound => false,
        Err(e) => {
            return Err(super::AttestError::Malformed {
                what: notes_ref.to_string(),
                reason: e.message().to_string(),
            })
        }
    };
    if any {
        return Err(super::AttestError::ChainBroken {
            branch: branch.to_string(),
            tip: short_id(&tip.to_string()).to_string(),
            notes_ref: notes_ref.to_string(),
        });
    }
    Ok(None)
}

fn first_parent(repo: &Repository, id: Oid) -> Result<Option<Oid>, String> {
    let commit = repo.find_commit(id).map_err(|e| e.message().to_string())?;
    Ok(commit.parent_ids().next())
}

/// Every note under `notes_ref`: annotated object → note blob.
fn notes(repo: &Repository, notes_ref: &str) -> HashMap<Oid, Oid> {
    let mut map = HashMap::new();
    if let Ok(iter) = repo.notes(Some(notes_ref)) {
        for (blob, annotated) in iter.flatten() {
            map.insert(annotated, blob);
        }
    }
    map
}

impl Walk<'_> {
    fn note(&self, notes: &HashMap<Oid, Oid>, commit: Oid) -> Option<Vec<u8>> {
        let blob = notes.get(&commit)?;
        self.repo
            .find_blob(*blob)
            .ok()
            .map(|b| b.content().to_vec())
    }

    /// Walk and verify; the report names the first break.
    pub fn run(&self) -> Report {
        let mut report = Report {
            target: self.target.clone(),
            tip: self.tip.to_string(),
            attestations: 0,
            commits: 0,
            genesis: None,
            broken: None,
        };
        let notes = notes(self.repo, &self.notes_ref);
        let mut digests = PolicyDigests::default();
        let mut entries: Vec<Entry> = Vec::new();
        let mut cursor = Some(self.tip);
        // The link the newer attestation expects the next note to have.
        let mut expected_link: Option<(String, String)> = None;
        while let Some(at) = cursor {
            if Some(at) == self.from {
                if let Some((newer, link)) = &expected_link {
                    match self.note(&notes, at) {
                        Some(n) if super::note_digest(&n) == *link => {}
                        _ => {
                            report.broken = Some(chain_break(newer, &at.to_string()));
                        }
                    }
                }
                break;
            }
            let step = self.one(&notes, at, &mut digests, expected_link.as_ref());
            match step {
                Err(b) => {
                    report.broken = Some(b);
                    break;
                }
                Ok((attestation, landed)) => {
                    report.attestations += 1;
                    report.commits += landed;
                    entries.push(Entry {
                        commit: at.to_string(),
                        policy_digest: attestation
                            .merge
                            .predicate
                            .policy_digest
                            .get("sha256")
                            .cloned()
                            .unwrap_or_default(),
                    });
                    let p = &attestation.merge.predicate;
                    match &p.previous_attestation {
                        None => {
                            report.genesis = Some(at.to_string());
                            break;
                        }
                        Some(link) => {
                            let link = link.get("sha256").cloned().unwrap_or_default();
                            expected_link = Some((at.to_string(), link));
                        }
                    }
                    cursor = p
                        .previous_tip
                        .as_deref()
                        .and_then(|t| Oid::from_str(t).ok());
                    if cursor.is_none() {
                        report.broken = Some(Break {
                            rule: "attestation.chain",
                            commit: at.to_string(),
                            message: format!(
                                "the attestation of {} links to a previous attestation but names no previous tip",
                                short_id(&at.to_string())
                            ),
                            hint: HINT_FORGED.into(),
                        });
                        break;
                    }
                }
            }
        }
        if report.broken.is_none() {
            report.broken = rollback(&entries);
        }
        report
    }

    /// Verify the attestation on `at`; how many first-parent commits it covers.
    fn one(
        &self,
        notes: &HashMap<Oid, Oid>,
        at: Oid,
        digests: &mut PolicyDigests,
        expected_link: Option<&(String, String)>,
    ) -> Result<(Attestation, usize), Break> {
        let id = at.to_string();
        let short = short_id(&id).to_string();
        let fail = |rule: &'static str, message: String, hint: &str| Break {
            rule,
            commit: id.clone(),
            message,
            hint: hint.to_string(),
        };
        let Some(note) = self.note(notes, at) else {
            return Err(fail(
                "attestation.missing",
                format!(
                    "{short} is on {} with no attestation under {}: it did not arrive through a verified merge",
                    self.target, self.notes_ref
                ),
                "fetch the notes (`git fetch origin 'refs/notes/*:refs/notes/*'`); if they are there, this commit bypassed vouch merge — find out how it got in",
            ));
        };
        if let Some((newer, link)) = expected_link {
            if super::note_digest(&note) != *link {
                return Err(chain_break(newer, &id));
            }
        }
        let attestation = open(&note, self.keys).map_err(|e| {
            fail(
                "attestation.forged",
                format!("the attestation on {short} does not verify: {e}"),
                e.hint(),
            )
        })?;
        for (commit, name) in [
            attestation.vsa.subject_commit(),
            attestation.merge.subject_commit(),
        ]
        .into_iter()
        .map(|s| s.unwrap_or(("", "")))
        {
            if commit != id || name != self.target {
                return Err(fail(
                    "attestation.wrong-subject",
                    format!(
                        "the attestation stored on {short} is about {} on {}, not {short} on {}: history was rewritten under it, or the note was moved",
                        short_id(commit),
                        if name.is_empty() { "nothing" } else { name },
                        self.target
                    ),
                    "restore the attested history (the commit the attestation names) or re-merge through `vouch merge`",
                ));
            }
        }
        let p = &attestation.merge.predicate;
        if attestation.vsa.predicate.verification_result != "PASSED" {
            return Err(fail(
                "attestation.failed",
                format!("the attestation on {short} records a failed verification"),
                HINT_FORGED,
            ));
        }
        let time = crate::time::parse_rfc3339(&p.time_verified).unwrap_or(i64::MAX);
        if let Err(problem) = keys::judge(self.policy, &attestation.key, &id, time) {
            let key = format!("{} ({})", attestation.key.fingerprint, attestation.key.name);
            let (rule, message) = match problem {
                KeyProblem::Compromised => (
                    "attestation.compromised-key",
                    format!("the attestation on {short} is signed by compromised verifier key {key}"),
                ),
                KeyProblem::Retired(since) => (
                    "attestation.retired-key",
                    format!(
                        "the attestation on {short} was made at {} by verifier key {key}, retired since {}",
                        p.time_verified,
                        crate::time::iso(since)
                    ),
                ),
                KeyProblem::OutsideWindow => (
                    "attestation.key-window",
                    format!(
                        "the attestation on {short} was made at {}, outside the validity window of verifier key {key}",
                        p.time_verified
                    ),
                ),
            };
            return Err(fail(
                rule,
                message,
                "re-verify the affected merges and list the known-good ones in [attestation] exempt_commits",
            ));
        }
        // The landed commits are exactly the first-parent path down to the previous tip.
        let previous = p.previous_tip.as_deref();
        let mut walk = Some(at);
        for (i, landed) in p.landed.iter().enumerate() {
            let here = walk.map(|w| w.to_string());
            if here.as_deref() != Some(landed.as_str()) || (i == 0 && *landed != id) {
                return Err(parent_break(&id, &self.target, landed));
            }
            walk = walk.and_then(|w| first_parent(self.repo, w).ok().flatten());
        }
        if p.landed.is_empty() || walk.map(|w| w.to_string()).as_deref() != previous {
            return Err(fail(
                "attestation.wrong-parent",
                format!(
                    "the attestation on {short} says the branch was at {} before, but {short}'s first-parent history says {}",
                    previous.map_or("nothing (a new branch)", short_id),
                    walk.map_or("nothing".to_string(), |w| short_id(&w.to_string()).to_string())
                ),
                "history was rewritten beneath the attested merge; restore it or re-merge",
            ));
        }
        let claimed = p.policy_digest.get("sha256").cloned().unwrap_or_default();
        if attestation.vsa.predicate.policy.digest.get("sha256") != Some(&claimed) {
            return Err(fail(
                "attestation.policy-mismatch",
                format!("the two statements on {short} name different policies"),
                HINT_FORGED,
            ));
        }
        if let Some(prev) = previous.and_then(|t| Oid::from_str(t).ok()) {
            let actual = digests.of(self.repo, prev).map_err(|e| {
                fail(
                    "attestation.policy-mismatch",
                    format!(
                        "cannot read the policy in {}: {e}",
                        short_id(&prev.to_string())
                    ),
                    "fetch the whole history of the branch",
                )
            })?;
            if actual != claimed {
                return Err(fail(
                    "attestation.policy-mismatch",
                    format!(
                        "the attestation on {short} was judged under policy {} but the policy in its parent {} is {}",
                        short_digest(&claimed),
                        short_id(&prev.to_string()),
                        short_digest(&actual)
                    ),
                    "the attestation does not describe this history; re-merge through `vouch merge`",
                ));
            }
        }
        let landed = p.landed.len();
        Ok((attestation, landed))
    }
}

const HINT_FORGED: &str =
    "this attestation was not written by vouch merge as recorded; remove it and find out who wrote it";

fn short_digest(d: &str) -> String {
    if d.is_empty() {
        "(none: no policy file)".into()
    } else {
        format!("sha256:{}", &d[..d.len().min(12)])
    }
}

fn chain_break(newer: &str, at: &str) -> Break {
    Break {
        rule: "attestation.chain",
        commit: newer.to_string(),
        message: format!(
            "the chain is broken at {}: its attestation links to a previous attestation that is not the note on {}",
            short_id(newer),
            short_id(at)
        ),
        hint: "the previous attestation was replaced or removed; restore refs/notes/vouch from a trusted copy".into(),
    }
}

fn parent_break(id: &str, target: &str, landed: &str) -> Break {
    Break {
        rule: "attestation.wrong-parent",
        commit: id.to_string(),
        message: format!(
            "the attestation on {} says it landed {} on {target}, which is not on {}'s first-parent history",
            short_id(id),
            short_id(landed),
            short_id(id)
        ),
        hint: "history was rewritten beneath the attested merge; restore it or re-merge".into(),
    }
}

/// A policy digest that comes back after it was replaced: a rollback (oldest first).
fn rollback(newest_first: &[Entry]) -> Option<Break> {
    let mut seen: Vec<&str> = Vec::new();
    for entry in newest_first.iter().rev() {
        let d = entry.policy_digest.as_str();
        if seen.last() == Some(&d) {
            continue;
        }
        if seen.contains(&d) {
            return Some(Break {
                rule: "attestation.policy-rollback",
                commit: entry.commit.clone(),
                message: format!(
                    "{} was merged under policy {}, which an earlier merge on the branch had already replaced: the policy was rolled back",
                    short_id(&entry.commit),
                    short_digest(d)
                ),
                hint: "policies only move forward: make the change as a new policy edit (reviewed), not by restoring an old one".into(),
            });
        }
        seen.push(d);
    }
    None
}

impl Report {
    /// The report as a verdict, for the text, JSON and SARIF renderers.
    pub fn verdict(&self, policy: PolicySource, now: i64) -> Verdict {
        let mut verdict = Verdict::new(policy, now, crate::change::Clock::PushTime);
        let mut findings = Vec::new();
        if let Some(b) = &self.broken {
            findings.push(
                Finding::error(b.rule, b.message.clone())
                    .at(Location::commit(&b.commit).with_ref(&self.target))
                    .hint(b.hint.clone()),
            );
        }
        let start = match &self.genesis {
            Some(g) => format!("back to the chain's first attestation on {}", short_id(g)),
            None => "over the range".into(),
        };
        findings.push(
            Finding::note(
                "attestation.verified",
                format!(
                    "{} attestations covering {} commits on {} verified {start}{}",
                    self.attestations,
                    self.commits,
                    self.target,
                    if self.broken.is_some() {
                        " before the break"
                    } else {
                        ""
                    }
                ),
            )
            .at(Location::commit(&self.tip).with_ref(&self.target)),
        );
        verdict.push(CheckOutcome::ran("attestation", findings));
        verdict
    }
}

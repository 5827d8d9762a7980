//! The bot's merge mode (policy `[attestation] merge`): once a pull request passes on an
//! approval (`on-approval`) or a merge-queue group passes (`merge-queue`), the bot makes the
//! merge itself in its mirror, signs the merge commit with its own key (git's SSH signature
//! format, so `git verify-commit` accepts it), judges the push that will carry it with the one
//! engine — the bot as the pusher, so `push_allow` decides — writes the attestation note, and
//! pushes merge and note in one atomic push. Anything that fails leaves the forge untouched.

use crate::config::Merger;
use git2::{Oid, Repository, Signature};
use secrecy::ExposeSecret;
use vouch_rules::attest::keys::{self, SigningKey};
use vouch_rules::attest::statement::{source_levels, MergeFacts};
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::{Change, Stage};
use vouch_rules::policy::{MergeMode, Policy};
use vouch_rules::{Engine, Verdict};

/// Why the signed merge was not made. Each is shown on the check run.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("the branch does not merge cleanly into {0}: resolve the conflicts on the branch")]
    Conflict(String),
    #[error("the merge commit vouch would push is refused: {0}")]
    Refused(String),
    #[error("the bot's merge key: {0}")]
    Key(String),
    #[error("git: {0}")]
    Git(String),
}

fn git(e: git2::Error) -> MergeError {
    MergeError::Git(e.message().to_string())
}

/// Whether the policy asks the bot to merge a change that passed, for this kind of job.
pub fn wanted(policy: &Policy, merge_group: bool, approved: bool) -> bool {
    if !policy.attestation.enabled {
        return false;
    }
    match policy.attestation.merge {
        MergeMode::OnApproval => !merge_group && approved,
        MergeMode::MergeQueue => merge_group,
        MergeMode::Off => false,
    }
}

/// A merge made in the mirror, ready to push.
#[derive(Debug)]
pub struct Made {
    pub merge: Oid,
    /// `<merge>:refs/heads/<base>` and the notes ref.
    pub refspecs: Vec<String>,
}

/// What a merge needs to know.
#[derive(Debug)]
pub struct Plan<'a> {
    pub policy: &'a Policy,
    /// The passing verdict of the change (its evidence goes into the attestation).
    pub verdict: &'a Verdict,
    pub base: &'a str,
    pub base_tip: Oid,
    pub head: Oid,
    pub message: String,
    pub repository_uri: String,
    pub now: i64,
}

/// Make, judge and attest the merge in the mirror at `repo` (blocking). Nothing leaves the
/// mirror here; the caller pushes [`Made::refspecs`].
pub fn make(repo: &Repository, plan: &Plan<'_>, merger: &Merger) -> Result<Made, MergeError> {
    let key = SigningKey::from_openssh(merger.key.expose_secret(), &merger.key_source)
        .map_err(|e| MergeError::Key(e.to_string()))?;
    let policy = plan.policy;
    let att = &policy.attestation;
    let target = format!("refs/heads/{}", plan.base);
    let trusted = keys::trusted(policy).map_err(|e| MergeError::Key(e.to_string()))?;
    let Some(listed) = trusted.iter().find(|k| k.fingerprint == key.fingerprint()) else {
        return Err(MergeError::Key(format!(
            "{} is not a trusted verifier of {}'s policy; add it to .vouch/allowed_signers under a principal in [attestation] trusted_verifiers",
            key.fingerprint(),
            plan.base
        )));
    };
    if let Err(problem) = keys::judge(att, listed, "", plan.now) {
        return Err(MergeError::Key(format!(
            "{} may not sign now ({problem:?}); configure the key that replaced it",
            key.fingerprint()
        )));
    }
    let previous_note = repo
        .find_note(Some(&att.notes_ref), plan.base_tip)
        .ok()
        .map(|n| n.message_bytes().to_vec());
    let any_note = repo
        .notes(Some(&att.notes_ref))
        .map(|mut n| n.next().is_some())
        .unwrap_or(false);
    if previous_note.is_none() && any_note {
        return Err(MergeError::Refused(format!(
            "the tip of {} has no attestation under {} but earlier commits do: the chain is broken (`vouch attest verify` names where)",
            plan.base, att.notes_ref
        )));
    }

    let base = repo.find_commit(plan.base_tip).map_err(git)?;
    let head = repo.find_commit(plan.head).map_err(git)?;
    let mut index = repo.merge_commits(&base, &head, None).map_err(git)?;
    if index.has_conflicts() {
        return Err(MergeError::Conflict(plan.base.to_string()));
    }
    let tree = repo
        .find_tree(index.write_tree_to(repo).map_err(git)?)
        .map_err(git)?;
    let who = Signature::now(&merger.committer_name, &merger.committer_email).map_err(git)?;
    let buffer = repo
        .commit_create_buffer(&who, &who, &plan.message, &tree, &[&base, &head])
        .map_err(git)?;
    let signature = key
        .sign_commit(&buffer)
        .map_err(|e| MergeError::Key(e.to_string()))?;
    let text = std::str::from_utf8(&buffer)
        .map_err(|_| MergeError::Git("the merge commit is not UTF-8".into()))?;
    let merge = repo.commit_signed(text, &signature, None).map_err(git)?;

    // The push that will carry the merge, judged as the server will judge it: the bot pushes.
    let update = Gatherer::new(repo)
        .with_diffs(policy.secrets.enabled)
        .update(&target, Some(plan.base_tip), Some(merge), &[plan.base_tip])
        .map_err(|e| MergeError::Git(e.to_string()))?;
    let mut push = Change::new(Stage::Push, plan.now);
    push.pusher = Some(merger.pusher.clone());
    push.updates.push(update);
    let judged = Engine::new(policy.clone()).evaluate(&push);
    if !judged.passed() {
        let rules: Vec<String> = judged
            .findings()
            .filter(|f| f.severity == vouch_rules::finding::Severity::Error)
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect();
        return Err(MergeError::Refused(rules.join("; ")));
    }

    let facts = MergeFacts {
        verifier_id: att.verifier().to_string(),
        verifier_version: env!("CARGO_PKG_VERSION").to_string(),
        time_verified: plan.now,
        repository: plan.repository_uri.clone(),
        target: target.clone(),
        method: "merge".into(),
        merge_commit: merge.to_string(),
        previous_tip: Some(plan.base_tip.to_string()),
        landed: vec![merge.to_string()],
        source_tip: plan.head.to_string(),
        verdict: plan.verdict,
        previous_attestation: previous_note
            .as_deref()
            .map(vouch_rules::attest::note_digest),
        levels: source_levels(policy, &target),
    };
    let note =
        vouch_rules::attest::sign(&facts, &key).map_err(|e| MergeError::Key(e.to_string()))?;
    let note = String::from_utf8(note)
        .map_err(|_| MergeError::Git("the attestation is not UTF-8".into()))?;
    repo.note(&who, &who, Some(&att.notes_ref), merge, &note, false)
        .map_err(git)?;
    Ok(Made {
        merge,
        refspecs: vec![
            format!("{merge}:{target}"),
            format!("{0}:{0}", att.notes_ref),
        ],
    })
}

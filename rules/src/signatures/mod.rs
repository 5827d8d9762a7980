//! Signed commits and tags: every pushed commit and annotated tag must carry a signature that
//! verifies, by a key a signer of the *target branch's* policy holds, for the committer's e-mail,
//! at the time judged.
//!
//! - [`payload`] cuts the signed bytes and the signature out of raw objects, as git does;
//! - [`ssh`] and [`openpgp`] verify SSHSIG and OpenPGP signatures in-process;
//! - [`allowed_signers`] and [`trust`] read the signers from `.vouch/` ([`load`]);
//! - [`judge`] turns a signature into a [`SigStatus`] under `[signatures]` (rotation, revocation,
//!   identities, validity windows).
//!
//! Time: the caller chooses the clock ([`Change::clock`]): the push time for the hooks, the
//! server, `vouch check` and the bot, since a commit's date is chosen by whoever signs it; each
//! commit's own date for auditing existing history (`vouch verify`), said in every finding that
//! relied on it.

pub mod allowed_signers;
pub mod audit;
pub mod fingerprint;
pub mod judge;
pub mod openpgp;
pub mod payload;
pub mod roster;
pub mod ssh;
pub mod trust;

pub use judge::{iso, verify, Clock, SigStatus, Subject, TimeBasis, Verification};
pub use payload::Format;
pub use trust::{load, Trust};

use crate::change::{self, Change, Commit, RefUpdate, Stage, Tag};
use crate::check::{Check, CheckError, Prepared};
use crate::finding::{short_id, Finding, Location, Severity};
use crate::policy::{Policy, PolicyError, SignaturesPolicy};
use crate::verdict::{Evidence, SignatureRecord};
use rayon::prelude::*;
use std::sync::Arc;

/// The signatures check. Its signers are loaded once and shared with the review check, which
/// needs to know which commits a bot's signer verifiably made.
#[derive(Debug, Default)]
pub struct Signatures {
    trust: Arc<Prepared<Trust>>,
}

impl Signatures {
    pub(crate) fn new(trust: Arc<Prepared<Trust>>) -> Self {
        Signatures { trust }
    }
}

/// The signers of `policy`, loaded into `cell` the first time.
pub(crate) fn signers<'a>(
    cell: &'a Prepared<Trust>,
    policy: &Policy,
) -> Result<&'a Trust, &'a PolicyError> {
    cell.get(|| load(policy))
}

impl Check for Signatures {
    fn id(&self) -> &'static str {
        "signatures"
    }

    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String> {
        if change.stage != Stage::Push {
            return Some("applies to pushes only".into());
        }
        if !policy.signatures.required {
            return Some(
                "the policy does not require signatures ([signatures] required = false); `vouch verify` still checks them on request"
                    .into(),
            );
        }
        None
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let trust = signers(&self.trust, policy)?;
        // Notes commits under the attestation ref are not source: the attestation check
        // verifies what they add (signed envelopes), which is what makes them trustworthy.
        let notes = &policy.attestation.notes_ref;
        let judged =
            if policy.attestation.enabled && change.updates.iter().any(|u| u.name == *notes) {
                let mut source = change.clone();
                source.updates.retain(|u| u.name != *notes);
                judge_change(trust, &policy.signatures, &source, false)
            } else {
                judge_change(trust, &policy.signatures, change, false)
            };
        evidence.signatures.extend(judged.records);
        Ok(judged.findings)
    }

    fn prepare(&self, policy: &Policy) -> Vec<PolicyError> {
        signers(&self.trust, policy)
            .err()
            .cloned()
            .into_iter()
            .collect()
    }
}

/// The judge's clock for a change: the instant the caller chose, and how it applies.
pub fn clock_for(change: &Change) -> Clock {
    match change.clock {
        change::Clock::PushTime => Clock {
            basis: TimeBasis::PushTime,
            now: change.now,
        },
        change::Clock::CommitDate => Clock {
            basis: TimeBasis::CommitDate,
            now: change.now,
        },
        change::Clock::At(t) => Clock {
            basis: TimeBasis::Given,
            now: t,
        },
    }
}

/// What judging a change's signatures gave: findings, and a record per object.
#[derive(Debug, Default)]
pub struct Judged {
    pub findings: Vec<Finding>,
    pub records: Vec<SignatureRecord>,
}

/// Judge every commit and annotated tag of `change`, in parallel; results in change order.
/// With `report_good`, accepted objects get a note too (signer, key), as `vouch verify -v`
/// lists them.
pub fn judge_change(
    trust: &Trust,
    policy: &SignaturesPolicy,
    change: &Change,
    report_good: bool,
) -> Judged {
    let clock = clock_for(change);
    let commits = change.commits();
    let per_commit: Vec<(Vec<Finding>, SignatureRecord)> = commits
        .par_iter()
        .map(|(update, commit)| {
            let v = verify_commit(trust, policy, commit, clock);
            let target = Target::Commit(update, commit);
            (
                findings_with(&v, &target, trust, report_good),
                record(&v, &target),
            )
        })
        .collect();
    let mut judged = Judged::default();
    for (findings, rec) in per_commit {
        judged.findings.extend(findings);
        judged.records.push(rec);
    }
    for update in &change.updates {
        for tag in &update.tags {
            let v = verify_tag(trust, policy, tag, clock);
            let target = Target::Tag(update, tag);
            judged
                .findings
                .extend(findings_with(&v, &target, trust, report_good));
            judged.records.push(record(&v, &target));
        }
    }
    judged
}

/// The evidence record of one verification.
pub fn record(v: &Verification, target: &Target<'_>) -> SignatureRecord {
    let (object, kind, reference) = match target {
        Target::Commit(u, c) => (c.id.clone(), "commit", u.name.clone()),
        Target::Tag(u, t) => (t.id.clone(), "tag", u.name.clone()),
    };
    SignatureRecord {
        object,
        kind,
        reference,
        status: v.status.as_str(),
        accepted: v.accepted,
        format: v.format.map(Format::as_str),
        signer: v.signer.clone().filter(|s| !s.is_empty()),
        fingerprint: v.fingerprint.clone(),
        primary_fingerprint: v.primary_fingerprint.clone(),
        judged_at: iso(v.judged_at),
        time_basis: v.time_basis.as_str(),
    }
}

/// Judge one commit.
pub fn verify_commit(
    trust: &Trust,
    policy: &SignaturesPolicy,
    commit: &Commit,
    clock: Clock,
) -> Verification {
    verify(
        trust,
        policy,
        Subject {
            id: &commit.id,
            raw: &commit.raw,
            is_tag: false,
            is_merge: commit.is_merge(),
            committer: Some(&commit.committer),
            author: Some(&commit.author),
        },
        clock,
    )
}

/// Judge one annotated tag (the tagger's e-mail is the identity).
pub fn verify_tag(
    trust: &Trust,
    policy: &SignaturesPolicy,
    tag: &Tag,
    clock: Clock,
) -> Verification {
    verify(
        trust,
        policy,
        Subject {
            id: &tag.id,
            raw: &tag.raw,
            is_tag: true,
            is_merge: false,
            committer: tag.tagger.as_ref(),
            author: None,
        },
        clock,
    )
}

/// What was judged, for messages.
#[derive(Debug)]
pub enum Target<'a> {
    Commit(&'a RefUpdate, &'a Commit),
    Tag(&'a RefUpdate, &'a Tag),
}

impl Target<'_> {
    fn location(&self) -> Location {
        match self {
            Target::Commit(u, c) => Location::commit(&c.id).with_ref(&u.name),
            Target::Tag(u, t) => Location::commit(&t.id).with_ref(&u.name),
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Commit(_, c) => format!("commit {} ({:?})", short_id(&c.id), c.subject()),
            Target::Tag(_, t) => format!("tag {}", t.name),
        }
    }

    fn email(&self) -> String {
        match self {
            Target::Commit(_, c) => c.committer.email.clone(),
            Target::Tag(_, t) => t
                .tagger
                .as_ref()
                .map(|s| s.email.clone())
                .unwrap_or_default(),
        }
    }

    fn resign(&self) -> String {
        match self {
            Target::Commit(u, c) => {
                let base = if c.parents.is_empty() {
                    "--root".to_string()
                } else {
                    format!("{}^", short_id(&c.id))
                };
                format!(
                    "re-sign it: `git commit --amend --no-edit -S` if it is the last commit, else `git rebase --exec 'git commit --amend --no-edit -S' {base}` on {}",
                    u.short_name()
                )
            }
            Target::Tag(_, t) => format!(
                "re-create the tag signed: `git tag -s -f {0} {0}^{{}}`",
                t.name
            ),
        }
    }
}

/// The findings for one verification: none when accepted without caveat.
pub fn findings_for(v: &Verification, target: &Target<'_>, trust: &Trust) -> Vec<Finding> {
    findings_with(v, target, trust, false)
}

/// As [`findings_for`]; with `report_good`, an accepted object gets a note naming its signer.
pub fn findings_with(
    v: &Verification,
    target: &Target<'_>,
    trust: &Trust,
    report_good: bool,
) -> Vec<Finding> {
    let what = target.describe();
    let by = match (&v.signer, &v.fingerprint) {
        (Some(s), Some(f)) if !s.is_empty() => format!(" by {s} ({f})"),
        (_, Some(f)) => format!(" by key {f}"),
        _ => String::new(),
    };
    let when = match v.time_basis {
        TimeBasis::PushTime => format!("{} (push time)", iso(v.judged_at)),
        TimeBasis::CommitDate => {
            format!("{} (its own date, chosen by its signer)", iso(v.judged_at))
        }
        TimeBasis::Given => format!("{} (the time asked for)", iso(v.judged_at)),
    };
    let resign = target.resign();
    let (severity, message, hint) = match v.status {
        SigStatus::Good => match v.at_now {
            Some(now) => (
                Severity::Note,
                format!(
                    "{what} is signed{by} and good at {when}; judged now it would be {}",
                    now.as_str()
                ),
                None,
            ),
            None if !report_good && v.note.is_none() => return Vec::new(),
            None => (
                Severity::Note,
                match &v.note {
                    Some(note) => format!("{what} is signed{by}, good at {when}: {note}"),
                    None => format!("{what} is signed{by}, good at {when}"),
                },
                None,
            ),
        },
        SigStatus::Unsigned if v.accepted && !report_good => return Vec::new(),
        SigStatus::Unsigned if v.accepted => (
            Severity::Note,
            format!("{what} is an unsigned merge, allowed by `allow_unsigned_merges`"),
            None,
        ),
        SigStatus::X509 if v.accepted => (
            Severity::Note,
            format!("{what} has an X.509 signature, accepted unverified by `accept_x509`"),
            None,
        ),
        SigStatus::Unsigned => (
            Severity::Error,
            format!("{what} is not signed"),
            Some(format!(
                "{resign} (set up signing once: `git config commit.gpgsign true` and `git config gpg.format ssh` with `user.signingkey`)"
            )),
        ),
        SigStatus::Bad => (
            Severity::Error,
            format!("{what} has a bad signature{by}: {}", v.reason),
            Some(format!("the object was altered after signing or the signature is corrupt; {resign}")),
        ),
        SigStatus::UnknownKey => (
            Severity::Error,
            format!(
                "{what} is signed{by}, a key no signer of the policy has ({}; {})",
                v.reason, trust.allowed_signers_file
            ),
            Some(format!(
                "if the key is yours, add it (`vouch keys add ~/.ssh/id_ed25519.pub --identity {0}` or `vouch keys add --gpg KEYID --identity {0}`) and get the .vouch/ change merged; otherwise {resign} with a trusted key",
                target.email()
            )),
        ),
        SigStatus::UntrustedIdentity => (
            Severity::Error,
            format!("{what} is signed{by}, but {}", v.reason),
            Some(format!(
                "commit as an identity the signer owns (`git config user.email`), or add the identity: `vouch keys add KEY --identity {}`",
                target.email()
            )),
        ),
        SigStatus::ExpiredKey => (
            Severity::Error,
            format!("{what} is signed{by}, but {} (judged at {when})", v.reason),
            Some(format!("extend the key (`gpg --quick-set-expire FINGERPRINT 1y`) and update it with `vouch keys add --gpg FINGERPRINT`, or {resign} with a current key")),
        ),
        SigStatus::RevokedKey => (
            Severity::Error,
            format!("{what} is signed{by}, but {}", v.reason),
            Some(format!("{resign} with a current key")),
        ),
        SigStatus::CompromisedKey => (
            Severity::Error,
            format!("{what} is signed{by}, a key listed as compromised"),
            Some(format!("{resign} with a new key; known-good commits can be listed in [signatures] exempt_commits")),
        ),
        SigStatus::RetiredKey => (
            Severity::Error,
            format!("{what} is signed{by}, but {} and it is judged at {when}", v.reason),
            Some(format!("sign with your current key: {resign}")),
        ),
        SigStatus::KeyTooOld => (
            Severity::Error,
            format!("{what} is signed{by}, but {} (judged at {when})", v.reason),
            Some("rotate: make a new key, `vouch keys add` it, then `vouch keys retire` the old one".into()),
        ),
        SigStatus::OutsideWindow => (
            Severity::Error,
            format!("{what} is signed{by} at {when}, outside its validity: {}", v.reason),
            Some(format!("{resign} with a key valid now, or correct valid-after/valid-before in {}", trust.allowed_signers_file)),
        ),
        SigStatus::X509 => (
            Severity::Error,
            format!("{what} has an X.509 signature, which this policy does not accept"),
            Some(format!("sign with SSH or OpenPGP ({resign}), or set `accept_x509 = true` in [signatures]")),
        ),
        SigStatus::Unsupported => (
            Severity::Error,
            format!("{what} has a signature in a format vouch does not know"),
            Some(format!("sign with SSH or OpenPGP: {resign}")),
        ),
    };
    let rule = match (v.status, v.at_now) {
        (SigStatus::Good, Some(_)) => "signatures.relied-on-commit-date".to_string(),
        (status, _) => format!("signatures.{}", status.as_str()),
    };
    let mut f = Finding::new(rule, severity, message).at(target.location());
    if let Some(h) = hint {
        f = f.hint(h);
    }
    f = f
        .property("status", v.status.as_str())
        .property("judged_at", iso(v.judged_at))
        .property("time_basis", v.time_basis.as_str());
    if let Some(format) = v.format {
        f = f.property("format", format.as_str());
    }
    if let Some(fp) = &v.fingerprint {
        f = f.property("fingerprint", fp.clone());
    }
    if let Some(fp) = &v.primary_fingerprint {
        f = f.property("primary_fingerprint", fp.clone());
    }
    if let Some(s) = v.signer.as_ref().filter(|s| !s.is_empty()) {
        f = f.property("signer", s.clone());
    }
    if let Some(note) = &v.note {
        f = f.property("note", note.clone());
    }
    vec![f]
}

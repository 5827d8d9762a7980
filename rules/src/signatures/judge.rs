//! Judging one signed object: the signature's cryptography, then the policy's trust at a time.
//!
//! The result is a [`Verification`] with a [`SigStatus`] as precise as git's `%G?` letter, the
//! key's fingerprint, the signer and, when the time mattered, which time was used.

use super::allowed_signers::AllowedSigner;
use super::openpgp::{PgpKey, PgpSignature, Verified};
use super::payload::{self, Format, Signed};
use super::ssh::{self, SigningKey};
use super::trust::{PgpSigner, Trust};
use crate::change::Stamp;
use crate::policy::{Rotated, SignaturesPolicy};
use serde::Serialize;

/// What a signature check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigStatus {
    /// Verifies, by a trusted key, for this identity, at this time (git: `G`).
    Good,
    /// A retired key, used after its retirement date.
    RetiredKey,
    /// Older than `max_key_age_days`.
    KeyTooOld,
    /// Outside the allowed-signers line's or certificate's `valid-after`/`valid-before`.
    OutsideWindow,
    /// The key is trusted, but not for the committer's (or author's) e-mail.
    UntrustedIdentity,
    /// The OpenPGP key had expired (git: `Y`).
    ExpiredKey,
    /// The OpenPGP key or subkey is revoked (git: `R`).
    RevokedKey,
    /// Listed in `[signatures] compromised`.
    CompromisedKey,
    /// No signer of the policy has the key (git: `E` for OpenPGP, `U`-like for SSH).
    UnknownKey,
    /// The signature does not verify: tampered payload or signature (git: `B`).
    Bad,
    /// X.509 (gpgsm, gitsign): recognised, not verified by vouch; accepted only with `accept_x509`.
    X509,
    /// A signature header vouch does not recognise.
    Unsupported,
    /// No signature (git: `N`).
    Unsigned,
}

impl SigStatus {
    /// The rule-id suffix: `signatures.<this>`.
    pub fn as_str(self) -> &'static str {
        match self {
            SigStatus::Good => "good",
            SigStatus::RetiredKey => "retired-key",
            SigStatus::KeyTooOld => "key-too-old",
            SigStatus::OutsideWindow => "outside-window",
            SigStatus::UntrustedIdentity => "untrusted-identity",
            SigStatus::ExpiredKey => "expired-key",
            SigStatus::RevokedKey => "revoked-key",
            SigStatus::CompromisedKey => "compromised-key",
            SigStatus::UnknownKey => "unknown-key",
            SigStatus::Bad => "bad",
            SigStatus::X509 => "x509",
            SigStatus::Unsupported => "unsupported",
            SigStatus::Unsigned => "unsigned",
        }
    }
}

/// Which clock judged time-bound facts (validity windows, expiry, retirement, key age).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeBasis {
    /// The time of the push: what hooks and the bot use, since commit dates are chosen by signers.
    PushTime,
    /// The commit's (or tag's) own date, capped at now: for auditing existing history.
    CommitDate,
    /// An instant the caller gave (reproducing a judgement made then).
    Given,
}

impl TimeBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeBasis::PushTime => "push-time",
            TimeBasis::CommitDate => "commit-date",
            TimeBasis::Given => "given-time",
        }
    }
}

/// The clock for a judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub basis: TimeBasis,
    pub now: i64,
}

impl Clock {
    fn time_for(&self, stamp: Option<&Stamp>) -> i64 {
        match (self.basis, stamp) {
            (TimeBasis::CommitDate, Some(s)) => s.time.min(self.now),
            _ => self.now,
        }
    }
}

/// The object being judged.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: &'a str,
    pub raw: &'a [u8],
    pub is_tag: bool,
    pub is_merge: bool,
    /// Committer (tagger for a tag).
    pub committer: Option<&'a Stamp>,
    pub author: Option<&'a Stamp>,
}

/// One signature check's full result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub status: SigStatus,
    /// True when the policy accepts the object (good; or X.509/unsigned merge allowed by policy).
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// `SHA256:…` (SSH) or hex (OpenPGP) of the key that signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// OpenPGP: the certificate's primary key, when a subkey signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_fingerprint: Option<String>,
    /// The signer: the OpenPGP key file's stem, or the SSH principal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Why, in words.
    pub reason: String,
    /// The time judged at (Unix seconds) and which clock it came from.
    pub judged_at: i64,
    pub time_basis: TimeBasis,
    /// Set when the object is accepted only because of its self-chosen date: judged at `now`
    /// it would get this status instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_now: Option<SigStatus>,
    /// What the reader should know about a signature that verified: an OpenPGP v4 signature's
    /// wrong hash-prefix field, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Verification {
    fn new(status: SigStatus, reason: impl Into<String>, judged_at: i64, basis: TimeBasis) -> Self {
        Verification {
            status,
            accepted: status == SigStatus::Good,
            format: None,
            fingerprint: None,
            primary_fingerprint: None,
            signer: None,
            reason: reason.into(),
            judged_at,
            time_basis: basis,
            at_now: None,
            note: None,
        }
    }
}

/// Judge one commit or tag under `trust` and `policy`.
pub fn verify(
    trust: &Trust,
    policy: &SignaturesPolicy,
    subject: Subject<'_>,
    clock: Clock,
) -> Verification {
    let time = clock.time_for(subject.committer);
    let signed = if subject.is_tag {
        payload::tag(subject.raw)
    } else {
        payload::commit(subject.raw, subject.id)
    };
    let Some(signed) = signed else {
        let mut v = Verification::new(SigStatus::Unsigned, "not signed", time, clock.basis);
        if subject.is_merge && policy.allow_unsigned_merges {
            v.accepted = true;
            v.reason = "unsigned merge commit, allowed by `allow_unsigned_merges`".into();
        }
        return v;
    };
    let checked = match signed.format {
        Format::Ssh => check_ssh(trust, &signed),
        Format::OpenPgp => check_pgp(trust, &signed),
        Format::X509 => {
            let mut v = Verification::new(
                SigStatus::X509,
                "X.509 signature (gpgsm/gitsign): vouch recognises it but cannot check it against the repository's signers",
                time,
                clock.basis,
            );
            v.format = Some(Format::X509);
            v.accepted = policy.accept_x509;
            return v;
        }
        Format::Unknown => {
            let mut v = Verification::new(
                SigStatus::Unsupported,
                "the signature header holds no OpenPGP, SSH or X.509 signature",
                time,
                clock.basis,
            );
            v.format = Some(Format::Unknown);
            return v;
        }
    };
    let mut v = match &checked {
        Checked::Failed(status, reason, fingerprint) => {
            let mut v = Verification::new(*status, reason.clone(), time, clock.basis);
            v.fingerprint = fingerprint.clone();
            v
        }
        _ => checked.judge(policy, subject, time, clock.basis),
    };
    v.format = Some(signed.format);
    if v.accepted && clock.basis == TimeBasis::CommitDate && time != clock.now {
        let at_now = checked.judge(policy, subject, clock.now, clock.basis);
        if !at_now.accepted {
            v.at_now = Some(at_now.status);
        }
    }
    v
}

/// The outcome of the cryptographic step, before policy.
enum Checked<'t> {
    Failed(SigStatus, String, Option<String>),
    Ssh {
        key: SigningKey,
        lines: Vec<&'t AllowedSigner>,
    },
    Pgp {
        signer: &'t PgpSigner,
        key: &'t PgpKey,
        verified: Verified,
    },
}

fn check_ssh<'t>(trust: &'t Trust, signed: &Signed) -> Checked<'t> {
    let sig = match ssh::decode(&signed.signature) {
        Ok(s) => s,
        Err(e) => return Checked::Failed(SigStatus::Bad, e.to_string(), None),
    };
    let fingerprint = Some(sig.key.fingerprint());
    if sig.namespace != "git" {
        return Checked::Failed(
            SigStatus::Bad,
            format!("signed for namespace {:?}, not \"git\"", sig.namespace),
            fingerprint,
        );
    }
    let lines: Vec<&AllowedSigner> = match &sig.key {
        SigningKey::Plain(_) => trust
            .ssh_lines(fingerprint.as_deref().unwrap_or(""))
            .collect(),
        SigningKey::Certificate(cert) => {
            let ca = cert
                .signature_key()
                .fingerprint(ssh_key::HashAlg::Sha256)
                .to_string();
            let lines: Vec<_> = trust.ssh_ca_lines(&ca).collect();
            if !lines.is_empty() && cert.verify_signature().is_err() {
                return Checked::Failed(
                    SigStatus::Bad,
                    "the certificate's CA signature does not verify".into(),
                    fingerprint,
                );
            }
            lines
        }
    };
    // The signature is checked whether or not the key is trusted: a tampered commit is `bad`.
    let cached = match &sig.key {
        SigningKey::Plain(_) => lines.first().and_then(|l| l.ed25519.as_ref()),
        SigningKey::Certificate(_) => None,
    };
    if let Err(e) = sig.verify_with(&signed.payload, cached) {
        return Checked::Failed(SigStatus::Bad, e.to_string(), fingerprint);
    }
    if lines.is_empty() {
        let what = match sig.key {
            SigningKey::Plain(_) => "no line of the allowed-signers file has this key",
            SigningKey::Certificate(_) => {
                "signed with an SSH certificate whose CA no `cert-authority` line trusts"
            }
        };
        return Checked::Failed(SigStatus::UnknownKey, what.into(), fingerprint);
    }
    let git_lines: Vec<&AllowedSigner> = lines
        .iter()
        .copied()
        .filter(|l| l.allows_namespace("git"))
        .collect();
    if git_lines.is_empty() {
        return Checked::Failed(
            SigStatus::UnknownKey,
            format!(
                "the key is listed (line {}) only for other namespaces, not \"git\"",
                lines[0].line
            ),
            fingerprint,
        );
    }
    Checked::Ssh {
        key: sig.key,
        lines: git_lines,
    }
}

fn check_pgp<'t>(trust: &'t Trust, signed: &Signed) -> Checked<'t> {
    let sig = match PgpSignature::decode(&signed.signature) {
        Ok(s) => s,
        Err(e) => return Checked::Failed(SigStatus::Bad, e, None),
    };
    let issuers = sig.issuers();
    let keys = trust.pgp_keys(&issuers);
    if keys.is_empty() {
        return Checked::Failed(
            SigStatus::UnknownKey,
            "no certificate in the keys folder has this key".into(),
            issuers.first().cloned(),
        );
    }
    let mut last_error = String::new();
    for &(signer, key) in &keys {
        match sig.verify(key, &signed.payload) {
            Ok(verified) => {
                return Checked::Pgp {
                    signer,
                    key,
                    verified,
                }
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    Checked::Failed(
        SigStatus::Bad,
        format!("the signature does not verify: {last_error}"),
        keys.first().map(|(_, k)| k.fingerprint.clone()),
    )
}

fn emails<'a>(policy: &SignaturesPolicy, subject: Subject<'a>) -> Vec<&'a str> {
    let mut out: Vec<&str> = subject
        .committer
        .map(|s| s.email.as_str())
        .into_iter()
        .collect();
    if policy.require_author_identity {
        if let Some(a) = subject.author {
            out.push(a.email.as_str());
        }
    }
    out
}

/// Key-level policy: compromised, retired, age. `None` when the key passes.
fn key_policy(
    policy: &SignaturesPolicy,
    subject: Subject<'_>,
    fingerprints: &[&str],
    created: Option<i64>,
    time: i64,
) -> Option<(SigStatus, String)> {
    match policy.rotation().judge(fingerprints, subject.id, time) {
        Err(Rotated::Compromised) => {
            return Some((
                SigStatus::CompromisedKey,
                "the key is listed as compromised in [signatures] compromised".into(),
            ))
        }
        Err(Rotated::Retired(since)) => {
            return Some((
                SigStatus::RetiredKey,
                format!("the key was retired on {}", iso(since)),
            ))
        }
        Ok(()) => {}
    }
    if let Some(days) = policy.max_key_age_days {
        let limit = i64::from(days) * 86_400;
        match created {
            Some(c) if time - c > limit => {
                return Some((
                    SigStatus::KeyTooOld,
                    format!("the key dates from {}, more than {days} days earlier", iso(c)),
                ))
            }
            Some(_) => {}
            None => {
                return Some((
                    SigStatus::KeyTooOld,
                    "`max_key_age_days` is set but the key's age is unknown (give its allowed-signers line a valid-after date)".into(),
                ))
            }
        }
    }
    None
}

impl Checked<'_> {
    fn judge(
        &self,
        policy: &SignaturesPolicy,
        subject: Subject<'_>,
        time: i64,
        basis: TimeBasis,
    ) -> Verification {
        match self {
            Checked::Failed(status, reason, fp) => {
                let mut v = Verification::new(*status, reason.clone(), time, basis);
                v.fingerprint = fp.clone();
                v
            }
            Checked::Ssh { key, lines } => judge_ssh(policy, subject, key, lines, time, basis),
            Checked::Pgp {
                signer,
                key,
                verified,
            } => {
                let mut v = judge_pgp(policy, subject, signer, key, time, basis);
                v.note = verified
                    .hash_prefix
                    .map(|p| format!("the signature verifies; {}", p.describe()));
                v
            }
        }
    }
}

fn judge_ssh(
    policy: &SignaturesPolicy,
    subject: Subject<'_>,
    key: &SigningKey,
    lines: &[&AllowedSigner],
    time: i64,
    basis: TimeBasis,
) -> Verification {
    let fingerprint = key.fingerprint();
    let cert = match key {
        SigningKey::Certificate(c) => Some(c.as_ref()),
        SigningKey::Plain(_) => None,
    };
    let wanted = emails(policy, subject);
    let mut best: Option<(SigStatus, String, String)> = None;
    for line in lines {
        let forge = line
            .principals
            .iter()
            .any(|p| policy.forge_signers.iter().any(|f| f == p));
        let signer = wanted
            .first()
            .filter(|e| line.allows(e))
            .map(|e| e.to_string())
            .unwrap_or_else(|| line.principals.join(","));
        let in_cert = |e: &str| cert.is_none_or(|c| c.valid_principals().iter().any(|p| p == e));
        let outcome = if !forge && !wanted.iter().all(|e| line.allows(e) && in_cert(e)) {
            (
                SigStatus::UntrustedIdentity,
                format!(
                    "the key is trusted for {} (line {}), not for {}",
                    line.principals.join(","),
                    line.line,
                    wanted.join(" and ")
                ),
            )
        } else if !line.valid_at(time) {
            (
                SigStatus::OutsideWindow,
                format!("line {} limits the key to {}", line.line, window(line)),
            )
        } else if let Some(c) = cert.filter(|c| {
            (time.max(0) as u64) < c.valid_after() || (time.max(0) as u64) >= c.valid_before()
        }) {
            (
                SigStatus::OutsideWindow,
                format!(
                    "the certificate is valid from {} to {}",
                    iso(c.valid_after() as i64),
                    iso(c.valid_before().min(i64::MAX as u64) as i64)
                ),
            )
        } else {
            let created = line.valid_after.or(cert.map(|c| c.valid_after() as i64));
            match key_policy(
                policy,
                subject,
                &[&fingerprint, &line.fingerprint],
                created,
                time,
            ) {
                Some((status, reason)) => (status, reason),
                None => (SigStatus::Good, format!("good signature by {signer}")),
            }
        };
        if best.as_ref().is_none_or(|b| outcome.0 < b.0) {
            best = Some((outcome.0, outcome.1, signer));
        }
    }
    let (status, reason, signer) = best.unwrap_or((
        SigStatus::UnknownKey,
        "no usable line".into(),
        String::new(),
    ));
    // Compromise outranks everything else a line could say.
    let status_reason = match key_policy(policy, subject, &[&fingerprint], None, i64::MIN) {
        Some((SigStatus::CompromisedKey, r)) => (SigStatus::CompromisedKey, r),
        _ => (status, reason),
    };
    let mut v = Verification::new(status_reason.0, status_reason.1, time, basis);
    v.fingerprint = Some(fingerprint);
    v.signer = Some(signer);
    v
}

fn judge_pgp(
    policy: &SignaturesPolicy,
    subject: Subject<'_>,
    signer: &PgpSigner,
    key: &PgpKey,
    time: i64,
    basis: TimeBasis,
) -> Verification {
    let fps = [key.fingerprint.as_str(), key.primary_fingerprint.as_str()];
    let wanted = emails(policy, subject);
    let forge = policy.forge_signers.contains(&signer.name);
    let (status, reason) =
        if policy.rotation().is_compromised(&fps) && !policy.rotation().exempts(subject.id) {
            (
                SigStatus::CompromisedKey,
                "the key is listed as compromised in [signatures] compromised".into(),
            )
        } else if let Some(why) = &key.revoked {
            (SigStatus::RevokedKey, format!("the key is {why}"))
        } else if let Some(at) = key.expires.filter(|&e| time >= e) {
            (
                SigStatus::ExpiredKey,
                format!("the key expired on {}", iso(at)),
            )
        } else if let Some(r) = key_policy(policy, subject, &fps, Some(key.created), time) {
            r
        } else if !forge
            && !wanted
                .iter()
                .all(|e| signer.identities.iter().any(|i| i.eq_ignore_ascii_case(e)))
        {
            (
                SigStatus::UntrustedIdentity,
                format!(
                    "signer {} ({}) has identities {}, not {}",
                    signer.name,
                    signer.file,
                    if signer.identities.is_empty() {
                        "(none)".to_string()
                    } else {
                        signer.identities.join(", ")
                    },
                    wanted.join(" and ")
                ),
            )
        } else {
            (
                SigStatus::Good,
                format!("good signature by {}", signer.name),
            )
        };
    let mut v = Verification::new(status, reason, time, basis);
    v.fingerprint = Some(key.fingerprint.clone());
    if key.primary_fingerprint != key.fingerprint {
        v.primary_fingerprint = Some(key.primary_fingerprint.clone());
    }
    v.signer = Some(signer.name.clone());
    v
}

fn window(line: &AllowedSigner) -> String {
    match (line.valid_after, line.valid_before) {
        (Some(a), Some(b)) => format!("{} to {}", iso(a), iso(b)),
        (Some(a), None) => format!("from {}", iso(a)),
        (None, Some(b)) => format!("before {}", iso(b)),
        (None, None) => "any time".into(),
    }
}

pub use crate::time::iso;

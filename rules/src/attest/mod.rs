//! Attestations: signed proof of how each change got into a protected branch.
//!
//! When vouch makes a merge it writes an **attestation** about the merge commit and stores it as
//! a git note (`[attestation] notes_ref`, default `refs/notes/vouch`). The note is an in-toto
//! bundle: JSON Lines, one DSSE envelope ([`dsse`]) per line, each holding an in-toto Statement
//! v1 ([`statement`]) whose subject is the merge commit:
//!
//! 1. a SLSA Verification Summary (`https://slsa.dev/verification_summary/v1`) — verifier,
//!    time, repository, policy digest, `PASSED`, the source levels held;
//! 2. vouch's merge predicate — the previous tip, every merged commit with its signer and key,
//!    approvers and who was excluded, the checks that held, the policy digest, and the SHA-256
//!    of the previous tip's note: a hash chain down the branch's first-parent history.
//!
//! [`keys`] says which keys may sign ([`keys::trusted`]) and in which state a key is;
//! [`history`] walks a branch and finds the first break. Nothing here touches the network.

pub mod check;
pub mod dsse;
pub mod history;
pub mod keys;
pub mod statement;

use dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use keys::{SigningKey, VerifierKey};
use sha2::{Digest, Sha256};
use statement::{
    MergeFacts, MergePredicate, Statement, Vsa, VOUCH_PREDICATE_TYPE, VSA_PREDICATE_TYPE,
};

/// Why an attestation could not be made, read or trusted. Each says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// Not JSON of the expected shape.
    #[error("{what} is malformed: {reason}")]
    Malformed { what: String, reason: String },
    /// No signature verifies with a trusted key.
    #[error("no signature verifies with a trusted verifier key (signed by {}; trusted: {})", list(.keyids), list(.trusted))]
    Unverified {
        keyids: Vec<String>,
        trusted: Vec<String>,
    },
    /// A key that cannot sign attestations.
    #[error("key {key} cannot be used: {reason}")]
    UnusableKey { key: String, reason: String },
    /// A key file held no key.
    #[error("{file} holds no public key")]
    NoKeys { file: String },
    /// The policy's files could not be read.
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

impl AttestError {
    /// What to do next.
    pub fn hint(&self) -> &'static str {
        match self {
            AttestError::Malformed { .. } => {
                "the note is not an attestation vouch wrote; remove it (`git notes --ref refs/notes/vouch remove <commit>`) and find out who wrote it"
            }
            AttestError::Unverified { .. } => {
                "trust the verifier's key in [attestation] trusted_verifiers (an allowed_signers principal), or pass it with --key"
            }
            AttestError::UnusableKey { .. } => {
                "make a verifier key with `ssh-keygen -t ed25519` (or `-t ecdsa -b 256`) and no passphrase"
            }
            AttestError::NoKeys { .. } => "give an OpenSSH public key (`.pub`) or an allowed-signers file",
            AttestError::Policy(_) => "fix the policy file named above",
        }
    }
}

/// SHA-256 of a note's bytes, hex: the link the next attestation on the branch carries.
pub fn note_digest(note: &[u8]) -> String {
    hex::encode(Sha256::digest(note))
}

/// Sign both statements about a merge with `key`; the note's bytes (JSON Lines, `\n`-ended).
pub fn sign(facts: &MergeFacts<'_>, key: &SigningKey) -> Result<Vec<u8>, AttestError> {
    let json = |v: serde_json::Result<Vec<u8>>| {
        v.map_err(|e| AttestError::Malformed {
            what: "the statement".into(),
            reason: e.to_string(),
        })
    };
    let mut note = Vec::new();
    for payload in [
        json(serde_json::to_vec(&facts.vsa()))?,
        json(serde_json::to_vec(&facts.merge()))?,
    ] {
        let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, &payload, &[key]);
        note.extend(json(serde_json::to_vec(&envelope))?);
        note.push(b'\n');
    }
    Ok(note)
}

/// A note's envelopes, undecoded: for `vouch attest show` and for verifying.
pub fn envelopes(note: &[u8]) -> Result<Vec<Envelope>, AttestError> {
    let text = std::str::from_utf8(note).map_err(|_| AttestError::Malformed {
        what: "the note".into(),
        reason: "not UTF-8".into(),
    })?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        out.push(
            serde_json::from_str::<Envelope>(line).map_err(|e| AttestError::Malformed {
                what: format!("line {} of the note", i + 1),
                reason: e.to_string(),
            })?,
        );
    }
    Ok(out)
}

/// An attestation whose signatures verified.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub vsa: Statement<Vsa>,
    pub merge: Statement<MergePredicate>,
    /// The key that signed (both envelopes must be signed by one key).
    pub key: VerifierKey,
    /// [`note_digest`] of the note.
    pub digest: String,
}

/// Verify a note's envelopes with `keys` and decode both statements. Checks the signatures and
/// the statements' shape only; [`history`] checks what they say against the repository.
pub fn open(note: &[u8], keys: &[VerifierKey]) -> Result<Attestation, AttestError> {
    let malformed = |reason: String| AttestError::Malformed {
        what: "the attestation".into(),
        reason,
    };
    let mut vsa = None;
    let mut merge = None;
    let mut signer: Option<VerifierKey> = None;
    for envelope in envelopes(note)? {
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(malformed(format!(
                "payload type {:?} is not {IN_TOTO_PAYLOAD_TYPE}",
                envelope.payload_type
            )));
        }
        let (key, payload) = envelope.verify(keys)?;
        if signer
            .as_ref()
            .is_some_and(|s| s.fingerprint != key.fingerprint)
        {
            return Err(malformed(
                "its statements are signed by different keys".into(),
            ));
        }
        signer = Some(key.clone());
        let value: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|e| malformed(e.to_string()))?;
        match value.get("predicateType").and_then(|v| v.as_str()) {
            Some(VSA_PREDICATE_TYPE) => {
                vsa = Some(serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?)
            }
            Some(VOUCH_PREDICATE_TYPE) => {
                merge = Some(serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?)
            }
            _ => {}
        }
    }
    match (vsa, merge, signer) {
        (Some(vsa), Some(merge), Some(key)) => Ok(Attestation {
            vsa,
            merge,
            key,
            digest: note_digest(note),
        }),
        _ => Err(malformed(format!(
            "it lacks a {VSA_PREDICATE_TYPE} or a {VOUCH_PREDICATE_TYPE} statement"
        ))),
    }
}

#[cfg(test)]
mod tests;

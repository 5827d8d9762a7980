//! The roster: every key the policy trusts, with its state under `[signatures]` now — what
//! `vouch keys list` shows. The state comes from the same policy methods the judge uses, so a
//! key listed as compromised here is the key the judge refuses.

use super::trust::Trust;
use crate::policy::SignaturesPolicy;
use crate::time::iso;
use serde::Serialize;

/// One trusted key and what the policy says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterEntry {
    /// `ssh` or `openpgp`.
    pub kind: &'static str,
    /// The signer: the allowed-signers principals, or the OpenPGP key file's stem.
    pub signer: String,
    pub fingerprint: String,
    /// The identities (e-mails) the key may sign for, each once.
    pub identities: Vec<String>,
    /// Where the key is: `.vouch/allowed_signers:3`, `.vouch/keys/alice.asc`.
    pub source: String,
    /// Compromised, retired, revoked, expiry, validity window: empty when the key is simply good.
    pub state: Vec<String>,
}

fn policy_state(policy: &SignaturesPolicy, fingerprints: &[&str]) -> Vec<String> {
    let mut state = Vec::new();
    if policy.is_compromised(fingerprints) {
        state.push("compromised".to_string());
    }
    if let Some(since) = policy.retired_since(fingerprints) {
        state.push(format!("retired since {}", iso(since)));
    }
    state
}

fn unique(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(i)) {
            out.push(i.clone());
        }
    }
    out
}

/// Every key of `trust`, SSH first, with its state at `now`.
pub fn roster(trust: &Trust, policy: &SignaturesPolicy, now: i64) -> Vec<RosterEntry> {
    let mut out = Vec::new();
    for line in &trust.ssh {
        let mut state = policy_state(policy, &[&line.fingerprint]);
        if line.cert_authority {
            state.push("certificate authority".into());
        }
        if !line.valid_at(now) {
            state.push("outside its validity window now".into());
        }
        out.push(RosterEntry {
            kind: "ssh",
            signer: line.principals.join(","),
            fingerprint: line.fingerprint.clone(),
            identities: unique(&line.principals),
            source: format!("{}:{}", trust.allowed_signers_file, line.line),
            state,
        });
    }
    for signer in &trust.pgp {
        for key in &signer.keys {
            let mut state = policy_state(policy, &[&key.fingerprint, &key.primary_fingerprint]);
            if let Some(r) = &key.revoked {
                state.push(r.clone());
            }
            if let Some(e) = key.expires {
                let word = if e <= now { "expired" } else { "expires" };
                state.push(format!("{word} {}", iso(e)));
            }
            out.push(RosterEntry {
                kind: "openpgp",
                signer: signer.name.clone(),
                fingerprint: key.fingerprint.clone(),
                identities: unique(&signer.identities),
                source: signer.file.clone(),
                state,
            });
        }
    }
    out
}

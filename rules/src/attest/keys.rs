//! Verifier keys: who may sign attestations, and in which state each key is.
//!
//! Verifier keys are SSH public keys (Ed25519 or ECDSA P-256), so they live where the policy's
//! other SSH keys live: lines of `.vouch/allowed_signers` whose principals `[attestation]
//! trusted_verifiers` names, with `valid-after` / `valid-before` bounding when each key may sign.
//! A downstream verifier can instead bring its own keys (`vouch attest verify --key`).
//!
//! Rotation is the commit-signature keys' model ([`crate::policy::KeyRotation`], shared): a
//! **retired** key's attestations verified before its `since` stay valid; a **compromised**
//! key's attestations all fail, except on the merge commits listed in `exempt_commits`.

use super::AttestError;
use crate::policy::{AttestationPolicy, Policy, Rotated};
use crate::signatures::allowed_signers;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use ssh_key::private::{EcdsaKeypair, KeypairData};
use ssh_key::public::{EcdsaPublicKey, KeyData};
use ssh_key::HashAlg;

/// The public half of a verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// A key trusted to sign attestations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The principal (or key file) that names it, for messages.
    pub name: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it; the DSSE `keyid`.
    pub fingerprint: String,
    pub key: PublicKey,
    /// Unix seconds, inclusive.
    pub valid_after: Option<i64>,
    /// Unix seconds, exclusive.
    pub valid_before: Option<i64>,
}

impl VerifierKey {
    /// A verifier key from an SSH public key; only Ed25519 and ECDSA P-256 keys can sign DSSE.
    pub fn from_ssh(name: &str, key: &ssh_key::PublicKey) -> Result<VerifierKey, AttestError> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let unusable = |reason: &str| AttestError::UnusableKey {
            key: format!("{name} ({fingerprint})"),
            reason: reason.to_string(),
        };
        let public = match key.key_data() {
            KeyData::Ed25519(k) => PublicKey::Ed25519(
                ed25519_dalek::VerifyingKey::from_bytes(&k.0)
                    .map_err(|_| unusable("not a valid Ed25519 point"))?,
            ),
            KeyData::Ecdsa(EcdsaPublicKey::NistP256(point)) => PublicKey::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point.as_bytes())
                    .map_err(|_| unusable("not a valid P-256 point"))?,
            ),
            other => {
                return Err(unusable(&format!(
                    "{} keys cannot sign attestations; use Ed25519 or ECDSA P-256",
                    other.algorithm()
                )))
            }
        };
        Ok(VerifierKey {
            name: name.to_string(),
            fingerprint,
            key: public,
            valid_after: None,
            valid_before: None,
        })
    }

    /// Whether `sig` is this key's signature over `message` (Ed25519: 64 bytes, strict;
    /// P-256: ECDSA with SHA-256, DER or the fixed 64-byte form).
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(sig)
                .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
        }
    }

    /// Whether `time` lies in the key's validity window.
    pub fn valid_at(&self, time: i64) -> bool {
        self.valid_after.is_none_or(|a| time >= a) && self.valid_before.is_none_or(|b| time < b)
    }
}

/// Why a key that made a good signature is still not accepted for one attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// Listed in `compromised`, and the commit is not exempt.
    Compromised,
    /// Retired at the given time, and the attestation was verified at or after it.
    Retired(i64),
    /// The attestation's time lies outside the key's `valid-after` / `valid-before` window.
    OutsideWindow,
}

/// The state of `key` for an attestation on `commit` verified at `time`, under `policy`.
pub fn judge(
    policy: &AttestationPolicy,
    key: &VerifierKey,
    commit: &str,
    time: i64,
) -> Result<(), KeyProblem> {
    match policy.rotation().judge(&[&key.fingerprint], commit, time) {
        Err(Rotated::Compromised) => return Err(KeyProblem::Compromised),
        Err(Rotated::Retired(since)) => return Err(KeyProblem::Retired(since)),
        Ok(()) => {}
    }
    if !key.valid_at(time) {
        return Err(KeyProblem::OutsideWindow);
    }
    Ok(())
}

/// The verifier keys `policy` trusts: the `allowed_signers` lines whose principals match one of
/// `[attestation] trusted_verifiers`. Lines with keys that cannot sign DSSE are an error.
pub fn trusted(policy: &Policy) -> Result<Vec<VerifierKey>, AttestError> {
    let file = &policy.signatures.allowed_signers;
    let Some(bytes) = policy.files.get(file) else {
        return Ok(Vec::new());
    };
    let display = policy.files.display(file);
    let text = String::from_utf8_lossy(bytes);
    let lines = allowed_signers::parse(&text, &display)?;
    let mut keys = Vec::new();
    for line in lines.iter().filter(|l| !l.cert_authority) {
        let Some(name) = policy
            .attestation
            .trusted_verifiers
            .iter()
            .find(|v| line.allows(v))
        else {
            continue;
        };
        let mut key = VerifierKey::from_ssh(name, &line.key).map_err(|e| match e {
            AttestError::UnusableKey { key, reason } => AttestError::UnusableKey {
                key: format!("{key} at {display}:{}", line.line),
                reason,
            },
            other => other,
        })?;
        key.valid_after = line.valid_after;
        key.valid_before = line.valid_before;
        keys.push(key);
    }
    Ok(keys)
}

/// Verifier keys from a file a downstream verifier brings: an OpenSSH public key (`.pub`), or an
/// allowed-signers file (every line's key).
pub fn from_file(text: &str, file: &str) -> Result<Vec<VerifierKey>, AttestError> {
    if let Ok(key) = ssh_key::PublicKey::from_openssh(text.trim()) {
        return Ok(vec![VerifierKey::from_ssh(file, &key)?]);
    }
    let mut keys = Vec::new();
    for line in allowed_signers::parse(text, file)? {
        let mut key = VerifierKey::from_ssh(&line.principals.join(","), &line.key)?;
        key.valid_after = line.valid_after;
        key.valid_before = line.valid_before;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(AttestError::NoKeys {
            file: file.to_string(),
        });
    }
    Ok(keys)
}

/// A private key that signs attestations. Its `Debug` shows the fingerprint only.
pub struct SigningKey {
    fingerprint: String,
    public: VerifierKey,
    secret: Secret,
    /// The whole OpenSSH key, when it was read from one: it also signs git commits.
    ssh: Option<Box<ssh_key::PrivateKey>>,
}

enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Ed25519(_) => "Ed25519(…)",
            Secret::P256(_) => "P256(…)",
        })
    }
}

impl SigningKey {
    /// An unencrypted OpenSSH private key (`ssh-keygen -t ed25519` or `-t ecdsa -b 256`).
    pub fn from_openssh(text: &str, file: &str) -> Result<SigningKey, AttestError> {
        let bad = |reason: String| AttestError::UnusableKey {
            key: file.to_string(),
            reason,
        };
        let private =
            ssh_key::PrivateKey::from_openssh(text.trim()).map_err(|e| bad(e.to_string()))?;
        if private.is_encrypted() {
            return Err(bad(
                "the key is passphrase-protected; vouch signs attestations with an unencrypted key file kept where only the merger can read it".into(),
            ));
        }
        let public = VerifierKey::from_ssh(file, private.public_key())?;
        let secret = match private.key_data() {
            KeypairData::Ed25519(kp) => Secret::Ed25519(
                ed25519_dalek::SigningKey::try_from(kp).map_err(|e| bad(e.to_string()))?,
            ),
            KeypairData::Ecdsa(EcdsaKeypair::NistP256 { private, .. }) => Secret::P256(
                p256::ecdsa::SigningKey::from_slice(private.as_slice())
                    .map_err(|e| bad(e.to_string()))?,
            ),
            _ => {
                return Err(bad(
                    "only Ed25519 and ECDSA P-256 keys sign attestations".into()
                ))
            }
        };
        Ok(SigningKey {
            fingerprint: public.fingerprint.clone(),
            public,
            secret,
            ssh: Some(Box::new(private)),
        })
    }

    /// An SSH signature of a git commit object (namespace `git`, SHA-512), armored as git writes
    /// it into the `gpgsig` header: what `git commit -S` makes with `gpg.format = ssh`, so
    /// `git verify-commit` accepts it with the key in `gpg.ssh.allowedSignersFile`.
    pub fn sign_commit(&self, commit: &[u8]) -> Result<String, AttestError> {
        let bad = |reason: String| AttestError::UnusableKey {
            key: self.public.name.clone(),
            reason,
        };
        let key = self
            .ssh
            .as_ref()
            .ok_or_else(|| bad("not read from an OpenSSH key file".into()))?;
        let sig = key
            .sign("git", HashAlg::Sha512, commit)
            .map_err(|e| bad(e.to_string()))?;
        sig.to_pem(ssh_key::LineEnding::LF)
            .map_err(|e| bad(e.to_string()))
    }

    /// `SHA256:…`: the DSSE `keyid` of its signatures.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn public(&self) -> &VerifierKey {
        &self.public
    }

    /// Sign `message`: Ed25519's 64 bytes, or an ECDSA P-256/SHA-256 signature in DER (the
    /// encoding securesystemslib and most DSSE tools expect).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.secret {
            Secret::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(message).to_bytes().to_vec()
            }
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

impl SigningKey {
    /// An Ed25519 signing key from its 32-byte seed (tests, benchmarks, key files vouch makes).
    pub fn from_ed25519_seed(seed: &[u8; 32], name: &str) -> SigningKey {
        let secret = ed25519_dalek::SigningKey::from_bytes(seed);
        let point = secret.verifying_key();
        let fingerprint =
            ssh_key::PublicKey::from(ssh_key::public::Ed25519PublicKey(point.to_bytes()))
                .fingerprint(HashAlg::Sha256)
                .to_string();
        SigningKey {
            public: VerifierKey {
                name: name.to_string(),
                fingerprint: fingerprint.clone(),
                key: PublicKey::Ed25519(point),
                valid_after: None,
                valid_before: None,
            },
            fingerprint,
            secret: Secret::Ed25519(secret),
            ssh: None,
        }
    }
}

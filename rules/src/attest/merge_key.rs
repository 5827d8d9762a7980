//! The key a merger signs merge commits with when git's own signing is not there to do it (the
//! bot, which has a key file and no gpg-agent): an OpenSSH key, which writes git's SSH signature
//! format and can also sign the attestation, or an OpenPGP secret key, which writes the detached
//! armored signature `gpg` writes for `git commit -S`. Either way `git verify-commit` accepts the
//! result with git's ordinary configuration.

use super::keys::SigningKey;
use super::AttestError;
use pgp::composed::{ArmorOptions, Deserializable, DetachedSignature, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails as _, Password};

/// A private key that signs git commits. Its `Debug` shows what it is, never the secret.
pub enum MergeKey {
    Ssh(Box<SigningKey>),
    OpenPgp(Box<SignedSecretKey>),
}

impl std::fmt::Debug for MergeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeKey::Ssh(k) => f.debug_tuple("Ssh").field(&k.fingerprint()).finish(),
            MergeKey::OpenPgp(k) => f
                .debug_tuple("OpenPgp")
                .field(&hex::encode_upper(k.fingerprint().as_bytes()))
                .finish(),
        }
    }
}

impl MergeKey {
    /// An unencrypted key file: OpenSSH (`ssh-keygen -t ed25519 -N ''`) or an armored OpenPGP
    /// secret key (`gpg --export-secret-keys --armor` of a key without a passphrase). `file`
    /// names it in errors.
    pub fn from_text(text: &str, file: &str) -> Result<MergeKey, AttestError> {
        let bad = |reason: String| AttestError::UnusableKey {
            key: file.to_string(),
            reason,
        };
        if !text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
            return SigningKey::from_openssh(text, file).map(|k| MergeKey::Ssh(Box::new(k)));
        }
        let (key, _) = SignedSecretKey::from_armor_single(text.trim().as_bytes())
            .map_err(|e| bad(format!("not a readable OpenPGP secret key: {e}")))?;
        key.verify_bindings()
            .map_err(|e| bad(format!("its self-signatures do not verify: {e}")))?;
        let key = MergeKey::OpenPgp(Box::new(key));
        // A key gpg-agent would ask a passphrase for cannot sign unattended: say so now, not
        // on the first merge.
        key.sign_commit(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nprobe\n")
            .map_err(|e| match e {
                AttestError::UnusableKey { reason, .. } => bad(reason),
                other => other,
            })?;
        Ok(key)
    }

    /// The signature of a commit object, armored as git writes it into the `gpgsig` header.
    pub fn sign_commit(&self, commit: &[u8]) -> Result<String, AttestError> {
        match self {
            MergeKey::Ssh(k) => k.sign_commit(commit),
            MergeKey::OpenPgp(k) => sign_openpgp(k, commit),
        }
    }

    /// The key that can also sign the attestation (an OpenSSH key); OpenPGP keys sign commits
    /// only, and the attestation then needs a verifier key of its own.
    pub fn attestation_key(&self) -> Option<&SigningKey> {
        match self {
            MergeKey::Ssh(k) => Some(k),
            MergeKey::OpenPgp(_) => None,
        }
    }
}

fn sign_openpgp(key: &SignedSecretKey, commit: &[u8]) -> Result<String, AttestError> {
    let bad = |reason: String| AttestError::UnusableKey {
        key: hex::encode_upper(key.fingerprint().as_bytes()),
        reason,
    };
    let no_pw = Password::empty();
    let rng = rand::thread_rng();
    // A signing subkey if the key has one (gpg's usual layout), else the primary key.
    let subkey = key
        .secret_subkeys
        .iter()
        .find(|s| s.signatures.iter().any(|sig| sig.key_flags().sign()));
    let signature = match subkey {
        Some(s) => DetachedSignature::sign_binary_data(
            rng,
            &s.key,
            &no_pw,
            HashAlgorithm::Sha256,
            commit,
        ),
        None => {
            let primary_signs = key
                .details
                .users
                .iter()
                .flat_map(|u| u.signatures.iter())
                .chain(key.details.direct_signatures.iter())
                .any(|sig| sig.key_flags().sign());
            if !primary_signs {
                return Err(bad("neither the primary key nor a subkey may sign (no signing key flag): make one with `gpg --quick-add-key FPR ed25519 sign`".into()));
            }
            DetachedSignature::sign_binary_data(
                rng,
                &key.primary_key,
                &no_pw,
                HashAlgorithm::Sha256,
                commit,
            )
        }
    }
    .map_err(|e| {
        bad(format!(
            "it cannot sign without a passphrase ({e}); export a copy without one (`gpg --passwd`) kept where only the merger can read it"
        ))
    })?;
    signature
        .to_armored_string(ArmorOptions::default())
        .map_err(|e| bad(e.to_string()))
}

//! OpenPGP certificates (`.vouch/keys/*.asc`) and detached signatures, verified in-process with
//! rPGP: RSA, EdDSA (legacy and v6 Ed25519), ECDSA.
//!
//! A certificate's self-signatures are checked once at load: user IDs with a valid, unrevoked
//! self-certification give the signer's identities; the primary key and subkeys whose binding
//! gives them the signing capability (with a valid back-signature) are the signing keys; key
//! expiry and revocation signatures are recorded on each key for the judge. Parsed certificates
//! are cached by content, so a policy loaded again (per tree in an audit, per push in the bot)
//! does not check the same self-signatures again.
//!
//! Signatures on data: v4 signatures are checked here, hashing the signed data exactly as rPGP
//! lays it out and verifying the primitive with [`rsa`] (RSA, through `ring`) or rPGP (every other
//! algorithm). The v4 "left 16 bits of the hash" field is a quick check that the signature does
//! not cover; RFC 4880 and RFC 9580 §5.2.3 do not make it binding for v4, gpg ignores it, and
//! GitHub's web-flow key wrote a wrong one on every commit before April 2021. A v4 signature that
//! verifies is therefore good whatever that field says, and [`Verified::hash_prefix`] says it was
//! wrong. v6 signatures (which must be rejected on a wrong field) and older versions go through
//! rPGP's own `verify`.

pub mod rsa;

use self::rsa::RsaKey;
use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::public_key::PublicKeyAlgorithm;
use pgp::normalize_lines::NormalizedReader;
use pgp::packet::{PublicKey, PublicSubkey, Signature, SignatureType, SignatureVersion};
use pgp::types::{KeyDetails, KeyVersion, SignatureBytes, Tag, VerifyingKey};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A key that can verify signatures: the primary key or a subkey.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    Primary(Box<PublicKey>),
    Subkey(Box<PublicSubkey>),
}

/// One signing-capable key of a certificate.
#[derive(Debug, Clone)]
pub struct PgpKey {
    pub material: KeyMaterial,
    /// Upper-case hex fingerprint of this key (the subkey's own for a subkey).
    pub fingerprint: String,
    /// Upper-case hex fingerprint of the certificate's primary key.
    pub primary_fingerprint: String,
    /// Upper-case hex of the 8-byte key id.
    pub key_id: String,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// Expiry (Unix seconds): the earlier of the primary key's and this key's.
    pub expires: Option<i64>,
    /// Why the key (or its primary) is revoked, when it is.
    pub revoked: Option<String>,
    /// The key prepared for the fast RSA path, when it is an RSA key `ring` can take.
    pub rsa: Option<RsaKey>,
}

/// A certificate: one signer's OpenPGP keys and identities.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub identities: Vec<String>,
    pub keys: Vec<PgpKey>,
}

/// Files parsed so far, by SHA-256 of their bytes. Bounded: a long-running bot sees a handful
/// of key files per repository, and past the bound the cache starts again rather than grow.
type CertCache = HashMap<[u8; 32], Arc<Result<Vec<Certificate>, String>>>;
static CERTIFICATES: OnceLock<Mutex<CertCache>> = OnceLock::new();
const CACHE_FILES: usize = 512;

/// Parse every certificate in an armoured file (cached by content).
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let cache = CERTIFICATES.get_or_init(|| Mutex::new(HashMap::new()));
    let cached = cache.lock().ok().and_then(|c| c.get(&digest).cloned());
    let parsed = match cached {
        Some(parsed) => parsed,
        None => {
            // Parsed outside the lock: other threads' look-ups do not wait on RSA self-signatures.
            let parsed = Arc::new(parse_uncached(bytes));
            if let Ok(mut c) = cache.lock() {
                if c.len() >= CACHE_FILES {
                    c.clear();
                }
                c.insert(digest, parsed.clone());
            }
            parsed
        }
    };
    parsed.as_ref().clone()
}

fn parse_uncached(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let (certs, _) =
        SignedPublicKey::from_armor_many(bytes).map_err(|e| format!("not an OpenPGP key: {e}"))?;
    let mut out = Vec::new();
    for cert in certs {
        let cert = cert.map_err(|e| format!("not an OpenPGP key: {e}"))?;
        out.push(certificate(&cert));
    }
    if out.is_empty() {
        return Err("no OpenPGP public key in the file".into());
    }
    Ok(out)
}

fn secs(t: pgp::types::Timestamp) -> i64 {
    i64::from(t.as_secs())
}

fn hex_upper(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

fn expiry(created: i64, sig: &Signature) -> Option<i64> {
    let d: std::time::Duration = sig.key_expiration_time()?.into();
    (d.as_secs() > 0).then(|| created + d.as_secs() as i64)
}

/// The most recent of `sigs` (by creation time).
fn latest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map_or(0, secs))
}

fn certificate(cert: &SignedPublicKey) -> Certificate {
    let primary = &cert.primary_key;
    let primary_fp = hex_upper(primary.fingerprint().as_bytes());
    let primary_created = secs(primary.created_at());
    let revoked = cert
        .details
        .revocation_signatures
        .iter()
        .find(|s| s.typ() == Some(SignatureType::KeyRevocation) && s.verify_key(primary).is_ok())
        .map(revocation_reason);

    let mut identities = Vec::new();
    let mut self_sigs: Vec<&Signature> = cert
        .details
        .direct_signatures
        .iter()
        .filter(|s| s.verify_key(primary).is_ok())
        .collect();
    for user in &cert.details.users {
        let valid: Vec<&Signature> = user
            .signatures
            .iter()
            .filter(|s| {
                s.verify_certification(primary, Tag::UserId, &user.id)
                    .is_ok()
            })
            .collect();
        let Some(last) = latest(valid.iter().copied()) else {
            continue;
        };
        if last.typ() == Some(SignatureType::CertRevocation) {
            continue;
        }
        self_sigs.extend(valid.iter().filter(|s| s.is_certification()));
        if let Some(email) = email_of(user.id.id()) {
            // Several user IDs can name one e-mail (`Name <a@b>`, `Other Name <a@b>`).
            if !identities.contains(&email) {
                identities.push(email);
            }
        }
    }
    let primary_sig = latest(self_sigs.into_iter());
    let primary_expires = primary_sig.and_then(|s| expiry(primary_created, s));
    let primary_can_sign = primary_sig.is_none_or(|s| {
        // Without a key-flags subpacket, the primary key is usable for anything.
        let flags = s.key_flags();
        flags.sign() || !has_key_flags(s)
    });

    let mut keys = Vec::new();
    if primary_can_sign {
        keys.push(PgpKey {
            material: KeyMaterial::Primary(Box::new(primary.clone())),
            fingerprint: primary_fp.clone(),
            primary_fingerprint: primary_fp.clone(),
            key_id: hex_upper(primary.legacy_key_id().as_ref()),
            created: primary_created,
            expires: primary_expires,
            revoked: revoked.clone(),
            rsa: RsaKey::from_params(primary.public_params()),
        });
    }
    for sub in &cert.public_subkeys {
        let valid: Vec<&Signature> = sub
            .signatures
            .iter()
            .filter(|s| s.verify_subkey_binding(primary, &sub.key).is_ok())
            .collect();
        let sub_revoked = valid
            .iter()
            .find(|s| s.typ() == Some(SignatureType::SubkeyRevocation))
            .map(|s| revocation_reason(s));
        let Some(binding) = latest(
            valid
                .iter()
                .copied()
                .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding)),
        ) else {
            continue;
        };
        if !binding.key_flags().sign() {
            continue;
        }
        let backsig_ok = binding
            .embedded_signature()
            .is_some_and(|b| b.verify_primary_key_binding(&sub.key, primary).is_ok());
        if !backsig_ok {
            continue;
        }
        let created = secs(sub.key.created_at());
        let own = expiry(created, binding);
        let expires = match (primary_expires, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        keys.push(PgpKey {
            material: KeyMaterial::Subkey(Box::new(sub.key.clone())),
            fingerprint: hex_upper(sub.key.fingerprint().as_bytes()),
            primary_fingerprint: primary_fp.clone(),
            key_id: hex_upper(sub.key.legacy_key_id().as_ref()),
            created,
            expires,
            revoked: revoked.clone().or(sub_revoked),
            rsa: RsaKey::from_params(sub.key.public_params()),
        });
    }
    Certificate { identities, keys }
}

fn has_key_flags(sig: &Signature) -> bool {
    sig.config().is_some_and(|c| {
        c.hashed_subpackets()
            .any(|p| matches!(p.data, pgp::packet::SubpacketData::KeyFlags(_)))
    })
}

fn revocation_reason(sig: &Signature) -> String {
    match sig.revocation_reason_string() {
        Some(reason) if !reason.is_empty() => {
            format!("revoked: {}", String::from_utf8_lossy(reason))
        }
        _ => "revoked".to_string(),
    }
}

/// The e-mail in a user ID (`Name <a@b>`), or the whole user ID if it looks like one.
pub fn email_of(user_id: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(user_id);
    if let (Some(lt), Some(gt)) = (text.rfind('<'), text.rfind('>')) {
        if lt < gt {
            let email = text[lt + 1..gt].trim();
            return (!email.is_empty()).then(|| email.to_string());
        }
    }
    let text = text.trim();
    text.contains('@').then(|| text.to_string())
}

/// A decoded detached OpenPGP signature.
#[derive(Debug, Clone)]
pub struct PgpSignature {
    signature: Signature,
}

impl PgpSignature {
    /// Decode an armoured `-----BEGIN PGP SIGNATURE-----` block.
    pub fn decode(armored: &[u8]) -> Result<PgpSignature, String> {
        let (sig, _) = DetachedSignature::from_armor_single(armored)
            .map_err(|e| format!("malformed OpenPGP signature: {e}"))?;
        Ok(PgpSignature {
            signature: sig.signature,
        })
    }

    /// Upper-case hex issuer fingerprints and key ids the signature names.
    pub fn issuers(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .signature
            .issuer_fingerprint()
            .iter()
            .map(|f| hex_upper(f.as_bytes()))
            .collect();
        out.extend(
            self.signature
                .issuer_key_id()
                .iter()
                .map(|k| hex_upper(k.as_ref())),
        );
        out
    }

    /// When the signer says it signed (Unix seconds).
    pub fn created(&self) -> Option<i64> {
        self.signature.created().map(secs)
    }

    /// Check the signature over `payload` with `key`. Says nothing about trust.
    pub fn verify(&self, key: &PgpKey, payload: &[u8]) -> Result<Verified, VerifyError> {
        match &key.material {
            KeyMaterial::Primary(k) => self.verify_with(k.as_ref(), key.rsa.as_ref(), payload),
            KeyMaterial::Subkey(k) => self.verify_with(k.as_ref(), key.rsa.as_ref(), payload),
        }
    }

    fn verify_with<K: VerifyingKey>(
        &self,
        key: &K,
        fast: Option<&RsaKey>,
        payload: &[u8],
    ) -> Result<Verified, VerifyError> {
        let sig = &self.signature;
        let by_rpgp = || {
            sig.verify(key, payload)
                .map(|()| Verified::default())
                .map_err(|e| VerifyError::Rejected(e.to_string()))
        };
        let v4 = sig.config().filter(|c| c.version() == SignatureVersion::V4);
        let (Some(config), Some(stated), Some(value)) =
            (v4, sig.signed_hash_value(), sig.signature())
        else {
            // v6 (must reject a wrong hash prefix), v2/v3 and unknown versions: rPGP's own rules.
            return by_rpgp();
        };
        if config.pub_alg.is_pqc() {
            return by_rpgp();
        }
        // The checks rPGP makes before hashing, for v4.
        if key.version() == KeyVersion::V6 {
            return Err(VerifyError::VersionMismatch);
        }
        if !names_key(sig, key) {
            return Err(VerifyError::OtherKey);
        }
        let message = signed_message(config, payload)?;
        let digest = digest(config.hash_alg, &message)?;
        let hash_prefix = (digest.get(..2) != Some(&stated[..])).then(|| HashPrefix {
            stated,
            computed: [digest[0], digest[1]],
        });
        let fast_outcome = match (fast, value, config.pub_alg) {
            (
                Some(rsa_key),
                SignatureBytes::Mpis(mpis),
                PublicKeyAlgorithm::RSA | PublicKeyAlgorithm::RSASign,
            ) if mpis.len() == 1 => rsa_key.verify(config.hash_alg, &message, mpis[0].as_ref()),
            _ => rsa::Outcome::Unsupported,
        };
        match fast_outcome {
            rsa::Outcome::Verified => return Ok(Verified { hash_prefix }),
            // A rejection is confirmed by rPGP below, so a quirk of the fast path can never
            // turn a valid signature bad; bad signatures are rare enough for the extra cost.
            rsa::Outcome::Rejected | rsa::Outcome::Unsupported => {}
        }
        key.verify(config.hash_alg, &digest, value)
            .map(|()| Verified { hash_prefix })
            .map_err(|e| VerifyError::Rejected(e.to_string()))
    }
}

/// What a verified signature carried that a reader should hear about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verified {
    /// Set when the v4 quick-check field ("left 16 bits of the hash") was wrong and ignored.
    pub hash_prefix: Option<HashPrefix>,
}

/// A v4 signature's quick-check field that did not match the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPrefix {
    pub stated: [u8; 2],
    pub computed: [u8; 2],
}

impl HashPrefix {
    /// One sentence for a finding.
    pub fn describe(&self) -> String {
        format!(
            "its hash-prefix field (the \"left 16 bits of the hash\", a quick check the signature does not cover) says {} but the digest starts {}; ignored, as RFC 4880 and RFC 9580 allow for v4 signatures and gpg does",
            hex::encode(self.stated),
            hex::encode(self.computed)
        )
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("a v4 signature cannot be made by a v6 key")]
    VersionMismatch,
    #[error("the signature names another key as its issuer")]
    OtherKey,
    #[error("the signed data cannot be laid out: {0}")]
    Layout(String),
    #[error("{0}")]
    Rejected(String),
}

/// Does `sig` name `key` as its issuer (or name no issuer at all)? As rPGP decides it.
fn names_key(sig: &Signature, key: &impl KeyDetails) -> bool {
    let ids = sig.issuer_key_id();
    let fps = sig.issuer_fingerprint();
    if ids.is_empty() && fps.is_empty() {
        return true;
    }
    let (id, fp) = (key.legacy_key_id(), key.fingerprint());
    ids.contains(&&id) || fps.contains(&&fp)
}

/// The bytes a v4 signature's hash covers: the data (line endings normalised for a text
/// signature), the hashed part of the signature packet and its trailer, laid out by rPGP's own
/// code through a hasher that records instead of hashing.
fn signed_message(
    config: &pgp::packet::SignatureConfig,
    payload: &[u8],
) -> Result<Vec<u8>, VerifyError> {
    let layout = |e: pgp::errors::Error| VerifyError::Layout(e.to_string());
    let mut recorder: Box<dyn digest::DynDigest + Send> =
        Box::new(Recorder(Vec::with_capacity(payload.len() + 128)));
    if config.typ == SignatureType::Text {
        let normalized = NormalizedReader::new(payload, pgp::line_writer::LineBreak::Crlf);
        config
            .hash_data_to_sign(&mut recorder, normalized)
            .map_err(layout)?;
    } else {
        config
            .hash_data_to_sign(&mut recorder, payload)
            .map_err(layout)?;
    }
    let len = config.hash_signature_data(&mut recorder).map_err(layout)?;
    let trailer = config.trailer(len).map_err(layout)?;
    let mut message = recorder.finalize().into_vec();
    message.extend_from_slice(&trailer);
    Ok(message)
}

fn digest(alg: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let mut hasher = alg
        .new_hasher()
        .map_err(|e| VerifyError::Rejected(e.to_string()))?;
    hasher.update(message);
    Ok(hasher.finalize().into_vec())
}

/// A "hasher" that keeps what it is fed; `finalize` hands the bytes back.
#[derive(Clone)]
struct Recorder(Vec<u8>);

impl digest::DynDigest for Recorder {
    fn update(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data);
    }

    fn finalize(self: Box<Self>) -> Box<[u8]> {
        self.0.into_boxed_slice()
    }

    fn finalize_reset(&mut self) -> Box<[u8]> {
        std::mem::take(&mut self.0).into_boxed_slice()
    }

    fn finalize_into(self, _: &mut [u8]) -> Result<(), digest::InvalidBufferSize> {
        Err(digest::InvalidBufferSize)
    }

    fn finalize_into_reset(&mut self, _: &mut [u8]) -> Result<(), digest::InvalidBufferSize> {
        Err(digest::InvalidBufferSize)
    }

    fn reset(&mut self) {
        self.0.clear();
    }

    fn output_size(&self) -> usize {
        0
    }

    fn box_clone(&self) -> Box<dyn digest::DynDigest> {
        Box::new(self.clone())
    }
}

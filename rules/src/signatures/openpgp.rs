//! OpenPGP certificates (`.vouch/keys/*.asc`) and detached signatures, verified in-process with
//! rPGP: RSA, EdDSA (legacy and v6 Ed25519), ECDSA.
//!
//! A certificate's self-signatures are checked once at load: user IDs with a valid, unrevoked
//! self-certification give the signer's identities; the primary key and subkeys whose binding
//! gives them the signing capability (with a valid back-signature) are the signing keys; key
//! expiry and revocation signatures are recorded on each key for the judge.

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::{PublicKey, PublicSubkey, Signature, SignatureType};
use pgp::types::{KeyDetails, Tag};

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
}

/// A certificate: one signer's OpenPGP keys and identities.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub identities: Vec<String>,
    pub keys: Vec<PgpKey>,
}

/// Parse every certificate in an armoured file.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>, String> {
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
            identities.push(email);
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
    pub fn verify(&self, key: &PgpKey, payload: &[u8]) -> Result<(), String> {
        let result = match &key.material {
            KeyMaterial::Primary(k) => self.signature.verify(k.as_ref(), payload),
            KeyMaterial::Subkey(k) => self.signature.verify(k.as_ref(), payload),
        };
        result.map_err(|e| e.to_string())
    }
}

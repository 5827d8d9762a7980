//! DSSE envelopes (<https://github.com/secure-systems-lab/dsse>, protocol v1): the payload, its
//! type, and signatures over the pre-authentication encoding ([`pae`]) of both, so a signature
//! can never be replayed under another payload type.

use super::keys::{SigningKey, VerifierKey};
use super::AttestError;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where `LEN` is the
/// byte length in ASCII decimal, without leading zeros.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Which key made it: the key's `SHA256:…` fingerprint (as `ssh-keygen -l` prints it).
    pub keyid: String,
    /// The signature over [`pae`], base64: Ed25519's 64 bytes, or ECDSA P-256 DER.
    pub sig: String,
}

/// A DSSE envelope, as JSON carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The payload, base64 (standard alphabet, padded).
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

impl Envelope {
    /// Sign `payload` of `payload_type` with every key in `keys` (at least one).
    pub fn sign(payload_type: &str, payload: &[u8], keys: &[&SigningKey]) -> Envelope {
        let message = pae(payload_type, payload);
        Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: keys
                .iter()
                .map(|k| Signature {
                    keyid: k.fingerprint().to_string(),
                    sig: STANDARD.encode(k.sign(&message)),
                })
                .collect(),
        }
    }

    /// The decoded payload.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, AttestError> {
        decode(&self.payload).ok_or_else(|| AttestError::Malformed {
            what: "the envelope's payload".into(),
            reason: "not base64".into(),
        })
    }

    /// The first of `keys` whose signature on this envelope verifies, with the payload. A
    /// signature is tried only against the key its `keyid` names; an empty `keyid` names none.
    pub fn verify<'k>(
        &self,
        keys: &'k [VerifierKey],
    ) -> Result<(&'k VerifierKey, Vec<u8>), AttestError> {
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        let mut named = Vec::new();
        for signature in &self.signatures {
            if signature.keyid.is_empty() {
                continue;
            }
            named.push(signature.keyid.clone());
            let Some(sig) = decode(&signature.sig) else {
                continue;
            };
            for key in keys.iter().filter(|k| k.fingerprint == signature.keyid) {
                if key.verify(&message, &sig) {
                    return Ok((key, payload));
                }
            }
        }
        Err(AttestError::Unverified {
            keyids: named,
            trusted: keys.iter().map(|k| k.fingerprint.clone()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // The worked example of the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }
}

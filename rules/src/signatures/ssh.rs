//! SSHSIG (OpenSSH's `PROTOCOL.sshsig`) signatures, decoded and verified in-process.
//!
//! Decoded here rather than by `ssh_key::SshSig` because a signature made with an OpenSSH
//! certificate carries the certificate, not a plain key, and `cert-authority` lines must see it.

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};
use signature::Verifier as _;
use ssh_key::public::KeyData;
use ssh_key::{Certificate, HashAlg};

/// The key a signature names: a plain public key or a certificate issued by a CA.
#[derive(Debug, Clone)]
pub enum SigningKey {
    Plain(KeyData),
    Certificate(Box<Certificate>),
}

impl SigningKey {
    /// The key that made the signature (for a certificate, its subject key).
    pub fn key_data(&self) -> &KeyData {
        match self {
            SigningKey::Plain(k) => k,
            SigningKey::Certificate(c) => c.public_key(),
        }
    }

    /// `SHA256:…` of the signing key.
    pub fn fingerprint(&self) -> String {
        self.key_data().fingerprint(HashAlg::Sha256).to_string()
    }
}

/// A decoded SSHSIG.
#[derive(Debug, Clone)]
pub struct SshSignature {
    pub key: SigningKey,
    pub namespace: String,
    reserved: Vec<u8>,
    hash_alg: String,
    signature: ssh_key::Signature,
}

/// Why an SSH signature is not good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error("malformed SSH signature: {0}")]
    Malformed(String),
    #[error("the signature does not match the signed data")]
    Mismatch,
}

fn malformed(what: impl Into<String>) -> SshError {
    SshError::Malformed(what.into())
}

/// Decode an armoured `-----BEGIN SSH SIGNATURE-----` block.
pub fn decode(armored: &[u8]) -> Result<SshSignature, SshError> {
    let text = std::str::from_utf8(armored).map_err(|_| malformed("not ASCII"))?;
    let mut body = String::with_capacity(text.len());
    let mut state = 0;
    for line in text.lines() {
        let line = line.trim();
        match state {
            0 if line == "-----BEGIN SSH SIGNATURE-----" => state = 1,
            1 if line == "-----END SSH SIGNATURE-----" => state = 2,
            1 => body.push_str(line),
            _ => {}
        }
    }
    if state != 2 {
        return Err(malformed("missing BEGIN/END lines"));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| malformed(format!("bad base64: {e}")))?;
    parse_blob(&blob)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SshError> {
        if self.0.len() < n {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, SshError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], SshError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

fn parse_blob(blob: &[u8]) -> Result<SshSignature, SshError> {
    let mut r = Reader(blob);
    if r.take(6)? != b"SSHSIG" {
        return Err(malformed("not an SSHSIG blob"));
    }
    if r.u32()? != 1 {
        return Err(malformed("unsupported SSHSIG version"));
    }
    let key_blob = r.string()?;
    let namespace = String::from_utf8(r.string()?.to_vec()).map_err(|_| malformed("namespace"))?;
    let reserved = r.string()?.to_vec();
    let hash_alg = String::from_utf8(r.string()?.to_vec()).map_err(|_| malformed("hash"))?;
    let sig_blob = r.string()?;
    if !r.0.is_empty() {
        return Err(malformed("trailing data"));
    }
    let algorithm = Reader(key_blob).string()?;
    let key = if algorithm.ends_with(b"-cert-v01@openssh.com") {
        let cert = Certificate::from_bytes(key_blob)
            .map_err(|e| malformed(format!("certificate: {e}")))?;
        SigningKey::Certificate(Box::new(cert))
    } else {
        let key = ssh_key::PublicKey::from_bytes(key_blob)
            .map_err(|e| malformed(format!("public key: {e}")))?;
        SigningKey::Plain(key.key_data().clone())
    };
    let signature =
        ssh_key::Signature::try_from(sig_blob).map_err(|e| malformed(format!("signature: {e}")))?;
    Ok(SshSignature {
        key,
        namespace,
        reserved,
        hash_alg,
        signature,
    })
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

impl SshSignature {
    /// Check the signature over `message` with the key it names. Says nothing about trust.
    pub fn verify(&self, message: &[u8]) -> Result<(), SshError> {
        self.verify_with(message, None)
    }

    /// As [`verify`](Self::verify), with the signing key already decoded when it is an Ed25519
    /// key the caller knows (the same key the signature names).
    pub fn verify_with(
        &self,
        message: &[u8],
        ed25519: Option<&ed25519_dalek::VerifyingKey>,
    ) -> Result<(), SshError> {
        let digest = match self.hash_alg.as_str() {
            "sha256" => Sha256::digest(message).to_vec(),
            "sha512" => Sha512::digest(message).to_vec(),
            other => return Err(malformed(format!("unsupported hash {other:?}"))),
        };
        let mut signed = Vec::with_capacity(64 + digest.len() + self.namespace.len());
        signed.extend_from_slice(b"SSHSIG");
        put_string(&mut signed, self.namespace.as_bytes());
        put_string(&mut signed, &self.reserved);
        put_string(&mut signed, self.hash_alg.as_bytes());
        put_string(&mut signed, &digest);
        let key = self.key.key_data();
        if let (Some(cached), Some(named)) = (ed25519, key.ed25519()) {
            if cached.as_bytes() == &named.0 {
                let sig = ed25519_dalek::Signature::try_from(&self.signature)
                    .map_err(|_| SshError::Mismatch)?;
                return cached.verify(&signed, &sig).map_err(|_| SshError::Mismatch);
            }
        }
        key.verify(&signed, &self.signature)
            .map_err(|_| SshError::Mismatch)
    }
}

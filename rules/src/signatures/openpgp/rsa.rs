//! RSA PKCS#1 v1.5 signature verification with `ring`: the primitive under OpenPGP RSA signatures,
//! which dominate real history (GitHub's web-flow key, most developers' gpg keys).
//!
//! rPGP parses the packets and [`super`] lays out the signed bytes; this module only
//! checks the RSA equation and padding. `ring`'s constant-time, assembly-optimised arithmetic is
//! about twenty times as fast as the pure-Rust `rsa` crate rPGP uses, which made RSA history the
//! slow case. Keys `ring` does not take (sizes outside 1024–8192 bits, unusual exponents, hash
//! algorithms it has no PKCS#1 parameters for) are left to rPGP by the caller.

use ::rsa::traits::PublicKeyParts;
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::PublicParams;
use ring::signature::{self as ring_sig, RsaParameters, RsaPublicKeyComponents};
use std::sync::Arc;

/// An RSA public key prepared once, when its certificate is loaded, for every signature it checks.
#[derive(Debug, Clone)]
pub struct RsaKey {
    /// Big-endian modulus, no leading zeros.
    n: Arc<[u8]>,
    /// Big-endian public exponent, no leading zeros.
    e: Arc<[u8]>,
    bits: usize,
}

/// What the fast path said about one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    /// `ring` rejected it: the signature is wrong, or something `ring` does not accept.
    Rejected,
    /// This key, hash or signature is outside what `ring` handles.
    Unsupported,
}

/// `ring`'s limits: exponents from 3 to 2^33 - 1 (odd), moduli up to 8192 bits.
const MAX_BITS: usize = 8192;
const MAX_EXPONENT_BYTES: usize = 5;

impl RsaKey {
    /// The RSA key in an OpenPGP key's public parameters; `None` for other algorithms or keys
    /// `ring` cannot take.
    pub fn from_params(params: &PublicParams) -> Option<RsaKey> {
        let PublicParams::RSA(rsa) = params else {
            return None;
        };
        let n = rsa.key.n().to_bytes_be();
        let e = rsa.key.e().to_bytes_be();
        let bits = rsa.key.n().bits();
        let e_ok = e.len() <= MAX_EXPONENT_BYTES
            && e.last().is_some_and(|b| b & 1 == 1)
            && !(e.len() == 1 && e[0] < 3);
        (e_ok && (1024..=MAX_BITS).contains(&bits)).then(|| RsaKey {
            n: n.into(),
            e: e.into(),
            bits,
        })
    }

    /// `ring`'s parameters for `hash` with this key's size, when it has some.
    fn params(&self, hash: HashAlgorithm) -> Option<&'static RsaParameters> {
        Some(match hash {
            HashAlgorithm::Sha1 => &ring_sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => &ring_sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha384 if self.bits >= 2048 => &ring_sig::RSA_PKCS1_2048_8192_SHA384,
            HashAlgorithm::Sha512 => &ring_sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            _ => return None,
        })
    }

    /// Check the PKCS#1 v1.5 signature `signature` (an OpenPGP MPI: leading zeros stripped) over
    /// `message`, which `ring` hashes with `hash` itself.
    pub fn verify(&self, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> Outcome {
        let Some(params) = self.params(hash) else {
            return Outcome::Unsupported;
        };
        let len = self.n.len();
        if signature.len() > len {
            return Outcome::Rejected;
        }
        // OpenPGP MPIs drop leading zero octets; PKCS#1 wants the modulus' length.
        let mut padded = [0u8; MAX_BITS / 8];
        padded[len - signature.len()..len].copy_from_slice(signature);
        let key = RsaPublicKeyComponents {
            n: &self.n[..],
            e: &self.e[..],
        };
        match key.verify(params, message, &padded[..len]) {
            Ok(()) => Outcome::Verified,
            Err(_) => Outcome::Rejected,
        }
    }
}

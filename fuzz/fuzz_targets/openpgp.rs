//! OpenPGP on arbitrary bytes: certificates (`.vouch/keys/*.asc`) and detached signatures (a
//! commit's `gpgsig` header), and every signature checked against every key found. The input
//! is split at its first NUL: certificate bytes, then signature bytes. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::signatures::openpgp::{self, PgpSignature};

fuzz_target!(|data: &[u8]| {
    let (cert_bytes, sig_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, data),
    };
    let certs = openpgp::parse_certificates(cert_bytes).unwrap_or_default();
    if let Ok(sig) = PgpSignature::decode(sig_bytes) {
        let _ = sig.issuers();
        let _ = sig.created();
        for key in certs.iter().flat_map(|c| &c.keys) {
            let _ = sig.verify(key, cert_bytes);
        }
    }
    let _ = openpgp::email_of(data);
});

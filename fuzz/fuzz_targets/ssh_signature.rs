//! SSHSIG decoding on arbitrary bytes, then verification over the same bytes: an `Err`, never a
//! panic, and never `Ok` for a signature this input did not make.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::signatures::ssh;

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = ssh::decode(data) {
        let _ = sig.key.fingerprint();
        let _ = sig.verify(data);
        let _ = sig.verify(b"");
    }
    // The armour around a fuzzed body: most inputs reach the blob parser this way.
    let mut armored = b"-----BEGIN SSH SIGNATURE-----\n".to_vec();
    armored.extend_from_slice(data);
    armored.extend_from_slice(b"\n-----END SSH SIGNATURE-----\n");
    if let Ok(sig) = ssh::decode(&armored) {
        let _ = sig.verify(data);
    }
});

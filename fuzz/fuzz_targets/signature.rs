//! Raw commit and tag objects through payload extraction, signature decoding (SSHSIG, OpenPGP)
//! and the whole judgement: nothing may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::policy::Policy;
use vouch_rules::signatures::{self, openpgp, ssh, Clock, Subject, TimeBasis, Trust};

fuzz_target!(|data: &[u8]| {
    for signed in [
        signatures::payload::commit(data, "0123456789012345678901234567890123456789"),
        signatures::payload::tag(data),
    ]
    .into_iter()
    .flatten()
    {
        let _ = ssh::decode(&signed.signature).map(|s| s.verify(&signed.payload));
        let _ = openpgp::PgpSignature::decode(&signed.signature).map(|s| s.issuers());
    }
    let policy = Policy::builtin();
    let trust = Trust::default();
    for is_tag in [false, true] {
        let _ = signatures::verify(
            &trust,
            &policy.signatures,
            Subject {
                id: "0123456789012345678901234567890123456789",
                raw: data,
                is_tag,
                is_merge: false,
                committer: None,
                author: None,
            },
            Clock {
                basis: TimeBasis::PushTime,
                now: 1_800_000_000,
            },
        );
    }
    let _ = openpgp::parse_certificates(data);
    let _ = vouch_rules::change::co_authors(&String::from_utf8_lossy(data));
});

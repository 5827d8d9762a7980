//! The allowed-signers parser: any text gives signers or an error naming a line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::signatures::allowed_signers;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(signers) = allowed_signers::parse(text, "allowed_signers") {
            for s in &signers {
                let _ = s.allows("alice@example.com");
                let _ = s.valid_at(1_800_000_000);
            }
        }
    }
});

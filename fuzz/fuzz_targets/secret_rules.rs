//! `.vouch/secrets.toml` (custom secret rules) on arbitrary text: rules or an error naming a
//! line, never a panic; the rules it gives compile into a scanner that runs on the input itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::secrets::engine::Settings;
use vouch_rules::secrets::{parse_file, Scanner};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = parse_file(text, ".vouch/secrets.toml") {
        let _ = vouch_rules::secrets::test_rules(&rules);
        if let Ok(scanner) = Scanner::new(rules, Settings::everything()) {
            let _ = scanner.scan_bytes(data, 1);
        }
    }
});

//! `.vouch/baseline.json` on arbitrary bytes: a baseline or an error naming a line, never a
//! panic; a parsed baseline writes back to JSON that parses to the same baseline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::secrets::Baseline;

fuzz_target!(|data: &[u8]| {
    match Baseline::parse(data, ".vouch/baseline.json") {
        Ok(baseline) => {
            let json = baseline.to_json();
            let again = Baseline::parse(json.as_bytes(), "round trip").expect("own output parses");
            assert_eq!(again, baseline);
        }
        Err(e) => assert!(e.to_string().contains(".vouch/baseline.json:"), "{e}"),
    }
});

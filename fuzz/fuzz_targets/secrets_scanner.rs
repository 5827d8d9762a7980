//! The secret scanner on arbitrary bytes: in memory, streamed, and with the engine's invariants
//! (never panics, never reports a line beyond the input, same matches both ways).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vouch_rules::secrets::engine::Settings;
use vouch_rules::secrets::{builtin, FileScan, Scanner};

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let rules = builtin::rules().expect("built-in rules parse");
        Scanner::new(rules.to_vec(), Settings::everything()).expect("prefilter compiles")
    })
}

fuzz_target!(|data: &[u8]| {
    let scanner = scanner();
    let scan = scanner.scan_bytes(data, 1);
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    for m in &scan.matches {
        assert!(m.line >= 1 && m.line <= lines);
        let _ = m.redacted();
    }
    let mut buf = Vec::new();
    match scanner.scan_reader(data, &mut buf).expect("reading a slice cannot fail") {
        FileScan::Scanned(streamed) => assert_eq!(streamed.matches.len(), scan.matches.len()),
        FileScan::Binary => assert!(data.iter().take(8192).any(|&b| b == 0)),
        FileScan::TooLarge { .. } => unreachable!("no size limit"),
    }
});

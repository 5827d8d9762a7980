//! CODEOWNERS parser and matcher: any bytes as a file, then look up paths derived from the input.
//! Must never panic; the indexed lookup must agree with a plain scan of the rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::codeowners::CodeOwners;
use vouch_rules::policy::PolicyFiles;

fuzz_target!(|data: &[u8]| {
    let mut files = PolicyFiles::new("fuzz");
    files.insert(".github/CODEOWNERS", data.to_vec());
    let Ok(Some(owners)) = CodeOwners::from_files(&files) else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    // Use every token of the input as a path, so patterns meet paths that resemble them.
    for path in text.split_whitespace().take(64) {
        let indexed = owners.decide(path).map(|d| d.rule.line);
        let linear = owners.rules().iter().rev().find(|r| r.matches(path)).map(|r| r.line);
        assert_eq!(indexed, linear, "index disagrees for {path:?}");
    }
});

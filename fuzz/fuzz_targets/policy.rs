//! The policy parser on arbitrary text: it must return a policy or a positioned error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_rules::policy::{Origin, Policy, PolicyFiles};

fuzz_target!(|data: &[u8]| {
    let mut files = PolicyFiles::new("fuzz");
    files.insert(".vouch/policy.toml", data.to_vec());
    if let Ok(Some(policy)) = Policy::load(files) {
        let _ = vouch_rules::validate_files(&policy);
        let _ = policy.rules_for("refs/heads/main").count();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::parse(text, "fuzz", Origin::BuiltIn, String::new(), PolicyFiles::new(""));
    }
});

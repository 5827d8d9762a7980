//! A webhook delivery on arbitrary bytes: the first byte picks the event, the rest is the body.
//! The HMAC check accepts exactly the body it was computed over and nothing else, and a body
//! that parses maps to a plan or a payload error — never a panic, and never a job whose commit
//! id, repository or branch git could read as an option or a revision expression.
#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use vouch_bot::events::{self, Plan};
use vouch_bot::server::signature_valid;

const EVENTS: [&str; 10] = [
    "pull_request",
    "pull_request_review",
    "check_run",
    "check_suite",
    "merge_group",
    "installation",
    "installation_repositories",
    "ping",
    "push",
    "",
];
const SECRET: &[u8] = b"fuzz-webhook-secret";

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let event = EVENTS[usize::from(pick) % EVENTS.len()];

    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(signature_valid(SECRET, body, Some(&format!("sha256={hex}"))));
    assert!(!signature_valid(SECRET, body, None));
    assert!(!signature_valid(b"another secret", body, Some(&format!("sha256={hex}"))));
    if !body.is_empty() {
        let mut tampered = body.to_vec();
        tampered[usize::from(pick) % body.len()] ^= 0x01;
        assert!(!signature_valid(SECRET, &tampered, Some(&format!("sha256={hex}"))));
    }
    // The body itself as a header value: never accepted.
    assert!(!signature_valid(SECRET, body, std::str::from_utf8(body).ok()));

    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    if let Ok(Plan::Queue { jobs, .. }) = events::plan(event, &payload) {
        for job in jobs {
            assert!(job.head_sha.is_empty() || events::valid_sha(&job.head_sha), "{job:?}");
            assert!(job.base_sha.is_empty() || events::valid_sha(&job.base_sha), "{job:?}");
            assert!(job.repo.is_empty() || events::valid_full_name(&job.repo), "{job:?}");
            assert!(job.head_ref.is_empty() || events::valid_branch(&job.head_ref), "{job:?}");
            assert!(
                job.base.is_empty()
                    || job.base.starts_with("installation ")
                    || events::valid_branch(&job.base),
                "{job:?}"
            );
        }
    }
});

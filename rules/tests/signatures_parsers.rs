//! The signature and allowed-signers parsers on arbitrary input: errors, never panics (the fuzz
//! targets in `fuzz/` explore further; these run with every `cargo test`).

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vouch_rules::policy::Policy;
use vouch_rules::signatures::{
    self, allowed_signers, openpgp, ssh, Clock, Subject, TimeBasis, Trust,
};

fn judge(raw: &[u8], is_tag: bool) -> signatures::SigStatus {
    let policy = Policy::builtin();
    signatures::verify(
        &Trust::default(),
        &policy.signatures,
        Subject {
            id: "0123456789012345678901234567890123456789",
            raw,
            is_tag,
            is_merge: false,
            committer: None,
            author: None,
        },
        Clock {
            basis: TimeBasis::PushTime,
            now: 1_800_000_000,
        },
    )
    .status
}

proptest! {
    #[test]
    fn allowed_signers_never_panics(text in "(\"?[a-z@.*,!]{0,12}\"? ?(cert-authority|namespaces=\"git\"|valid-after=\"2026\\d{4}\")?,? ?(ssh-ed25519 |ecdsa-sha2-nistp256 )?[A-Za-z0-9+/=]{0,80}( [a-z]{0,5})?\n?){0,4}") {
        let _ = allowed_signers::parse(&text, "f");
    }

    #[test]
    fn signature_blocks_never_panic(body in "[A-Za-z0-9+/=\n]{0,400}", kind in 0..3usize) {
        let (begin, end) = [
            ("-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"),
            ("-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----"),
            ("-----BEGIN SIGNED MESSAGE-----", "-----END SIGNED MESSAGE-----"),
        ][kind];
        let armored = format!("{begin}\n{body}\n{end}\n");
        let _ = ssh::decode(armored.as_bytes());
        let _ = openpgp::PgpSignature::decode(armored.as_bytes());
        let header: String = armored.lines().map(|l| format!(" {l}\n")).collect();
        let commit = format!("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@x> 1 +0000\ncommitter a <a@x> 1 +0000\ngpgsig{}\nmessage\n", header.trim_end_matches('\n'));
        let status = judge(commit.as_bytes(), false);
        prop_assert_ne!(status, signatures::SigStatus::Good);
        prop_assert_ne!(status, signatures::SigStatus::Unsigned);
        let tag = format!("object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag t\n\nmsg\n{armored}");
        prop_assert_ne!(judge(tag.as_bytes(), true), signatures::SigStatus::Good);
    }

    #[test]
    fn raw_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = judge(&raw, false);
        let _ = judge(&raw, true);
        let _ = openpgp::parse_certificates(&raw);
    }
}

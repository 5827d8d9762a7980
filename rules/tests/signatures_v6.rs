//! OpenPGP v6 (RFC 9580) Ed25519 keys and signatures, which gpg 2.2 cannot make: an rPGP-generated
//! key signs a commit object laid out exactly as git writes it, and vouch verifies it in-process.

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]

use pgp::composed::{DetachedSignature, KeyType, SecretKeyParamsBuilder};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyVersion, Password};
use vouch_rules::change::Stamp;
use vouch_rules::policy::{Policy, PolicyFiles};
use vouch_rules::signatures::{self, Clock, SigStatus, Subject, TimeBasis};

fn key(version: KeyVersion, key_type: KeyType, uid: &str) -> pgp::composed::SignedSecretKey {
    SecretKeyParamsBuilder::default()
        .version(version)
        .key_type(key_type)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(uid.into())
        .passphrase(None)
        .build()
        .unwrap()
        .generate(rand::thread_rng())
        .unwrap()
}

/// A commit object with `payload`'s headers, a gpgsig header holding `armored`, and the message.
fn commit_object(head: &str, message: &str, armored: &str) -> Vec<u8> {
    let sig = armored.trim_end().replace('\n', "\n ");
    format!("{head}gpgsig {sig}\n\n{message}").into_bytes()
}

#[test]
fn v6_and_legacy_ed25519_keys_made_by_rpgp_verify() {
    let head = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Vee <vee@example.com> 1800000000 +0000\ncommitter Vee <vee@example.com> 1800000000 +0000\n";
    let message = "a commit signed with a v6 key\n";
    let payload = format!("{head}\n{message}");
    let stamp = Stamp {
        name: "Vee".into(),
        email: "vee@example.com".into(),
        time: 1_800_000_000,
        offset_minutes: 0,
    };
    let cases = [
        ("v6 Ed25519", KeyVersion::V6, KeyType::Ed25519, 64),
        (
            "v4 Ed25519 (RFC 9580)",
            KeyVersion::V4,
            KeyType::Ed25519,
            40,
        ),
        (
            "v4 legacy EdDSA",
            KeyVersion::V4,
            KeyType::Ed25519Legacy,
            40,
        ),
    ];
    for (name, version, key_type, fp_len) in cases {
        let secret = key(version, key_type, "Vee <vee@example.com>");
        let public = secret
            .to_public_key()
            .to_armored_string(None.into())
            .unwrap();
        let sig = DetachedSignature::sign_binary_data(
            rand::thread_rng(),
            &secret.primary_key,
            &Password::empty(),
            HashAlgorithm::Sha256,
            payload.as_bytes(),
        )
        .unwrap()
        .to_armored_string(None.into())
        .unwrap();
        let raw = commit_object(head, message, &sig);
        assert_eq!(
            signatures::payload::commit(&raw, &"0".repeat(40))
                .unwrap()
                .payload,
            payload.as_bytes(),
            "{name}: the payload is cut out as git would"
        );

        let mut files = PolicyFiles::new("refs/heads/main");
        files.insert(".vouch/policy.toml", b"[signatures]\n".to_vec());
        files.insert(".vouch/keys/vee.asc", public.into_bytes());
        let policy = Policy::load(files).unwrap().unwrap();
        let trust = signatures::load(&policy).unwrap();
        let clock = Clock {
            basis: TimeBasis::PushTime,
            now: 1_800_000_100,
        };
        let judge = |raw: &[u8]| {
            signatures::verify(
                &trust,
                &policy.signatures,
                Subject {
                    id: "0123456789012345678901234567890123456789",
                    raw,
                    is_tag: false,
                    is_merge: false,
                    committer: Some(&stamp),
                    author: Some(&stamp),
                },
                clock,
            )
        };
        let v = judge(&raw);
        assert_eq!(v.status, SigStatus::Good, "{name}: {}", v.reason);
        assert_eq!(v.signer.as_deref(), Some("vee"));
        assert_eq!(
            v.fingerprint.as_ref().map(String::len),
            Some(fp_len),
            "{name}"
        );
        let tampered = commit_object(head, "a different message\n", &sig);
        assert_eq!(judge(&tampered).status, SigStatus::Bad, "{name}");
    }
}

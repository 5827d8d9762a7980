//! Signatures as they occur in real history, where vouch must never call a valid signature bad.
//!
//! The vectors under `data/` are two public commits made by GitHub's web-flow key before April
//! 2021, byte for byte (their git ids are checked below): `d088cb6e…` (remy/nodemon, 2019) and
//! `5833e021…` (ti-community-infra/tichi, January 2021), rebuilt from the signed payload and
//! signature GitHub's commits API publishes for them. Their v4 RSA signatures carry a wrong
//! "left 16 bits of the hash" field, which gpg ignores and RFC 4880/9580 make binding only for
//! v6. Alongside, gpg- and rPGP-made signatures with that field flipped on purpose: accepted for
//! v4 when the signature verifies, rejected for v6, and rejected whenever the content changed.

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]

mod signatures_lab;

use base64::Engine as _;
use pgp::composed::{DetachedSignature, KeyType, SecretKeyParamsBuilder};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyVersion, Password};
use signatures_lab::{at_push, policy, Lab};
use std::path::Path;
use vouch_rules::change::{Change, RefUpdate, Stage, Stamp, UpdateKind};
use vouch_rules::finding::Severity;
use vouch_rules::signatures::{self, Clock, SigStatus, Subject, TimeBasis, Verification};

const WEB_FLOW: &[(&str, &str)] = &[
    (
        "web-flow-d088cb6e.commit",
        "d088cb6e66855bbed04511c15fa12de0f8829237",
    ),
    (
        "web-flow-5833e021.commit",
        "5833e02133690c6d608f66ef369e85865ede51de",
    ),
];

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// Rewrite the signature packet in a commit's `gpgsig` header, re-armoured without the optional
/// checksum line (RFC 9580 §6.1: gpg and rPGP accept armour without it).
fn edit_signature(raw: &str, edit: impl Fn(&mut [u8])) -> String {
    let lines: Vec<&str> = raw.split('\n').collect();
    let (start, end) = signatures_lab::gpgsig_lines(&lines);
    let body: String = lines[start + 1..end]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('='))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut blob = b64.decode(body).unwrap();
    edit(&mut blob);
    let mut out: Vec<String> = lines[..start].iter().map(|s| s.to_string()).collect();
    out.push(lines[start].to_string());
    out.push(" ".into());
    for chunk in b64.encode(blob).as_bytes().chunks(64) {
        out.push(format!(" {}", String::from_utf8_lossy(chunk)));
    }
    out.extend(lines[end..].iter().map(|s| s.to_string()));
    out.join("\n")
}

/// Where the two quick-check octets sit in a v4 or v6 signature packet (RFC 9580 §5.2.3).
fn quick_check_at(packet: &[u8]) -> usize {
    let body = if packet[0] & 0x40 != 0 {
        match packet[1] {
            0..=191 => 2,
            192..=223 => 3,
            255 => 6,
            other => panic!("partial length {other} in a signature packet"),
        }
    } else {
        match packet[0] & 3 {
            0 => 2,
            1 => 3,
            2 => 5,
            _ => panic!("indeterminate length in a signature packet"),
        }
    };
    let p = &packet[body..];
    let be = |b: &[u8]| b.iter().fold(0usize, |n, &x| n << 8 | usize::from(x));
    match p[0] {
        4 => {
            let hashed = be(&p[4..6]);
            let unhashed = be(&p[6 + hashed..8 + hashed]);
            body + 8 + hashed + unhashed
        }
        6 => {
            let hashed = be(&p[4..8]);
            let unhashed = be(&p[8 + hashed..12 + hashed]);
            body + 12 + hashed + unhashed
        }
        v => panic!("signature version {v}"),
    }
}

fn flip_quick_check(blob: &mut [u8]) {
    let at = quick_check_at(blob);
    blob[at] ^= 0xff;
    blob[at + 1] ^= 0x5a;
}

/// git's `%G?` for a commit whose parents the repository need not have.
fn git_letter(lab: &Lab, id: &str) -> char {
    let out = lab.git(&["log", "--no-walk", "--format=%G?", id]);
    out.chars().next().unwrap()
}

fn store(lab: &Lab, raw: &[u8]) -> String {
    let file = lab.path("object");
    std::fs::write(&file, raw).unwrap();
    lab.git(&["hash-object", "-t", "commit", "-w", file.to_str().unwrap()])
}

fn hash_prefix_note(v: &Verification) -> &str {
    v.note.as_deref().unwrap_or("")
}

#[test]
fn pre_2021_web_flow_commits_are_good_with_a_note() {
    let lab = Lab::new();
    let keys = data("web-flow.asc");
    let keyring = lab.path("web-flow.asc");
    std::fs::write(&keyring, &keys).unwrap();
    lab.gpg(&lab.gnupg, &["--import", keyring.to_str().unwrap()]);
    let policy = policy(
        "[signatures]\nrequired = true\n",
        &[(".vouch/keys/web-flow.asc", keys.clone())],
    );
    let trust = signatures::load(&policy).unwrap();
    // Two certificates (2017 and 2024 keys), one e-mail: listed once, both keys kept.
    assert_eq!(trust.pgp[0].identities, ["noreply@github.com"]);
    assert_eq!(trust.pgp[0].keys.len(), 2);

    for &(file, id) in WEB_FLOW {
        let raw = data(file);
        assert_eq!(
            store(&lab, &raw),
            id,
            "{file} is the public commit, byte for byte"
        );

        // gpg, through git, calls the signature valid (the key has since expired: `Y` today).
        let status = lab
            .git_cmd(&["verify-commit", "--raw", id])
            .output()
            .unwrap();
        let gpg = String::from_utf8_lossy(&status.stderr);
        assert!(
            gpg.contains("[GNUPG:] VALIDSIG 5DE3E0509C47EA3CF04A42D34AEE18F83AFDEB23"),
            "{file}: {gpg}"
        );
        assert_eq!(git_letter(&lab, id), 'Y', "{file}");

        let commit = lab.read_commit(id);
        // Judged at its own date, when the key was current, as an audit of history is.
        let clock = Clock {
            basis: TimeBasis::CommitDate,
            now: commit.committer.time,
        };
        let v = signatures::verify_commit(&trust, &policy.signatures, &commit, clock);
        assert_eq!(v.status, SigStatus::Good, "{file}: {}", v.reason);
        assert_eq!(
            v.fingerprint.as_deref(),
            Some("5DE3E0509C47EA3CF04A42D34AEE18F83AFDEB23")
        );
        let note = hash_prefix_note(&v);
        assert!(
            note.contains("hash-prefix field") && note.contains("says 7472"),
            "{file}: {note:?}"
        );

        // The note reaches the findings even when good objects are not listed.
        let mut change = Change::new(Stage::Push, commit.committer.time);
        change.clock = vouch_rules::change::Clock::CommitDate;
        change.updates.push(RefUpdate {
            name: "refs/heads/main".into(),
            old: None,
            new: Some(id.into()),
            kind: UpdateKind::Create,
            commits: vec![commit.clone()],
            tags: Vec::new(),
        });
        let judged = signatures::judge_change(&trust, &policy.signatures, &change, false);
        assert_eq!(judged.records[0].status, "good", "{file}");
        let findings = judged.findings;
        assert_eq!(findings.len(), 1, "{file}: {findings:?}");
        assert_eq!(findings[0].severity, Severity::Note, "{file}");
        assert!(findings[0]
            .properties
            .get("note")
            .is_some_and(|n| n.contains("7472")));

        // The same commit with its message changed: the signature no longer verifies.
        let text = String::from_utf8(raw.clone()).unwrap();
        let altered = text.replacen("\n\n", "\n\nAltered: ", 1);
        let altered_id = store(&lab, altered.as_bytes());
        assert_eq!(git_letter(&lab, &altered_id), 'B', "{file} altered");
        let v = signatures::verify_commit(
            &trust,
            &policy.signatures,
            &lab.read_commit(&altered_id),
            clock,
        );
        assert_eq!(v.status, SigStatus::Bad, "{file} altered: {}", v.reason);
    }
}

#[test]
fn gpg_v4_signatures_with_a_wrong_hash_prefix_verify_and_altered_ones_do_not() {
    let lab = Lab::new();
    let home = lab.gnupg.clone();
    let mut files = Vec::new();
    let mut signers = Vec::new();
    for algo in ["rsa2048", "rsa4096", "ed25519", "nistp256"] {
        let uid = format!("Alice {algo} <alice@example.com>");
        let fpr = lab.gpg_key(&home, &uid, algo, "0", None);
        files.push((
            Box::leak(format!(".vouch/keys/{algo}.asc").into_boxed_str()) as &str,
            lab.export(&home, &fpr),
        ));
        signers.push((algo, fpr));
    }
    let policy = policy("[signatures]\nrequired = true\n", &files);
    let trust = signatures::load(&policy).unwrap();
    let clock = at_push(vouch_rules::change::unix_now());
    let judge = |id: &str| {
        signatures::verify_commit(&trust, &policy.signatures, &lab.read_commit(id), clock)
    };

    for (algo, fpr) in &signers {
        let good = lab.commit(
            algo,
            &[
                ("gpg.format", "openpgp"),
                ("user.signingkey", fpr),
                ("commit.gpgsign", "true"),
            ],
            &[],
        );
        let v = judge(&good);
        assert_eq!(v.status, SigStatus::Good, "{algo}: {}", v.reason);
        assert_eq!(v.note, None, "{algo}: a correct field draws no note");

        let raw = lab.git(&["cat-file", "commit", &good]) + "\n";
        let flipped = edit_signature(&raw, flip_quick_check);
        let flipped_id = store(&lab, flipped.as_bytes());
        assert_eq!(
            git_letter(&lab, &flipped_id),
            'G',
            "{algo}: gpg ignores the field"
        );
        let v = judge(&flipped_id);
        assert_eq!(v.status, SigStatus::Good, "{algo} flipped: {}", v.reason);
        assert!(
            hash_prefix_note(&v).contains("hash-prefix field"),
            "{algo}: {:?}",
            v.note
        );

        // Content changed under a flipped field: still bad.
        let altered = flipped.replacen(&format!("\n\n{algo}"), "\n\nsomething else", 1);
        let altered_id = store(&lab, altered.as_bytes());
        assert_eq!(git_letter(&lab, &altered_id), 'B', "{algo} altered");
        assert_eq!(judge(&altered_id).status, SigStatus::Bad, "{algo} altered");

        // The signature value itself changed: bad, whichever path checked it.
        let forged = edit_signature(&raw, |blob| {
            let at = blob.len() - 3;
            blob[at] ^= 0x01;
        });
        let forged_id = store(&lab, forged.as_bytes());
        assert_eq!(git_letter(&lab, &forged_id), 'B', "{algo} forged");
        assert_eq!(judge(&forged_id).status, SigStatus::Bad, "{algo} forged");
    }
}

#[test]
fn a_v6_signature_with_a_wrong_hash_prefix_is_bad() {
    let secret = SecretKeyParamsBuilder::default()
        .version(KeyVersion::V6)
        .key_type(KeyType::Ed25519)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("Vee <vee@example.com>".into())
        .passphrase(None)
        .build()
        .unwrap()
        .generate(rand::thread_rng())
        .unwrap();
    let public = secret
        .to_public_key()
        .to_armored_string(None.into())
        .unwrap();
    let head = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Vee <vee@example.com> 1800000000 +0000\ncommitter Vee <vee@example.com> 1800000000 +0000\n";
    let message = "a v6 commit\n";
    let sig = DetachedSignature::sign_binary_data(
        rand::thread_rng(),
        &secret.primary_key,
        &Password::empty(),
        HashAlgorithm::Sha256,
        format!("{head}\n{message}").as_bytes(),
    )
    .unwrap()
    .to_armored_string(None.into())
    .unwrap();
    let raw = format!(
        "{head}gpgsig {}\n\n{message}",
        sig.trim_end().replace('\n', "\n ")
    );
    let policy = policy(
        "[signatures]\nrequired = true\n",
        &[(".vouch/keys/vee.asc", public.into_bytes())],
    );
    let trust = signatures::load(&policy).unwrap();
    let stamp = Stamp {
        name: "Vee".into(),
        email: "vee@example.com".into(),
        time: 1_800_000_000,
        offset_minutes: 0,
    };
    let judge = |raw: &str| {
        signatures::verify(
            &trust,
            &policy.signatures,
            Subject {
                id: "0123456789012345678901234567890123456789",
                raw: raw.as_bytes(),
                is_tag: false,
                is_merge: false,
                committer: Some(&stamp),
                author: Some(&stamp),
            },
            at_push(1_800_000_100),
        )
    };
    assert_eq!(
        judge(&raw).status,
        SigStatus::Good,
        "the untouched v6 signature verifies"
    );
    let flipped = edit_signature(&raw, flip_quick_check);
    let v = judge(&flipped);
    assert_eq!(
        v.status,
        SigStatus::Bad,
        "RFC 9580 requires rejecting it: {}",
        v.reason
    );
}

#[test]
fn one_e_mail_in_several_user_ids_is_one_identity() {
    let lab = Lab::new();
    let home = lab.gnupg.clone();
    let fpr = lab.gpg_key(&home, "Alice <alice@example.com>", "ed25519", "0", None);
    lab.gpg(
        &home,
        &["--quick-add-uid", &fpr, "Alice at Work <alice@example.com>"],
    );
    lab.gpg(
        &home,
        &["--quick-add-uid", &fpr, "Alice <alice@home.example>"],
    );
    let certs = signatures::openpgp::parse_certificates(&lab.export(&home, &fpr)).unwrap();
    assert_eq!(
        certs[0].identities,
        ["alice@example.com", "alice@home.example"]
    );
}

use super::dsse::{pae, Envelope, IN_TOTO_PAYLOAD_TYPE};
use super::keys::{judge, KeyProblem, SigningKey};
use super::statement::{source_levels, MergeFacts, TWO_PARTY_REVIEWED};
use super::*;
use crate::change::Clock;
use crate::policy::{AttestationPolicy, MergeMode};
use crate::verdict::{CheckOutcome, PolicySource, Verdict};

fn key(n: u8) -> SigningKey {
    SigningKey::from_ed25519_seed(&[n; 32], &format!("key{n}"))
}

fn verdict() -> Verdict {
    let mut v = Verdict::new(
        PolicySource {
            source: "refs/heads/main:.vouch/policy.toml".into(),
            digest: "ab".repeat(32),
        },
        1_800_000_000,
        Clock::PushTime,
    );
    v.push(CheckOutcome::ran("signatures", vec![]));
    v
}

fn facts(v: &Verdict) -> MergeFacts<'_> {
    MergeFacts {
        verifier_id: "https://git.example.com/vouch".into(),
        verifier_version: "0.1.0".into(),
        time_verified: 1_800_000_000,
        repository: "git+https://git.example.com/p.git".into(),
        target: "refs/heads/main".into(),
        method: "merge".into(),
        merge_commit: "c".repeat(40),
        previous_tip: Some("b".repeat(40)),
        landed: vec!["c".repeat(40)],
        source_tip: "d".repeat(40),
        verdict: v,
        previous_attestation: None,
        levels: vec!["SLSA_SOURCE_LEVEL_3".into()],
    }
}

#[test]
fn a_signed_note_opens_with_its_key_and_names_its_subject() {
    let v = verdict();
    let k = key(1);
    let note = sign(&facts(&v), &k).unwrap();
    assert_eq!(envelopes(&note).unwrap().len(), 2);
    let a = open(&note, std::slice::from_ref(k.public())).unwrap();
    assert_eq!(
        a.vsa.subject_commit(),
        Some(("c".repeat(40).as_str(), "refs/heads/main"))
    );
    assert_eq!(a.vsa.predicate.verification_result, "PASSED");
    assert!(!a
        .vsa
        .predicate
        .verified_levels
        .iter()
        .any(|l| l == TWO_PARTY_REVIEWED));
    assert_eq!(
        a.merge.predicate.previous_tip.as_deref(),
        Some("b".repeat(40).as_str())
    );
    assert_eq!(a.digest, note_digest(&note));
}

#[test]
fn a_wrong_key_a_tampered_payload_and_an_empty_keyid_do_not_verify() {
    let v = verdict();
    let note = sign(&facts(&v), &key(1)).unwrap();
    assert!(matches!(
        open(&note, std::slice::from_ref(key(2).public())),
        Err(AttestError::Unverified { .. })
    ));
    // Swap one payload byte for another, keeping the base64 valid.
    let mut envs = envelopes(&note).unwrap();
    let mut payload = envs[0].payload_bytes().unwrap();
    let at = payload.iter().position(|&b| b == b'c').unwrap();
    payload[at] = b'e';
    use base64::Engine as _;
    envs[0].payload = base64::engine::general_purpose::STANDARD.encode(&payload);
    assert!(envs[0]
        .verify(std::slice::from_ref(key(1).public()))
        .is_err());
    // A signature with no keyid names no key, so it is never tried.
    let mut e = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}", &[&key(1)]);
    e.signatures[0].keyid.clear();
    assert!(e.verify(std::slice::from_ref(key(1).public())).is_err());
}

#[test]
fn the_signature_covers_the_payload_type() {
    let k = key(3);
    let mut e = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}", &[&k]);
    assert!(e.verify(std::slice::from_ref(k.public())).is_ok());
    e.payload_type = "application/json".into();
    assert!(e.verify(std::slice::from_ref(k.public())).is_err());
    assert_eq!(&pae("t", b"x")[..], b"DSSEv1 1 t 1 x");
}

fn attestation_policy() -> AttestationPolicy {
    AttestationPolicy {
        enabled: true,
        notes_ref: "refs/notes/vouch".into(),
        verifier_id: None,
        trusted_verifiers: vec![],
        merge: MergeMode::OnApproval,
        retired: vec![],
        compromised: vec![],
        exempt_commits: vec![],
    }
}

#[test]
fn key_states_mirror_the_commit_signature_keys() {
    let k = key(4);
    let fp = k.fingerprint().to_string();
    let commit = "a".repeat(40);
    let mut p = attestation_policy();
    assert_eq!(judge(&p, k.public(), &commit, 100), Ok(()));
    // Retired: what was verified before `since` stays valid.
    p.retired = vec![(fp.clone(), 200)];
    assert_eq!(judge(&p, k.public(), &commit, 199), Ok(()));
    assert_eq!(
        judge(&p, k.public(), &commit, 200),
        Err(KeyProblem::Retired(200))
    );
    // Compromised: everything fails, except the known-good commits.
    p.compromised = vec![fp];
    assert_eq!(
        judge(&p, k.public(), &commit, 1),
        Err(KeyProblem::Compromised)
    );
    p.exempt_commits = vec![commit.clone()];
    assert_eq!(judge(&p, k.public(), &commit, 1), Ok(()));
    // Validity window of the allowed_signers line.
    let mut windowed = k.public().clone();
    windowed.valid_after = Some(50);
    windowed.valid_before = Some(60);
    let p = attestation_policy();
    assert_eq!(
        judge(&p, &windowed, &commit, 49),
        Err(KeyProblem::OutsideWindow)
    );
    assert_eq!(judge(&p, &windowed, &commit, 55), Ok(()));
    assert_eq!(
        judge(&p, &windowed, &commit, 60),
        Err(KeyProblem::OutsideWindow)
    );
}

#[test]
fn source_levels_follow_the_branch_rules() {
    let parse = |t: &str| {
        crate::Policy::parse(
            t,
            ".vouch/policy.toml",
            crate::policy::Origin::File {
                origin: String::new(),
            },
            String::new(),
            crate::policy::PolicyFiles::new(""),
        )
        .unwrap()
    };
    let main = "refs/heads/main";
    assert_eq!(source_levels(&parse(""), main), ["SLSA_SOURCE_LEVEL_1"]);
    assert_eq!(
        source_levels(
            &parse("[[branch]]\npattern = \"main\"\nrequire_review = false\n"),
            main
        ),
        ["SLSA_SOURCE_LEVEL_2"]
    );
    assert_eq!(
        source_levels(&parse("[[branch]]\npattern = \"main\"\n"), main),
        ["SLSA_SOURCE_LEVEL_3"]
    );
}

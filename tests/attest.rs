//! Verified signed merges and their attestations, end to end with real tools on both sides:
//! `vouch merge` judges the branch under main's policy and lets git sign the merge (SSH and
//! OpenPGP, checked by `git verify-commit` with git's own configuration); the attestation note
//! is checked by `vouch attest verify` and, independently, by Python's securesystemslib; the
//! statements validate against the in-toto Statement v1 and SLSA VSA v1 schemas; the server
//! hook accepts notes only from trusted verifiers.

// Test helpers panic on setup failure by design.
#![allow(clippy::unwrap_used)]

mod common;
use common::{Sandbox, TestRepo};
use std::path::{Path, PathBuf};

fn keygen(sb: &Sandbox, name: &str, kind: &[&str]) -> (PathBuf, String) {
    let key = sb.path().join(name);
    let mut args = vec!["-q"];
    args.extend_from_slice(kind);
    args.extend_from_slice(&["-N", "", "-C", name, "-f", key.to_str().unwrap()]);
    sb.run(sb.path(), Path::new("ssh-keygen"), &args, &[], None)
        .assert_ok();
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.trim().to_string())
}

fn ed25519(sb: &Sandbox, name: &str) -> (PathBuf, String) {
    keygen(sb, name, &["-t", "ed25519"])
}

fn policy(extra: &str) -> String {
    format!(
        "[signatures]\nrequired = true\n\n[[branch]]\npattern = \"main\"\npush_allow = [\"alice\"]\n\n[attestation]\nverifier_id = \"https://git.example.com/vouch\"\ntrusted_verifiers = [\"vouch-verifier\"]\n{extra}"
    )
}

/// A repository whose main trusts alice's SSH key for commits and `verifier` for attestations,
/// set up so git signs with alice's key and `git verify-commit` reads the same signers.
struct Setup<'s> {
    repo: TestRepo<'s>,
    alice: PathBuf,
    verifier: PathBuf,
    verifier_pub: PathBuf,
}

fn setup(sb: &Sandbox) -> Setup<'_> {
    let (alice, alice_pub) = ed25519(sb, "alice");
    let (verifier, verifier_pub) = ed25519(sb, "verifier");
    let repo = sb.repo("work");
    repo.write(
        ".vouch/allowed_signers",
        &format!("alice@example.com {alice_pub}\nvouch-verifier namespaces=\"vouch-attestation\" {verifier_pub}\n"),
    );
    repo.write(".vouch/policy.toml", &policy(""));
    for (k, v) in [
        ("gpg.format", "ssh"),
        ("user.signingkey", alice.to_str().unwrap()),
        ("commit.gpgsign", "true"),
        ("vouch.pusher", "alice"),
        ("gpg.ssh.allowedSignersFile", ".vouch/allowed_signers"),
    ] {
        repo.git(&["config", k, v]).assert_ok();
    }
    repo.commit("policy");
    Setup {
        repo,
        alice,
        verifier: verifier.clone(),
        verifier_pub: verifier.with_extension("pub"),
    }
}

fn feature(repo: &TestRepo<'_>, name: &str, commits: usize) -> String {
    repo.git(&["switch", "-q", "-c", name, "main"]).assert_ok();
    for i in 0..commits {
        repo.write(&format!("{name}/{i}.txt"), &format!("{name} {i}\n"));
        repo.commit(&format!("{name}: change {i}"));
    }
    let tip = repo.head();
    repo.git(&["switch", "-q", "main"]).assert_ok();
    tip
}

impl Setup<'_> {
    fn merge(&self, branch: &str, extra: &[&str]) -> common::Run {
        let mut args = vec![
            "merge",
            branch,
            "--attestation-key",
            self.verifier.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.repo
            .vouch_env(&args, &[("REMOTE_USER", "alice")], None)
    }

    fn verify(&self, extra: &[&str]) -> common::Run {
        let mut args = vec!["attest", "verify"];
        args.extend_from_slice(extra);
        self.repo.vouch(&args)
    }

    fn note(&self, commit: &str) -> String {
        let r = self
            .repo
            .git(&["notes", "--ref", "refs/notes/vouch", "show", commit]);
        r.assert_ok();
        r.stdout()
    }

    fn set_note(&self, commit: &str, text: &str) {
        let file = self.repo.sandbox.path().join("note.tmp");
        std::fs::write(&file, text).unwrap();
        self.repo
            .git(&[
                "notes",
                "--ref",
                "refs/notes/vouch",
                "add",
                "-f",
                "-F",
                file.to_str().unwrap(),
                commit,
            ])
            .assert_ok();
    }
}

fn statements(note: &str) -> Vec<serde_json::Value> {
    use std::io::Read as _;
    note.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let env: serde_json::Value = serde_json::from_str(l).unwrap();
            let payload = env["payload"].as_str().unwrap();
            let bytes = base64_decode(payload);
            let mut s = String::new();
            bytes.as_slice().read_to_string(&mut s).unwrap();
            serde_json::from_str(&s).unwrap()
        })
        .collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The note with every envelope's payload passed through `edit` (signatures untouched); at
/// least one must change, or the test would prove nothing.
fn tamper(note: &str, edit: impl Fn(String) -> String) -> String {
    let mut changed = false;
    let lines: Vec<String> = note
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut env: serde_json::Value = serde_json::from_str(line).unwrap();
            let payload =
                String::from_utf8(base64_decode(env["payload"].as_str().unwrap())).unwrap();
            let edited = edit(payload.clone());
            changed |= edited != payload;
            env["payload"] = serde_json::Value::String(base64_encode(edited.as_bytes()));
            serde_json::to_string(&env).unwrap()
        })
        .collect();
    assert!(changed, "the tampering edit changed no statement");
    lines.join("\n") + "\n"
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/attest")
        .join(name);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[track_caller]
fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn a_verified_merge_is_signed_by_git_attested_and_chained() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    let base = s.repo.head();
    let tip = feature(&s.repo, "feature", 2);
    s.merge("feature", &[])
        .assert_ok()
        .assert_output_has("attestation sha256:");
    let merge = s.repo.head();
    assert_eq!(s.repo.rev("HEAD^1"), base);
    assert_eq!(s.repo.rev("HEAD^2"), tip);
    // git's own verification, with git's own configuration (gpg.ssh.allowedSignersFile).
    s.repo.git(&["verify-commit", &merge]).assert_ok();

    let note = s.note(&merge);
    let st = statements(&note);
    assert_eq!(st.len(), 2);
    let statement = schema("in-toto-statement-v1.schema.json");
    let vsa = schema("slsa-verification-summary-v1.schema.json");
    for x in &st {
        assert_valid(&statement, x);
        assert_eq!(x["subject"][0]["digest"]["gitCommit"], merge.as_str());
        assert_eq!(x["subject"][0]["name"], "refs/heads/main");
    }
    assert_valid(&vsa, &st[0]);
    assert!(
        vsa.validate(&st[1]).is_err(),
        "the vouch statement is not a VSA"
    );
    assert_eq!(st[0]["predicate"]["verificationResult"], "PASSED");
    assert_eq!(
        st[0]["predicate"]["verifier"]["id"],
        "https://git.example.com/vouch"
    );
    assert_eq!(
        st[0]["predicate"]["verifiedLevels"][0],
        "SLSA_SOURCE_LEVEL_3"
    );
    let p = &st[1]["predicate"];
    assert_eq!(p["previousTip"], base.as_str());
    assert_eq!(p["previousAttestation"], serde_json::Value::Null);
    assert_eq!(p["mergedCommits"].as_array().unwrap().len(), 2);
    assert_eq!(p["mergedCommits"][0]["signer"], "alice@example.com");
    assert!(p["mergedCommits"][0]["key"]
        .as_str()
        .unwrap()
        .starts_with("SHA256:"));
    assert_eq!(p["policyDigest"], st[0]["predicate"]["policy"]["digest"]);

    // A second merge links to the first attestation.
    feature(&s.repo, "second", 1);
    s.merge("second", &["--method", "squash"]).assert_ok();
    let squash = s.repo.head();
    assert_eq!(s.repo.rev("HEAD^1"), merge);
    s.repo.git(&["verify-commit", &squash]).assert_ok();
    let second = statements(&s.note(&squash));
    std::fs::write(sb.path().join("n1"), &note).unwrap();
    let sum = sb.run(sb.path(), Path::new("sha256sum"), &["n1"], &[], None);
    let digest = sum.stdout().split_whitespace().next().unwrap().to_string();
    assert_eq!(
        second[1]["predicate"]["previousAttestation"]["sha256"],
        digest.as_str()
    );
    assert_eq!(second[1]["predicate"]["method"], "squash");

    let run = s.verify(&[]);
    run.assert_ok().assert_output_has("2 attestations covering 2 commits on refs/heads/main verified back to the chain's first attestation");
    // With the downstream's own key as the only trust root, and as JSON and SARIF.
    s.verify(&["--key", s.verifier_pub.to_str().unwrap()])
        .assert_ok();
    let json: serde_json::Value =
        serde_json::from_str(&s.verify(&["--format", "json"]).stdout()).unwrap();
    assert_eq!(json["passed"], true);
    let sarif = s.verify(&["--format", "sarif"]);
    sarif
        .assert_ok()
        .assert_output_has("\"version\": \"2.1.0\"");
    // `attest show` decodes it.
    s.repo
        .vouch(&["attest", "show", &squash])
        .assert_ok()
        .assert_output_has("verified: signed by SHA256:")
        .assert_output_has("https://slsa.dev/verification_summary/v1");
}

#[test]
fn attest_verify_names_the_first_break() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    feature(&s.repo, "one", 1);
    s.merge("one", &[]).assert_ok();
    let m1 = s.repo.head();
    feature(&s.repo, "two", 1);
    s.merge("two", &[]).assert_ok();
    let m2 = s.repo.head();
    s.verify(&[]).assert_ok();
    let original = s.note(&m1);

    // A forged note: the statement edited, the signature kept.
    let newest = s.note(&m2);
    s.set_note(
        &m2,
        &tamper(&newest, |p| {
            p.replace("alice@example.com", "mallory@example.com")
        }),
    );
    s.verify(&[])
        .assert_code(1)
        .assert_output_has("attestation.forged");
    s.set_note(&m2, &newest);
    // A broken chain: the same signed envelopes re-serialised, so the note's digest changes.
    let respaced: String = original
        .lines()
        .map(|l| {
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(l).unwrap())
                .unwrap()
                .replace('\n', " ")
                + "\n"
        })
        .collect();
    s.set_note(&m1, &respaced);
    s.verify(&[])
        .assert_code(1)
        .assert_output_has("attestation.chain")
        .assert_output_has(&m2[..7]);
    s.set_note(&m1, &original);
    s.verify(&[]).assert_ok();

    // A commit on main that no merge attested.
    s.repo.write("direct.txt", "pushed around vouch merge\n");
    let direct = s.repo.commit("direct");
    s.verify(&[])
        .assert_code(1)
        .assert_output_has("attestation.missing")
        .assert_output_has(&direct[..7]);
    s.repo.git(&["reset", "-q", "--hard", &m2]).assert_ok();

    // History rewritten under an existing note: the merge remade, its note copied over.
    s.repo
        .git(&["commit", "-q", "--amend", "-S", "-m", "rewritten merge"])
        .assert_ok();
    let rewritten = s.repo.head();
    s.repo
        .git(&[
            "notes",
            "--ref",
            "refs/notes/vouch",
            "copy",
            &m2,
            &rewritten,
        ])
        .assert_ok();
    s.verify(&[])
        .assert_code(1)
        .assert_output_has("attestation.wrong-subject");
    s.repo.git(&["reset", "-q", "--hard", &m2]).assert_ok();

    // A key the downstream does not trust.
    let (_, other_pub) = ed25519(&sb, "other");
    let other = sb.path().join("other.pub");
    std::fs::write(&other, other_pub).unwrap();
    s.verify(&["--key", other.to_str().unwrap()])
        .assert_code(1)
        .assert_output_has("attestation.forged")
        .assert_output_has("no signature verifies with a trusted verifier key");
    // A compromised verifier key fails every attestation but the known-good ones: the policy
    // change that says so is merged (and attested) like any other.
    let out = sb.run(
        sb.path(),
        Path::new("ssh-keygen"),
        &["-lf", s.verifier_pub.to_str().unwrap()],
        &[],
        None,
    );
    let fp = out.stdout().split_whitespace().nth(1).unwrap().to_string();
    s.repo
        .git(&["switch", "-q", "-c", "compromise", "main"])
        .assert_ok();
    s.repo.write(
        ".vouch/policy.toml",
        &policy(&format!(
            "compromised = [\"{fp}\"]\nexempt_commits = [\"{m1}\", \"{m2}\"]\n"
        )),
    );
    s.repo
        .commit("verifier key compromised; m1 and m2 checked by hand");
    s.repo.git(&["switch", "-q", "main"]).assert_ok();
    s.merge("compromise", &[]).assert_ok();
    let m3 = s.repo.head();
    s.verify(&[])
        .assert_code(1)
        .assert_output_has("attestation.compromised-key")
        .assert_output_has(&m3[..7]);
    // The compromised key signs nothing more.
    feature(&s.repo, "after", 1);
    s.merge("after", &[])
        .assert_code(2)
        .assert_output_has("compromised");
}

#[test]
fn a_policy_rollback_is_refused() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    let p1 = policy("");
    // Merge 1 (under P1) brings P2; merge 2 (under P2) brings P1 back; merge 3 runs under P1 again.
    s.repo
        .git(&["switch", "-q", "-c", "p2", "main"])
        .assert_ok();
    s.repo
        .write(".vouch/policy.toml", &format!("{p1}# stricter\n"));
    s.repo.commit("policy: P2");
    s.repo.git(&["switch", "-q", "main"]).assert_ok();
    s.merge("p2", &[]).assert_ok();
    s.repo
        .git(&["switch", "-q", "-c", "back", "main"])
        .assert_ok();
    s.repo.write(".vouch/policy.toml", &p1);
    s.repo.commit("policy: back to P1");
    s.repo.git(&["switch", "-q", "main"]).assert_ok();
    s.merge("back", &[]).assert_ok();
    s.verify(&[]).assert_ok();
    feature(&s.repo, "later", 1);
    s.merge("later", &[]).assert_ok();
    s.verify(&[])
        .assert_code(1)
        .assert_output_has("attestation.policy-rollback")
        .assert_output_has("rolled back");
}

#[test]
fn unsigned_or_untrusted_commits_are_not_merged_and_nothing_changes() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    let (mallory, _) = ed25519(&sb, "mallory");
    let main = s.repo.head();
    s.repo
        .git(&["switch", "-q", "-c", "unsigned", "main"])
        .assert_ok();
    s.repo.write("u.txt", "u\n");
    s.repo.git(&["add", "-A"]).assert_ok();
    s.repo
        .git(&[
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "unsigned",
        ])
        .assert_ok();
    s.repo
        .git(&["switch", "-q", "-c", "untrusted", "main"])
        .assert_ok();
    s.repo.write("m.txt", "m\n");
    s.repo.git(&["add", "-A"]).assert_ok();
    s.repo
        .git(&[
            "-c",
            &format!("user.signingkey={}", mallory.display()),
            "commit",
            "-q",
            "-m",
            "untrusted",
        ])
        .assert_ok();
    s.repo.git(&["switch", "-q", "main"]).assert_ok();
    let server = sb.server("server.git");
    s.repo.add_remote(&server);
    s.repo
        .push_as("alice", &["-q", "origin", "main"])
        .assert_ok();
    let on_server = |spec: &str| {
        sb.run(
            &server,
            Path::new("git"),
            &["rev-parse", "-q", "--verify", spec],
            &[],
            None,
        )
    };
    for (branch, rule) in [
        ("unsigned", "signatures.unsigned"),
        ("untrusted", "signatures."),
    ] {
        s.merge(branch, &["--push"])
            .assert_code(1)
            .assert_output_has(rule)
            .assert_output_has("not merged");
        assert_eq!(s.repo.head(), main, "main moved after refusing {branch}");
        assert!(
            !s.repo
                .git(&["rev-parse", "-q", "--verify", "refs/notes/vouch"])
                .output
                .status
                .success(),
            "a note was written after refusing {branch}"
        );
        s.repo.git(&["diff", "--quiet", "HEAD"]).assert_ok();
        assert_eq!(
            on_server("refs/heads/main").stdout().trim(),
            main,
            "pushed after refusing {branch}"
        );
        assert!(
            !on_server("refs/notes/vouch").output.status.success(),
            "a note was pushed after refusing {branch}"
        );
    }
    // The same merge, once the branch is fine, goes out whole: merge and note in one push.
    let fine = feature(&s.repo, "pushed", 1);
    s.merge("pushed", &["--push"])
        .assert_ok()
        .assert_output_has("pushed refs/heads/main and refs/notes/vouch");
    let merged = s.repo.head();
    assert_eq!(on_server("refs/heads/main").stdout().trim(), merged);
    assert_eq!(
        on_server("refs/notes/vouch").stdout().trim(),
        s.repo.rev("refs/notes/vouch")
    );
    assert_eq!(s.repo.rev("HEAD^2"), fine);
    let main = merged;
    // An attestation key the policy does not trust is refused before anything happens.
    feature(&s.repo, "fine", 1);
    s.repo
        .vouch(&[
            "merge",
            "fine",
            "--attestation-key",
            mallory.to_str().unwrap(),
        ])
        .assert_code(2)
        .assert_output_has("not a trusted verifier");
    assert_eq!(s.repo.head(), main);
    let _ = &s.alice;
}

#[test]
fn a_gpg_signed_merge_verifies_with_git() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    let gpg = |args: &[&str]| sb.run(sb.path(), Path::new("gpg"), args, &[], None);
    gpg(&[
        "--batch",
        "--quiet",
        "--passphrase",
        "",
        "--quick-gen-key",
        "Alice Author <alice@example.com>",
        "ed25519",
        "sign",
        "0",
    ])
    .assert_ok();
    let listing = gpg(&["--with-colons", "--list-secret-keys", "alice@example.com"]);
    let fpr = listing
        .stdout()
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .unwrap()
        .split(':')
        .nth(9)
        .unwrap()
        .to_string();
    let exported = gpg(&["--armor", "--export", &fpr]);
    // Trust the OpenPGP key in the policy, merged like any change.
    s.repo
        .git(&["switch", "-q", "-c", "gpg-key", "main"])
        .assert_ok();
    s.repo.write(".vouch/keys/alice.asc", &exported.stdout());
    s.repo.commit("trust alice's OpenPGP key");
    s.repo.git(&["switch", "-q", "main"]).assert_ok();
    s.merge("gpg-key", &[]).assert_ok();
    // From now on git signs with the OpenPGP key.
    s.repo.git(&["config", "gpg.format", "openpgp"]).assert_ok();
    s.repo.git(&["config", "user.signingkey", &fpr]).assert_ok();
    feature(&s.repo, "gpg-feature", 1);
    s.merge("gpg-feature", &[]).assert_ok();
    let merge = s.repo.head();
    let verified = s.repo.git(&["verify-commit", "--raw", &merge]);
    verified.assert_ok();
    assert!(
        verified.stderr().contains("GOODSIG"),
        "{}",
        verified.stderr()
    );
    s.verify(&[]).assert_ok();
}

#[test]
fn an_ecdsa_p256_verifier_key_signs_too() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    let (p256, p256_pub) = keygen(&sb, "p256", &["-t", "ecdsa", "-b", "256"]);
    s.repo
        .git(&["switch", "-q", "-c", "p256", "main"])
        .assert_ok();
    let signers = std::fs::read_to_string(s.repo.path.join(".vouch/allowed_signers")).unwrap();
    s.repo.write(
        ".vouch/allowed_signers",
        &format!("{signers}vouch-verifier {p256_pub}\n"),
    );
    s.repo.commit("a P-256 verifier key");
    s.repo.git(&["switch", "-q", "main"]).assert_ok();
    s.merge("p256", &[]).assert_ok();
    feature(&s.repo, "after", 1);
    s.repo
        .vouch(&[
            "merge",
            "after",
            "--attestation-key",
            p256.to_str().unwrap(),
        ])
        .assert_ok();
    s.verify(&[]).assert_ok();
    python_check(
        &sb,
        &s.note(&s.repo.head()),
        &p256.with_extension("pub"),
        &s.repo.head(),
        0,
    );
}

/// The Python that has securesystemslib, as `./install.sh --test` sets it up. Missing under CI
/// is a failure; on a developer's machine the test says how to get it and stops.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("VOUCH_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python")
        });
    if candidate.exists() {
        return Some(candidate);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{} is missing: CI must run the securesystemslib test (./install.sh --test creates the venv)",
        candidate.display()
    );
    eprintln!(
        "securesystemslib test not run: {} is missing; run ./install.sh --test (or python3 -m venv target/test-venv && target/test-venv/bin/pip install 'securesystemslib[crypto]')",
        candidate.display()
    );
    None
}

fn python_check(sb: &Sandbox, note: &str, key: &Path, commit: &str, expect: i32) {
    let Some(py) = python() else { return };
    let file = sb.path().join("py-note");
    std::fs::write(&file, note).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/attest/dsse_verify.py");
    sb.run(
        sb.path(),
        &py,
        &[
            script.to_str().unwrap(),
            file.to_str().unwrap(),
            key.to_str().unwrap(),
            commit,
            "refs/heads/main",
        ],
        &[],
        None,
    )
    .assert_code(expect);
}

#[test]
fn securesystemslib_accepts_the_envelope_and_rejects_tampering() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    feature(&s.repo, "one", 1);
    s.merge("one", &[]).assert_ok();
    let m1 = s.repo.head();
    feature(&s.repo, "two", 1);
    s.merge("two", &[]).assert_ok();
    let m2 = s.repo.head();
    let note = s.note(&m2);
    python_check(&sb, &note, &s.verifier_pub, &m2, 0);
    // A tampered payload.
    python_check(
        &sb,
        &tamper(&note, |p| p.replace("PASSED", "FAILED")),
        &s.verifier_pub,
        &m2,
        1,
    );
    // The wrong key.
    let (_, other) = ed25519(&sb, "other");
    let other_file = sb.path().join("other-key.pub");
    std::fs::write(&other_file, other).unwrap();
    python_check(&sb, &note, &other_file, &m2, 1);
    // A swapped subject: the statement edited to name another commit, or the note moved to one.
    python_check(
        &sb,
        &tamper(&note, |p| p.replace(&m2, &m1)),
        &s.verifier_pub,
        &m1,
        1,
    );
    python_check(&sb, &note, &s.verifier_pub, &m1, 1);

    // The whole branch with securesystemslib and git alone: the README's downstream command.
    python_branch(&s, 0, "ok: 2 attestations verified");
    let first = s.note(&m1);
    s.set_note(&m1, &first.replacen("{\"payload\"", "{ \"payload\"", 1));
    python_branch(&s, 1, "chain broken");
    s.set_note(&m1, &first);
    s.repo.write("direct.txt", "around vouch merge\n");
    let direct = s.repo.commit("direct");
    python_branch(&s, 1, &format!("{direct} has no attestation"));
}

/// `dsse_verify.py --branch`: the chain down main, checked without vouch.
fn python_branch(s: &Setup<'_>, expect: i32, needle: &str) {
    let Some(py) = python() else { return };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/attest/dsse_verify.py");
    let run = s.repo.sandbox.run(
        &s.repo.path,
        &py,
        &[
            script.to_str().unwrap(),
            "--branch",
            s.verifier_pub.to_str().unwrap(),
            "refs/heads/main",
        ],
        &[],
        None,
    );
    run.assert_code(expect).assert_output_has(needle);
}

#[test]
fn the_server_accepts_notes_only_from_trusted_verifiers() {
    let sb = Sandbox::new();
    let s = setup(&sb);
    let server = sb.server("server.git");
    s.repo.add_remote(&server);
    s.repo
        .push_as("alice", &["-q", "origin", "main"])
        .assert_ok();
    feature(&s.repo, "one", 1);
    s.merge("one", &[]).assert_ok();
    let m1 = s.repo.head();
    s.repo
        .push_as("alice", &["-q", "origin", "main", "refs/notes/vouch"])
        .assert_ok();
    let n1 = s.repo.rev("refs/notes/vouch");
    feature(&s.repo, "two", 1);
    s.merge("two", &[]).assert_ok();
    let m2 = s.repo.head();
    let n2 = s.repo.rev("refs/notes/vouch");
    let good = s.note(&m2);
    // A forged new note is refused…
    s.repo
        .git(&["update-ref", "refs/notes/vouch", &n1])
        .assert_ok();
    s.set_note(&m2, &tamper(&good, |p| p.replace("PASSED", "FAILED")));
    s.repo
        .push_as("alice", &["-q", "origin", "main", "refs/notes/vouch"])
        .assert_refused_with(&["attestation.untrusted-note"]);
    // … and so is rewriting an existing one, even with validly signed bytes.
    s.repo
        .git(&["update-ref", "refs/notes/vouch", &n2])
        .assert_ok();
    let first = s.note(&m1);
    s.set_note(&m1, &first.replacen("{\"payload\"", "{ \"payload\"", 1));
    s.repo
        .push_as("alice", &["-q", "origin", "main", "refs/notes/vouch"])
        .assert_refused_with(&["attestation.note-rewritten"]);
    s.repo
        .git(&["update-ref", "refs/notes/vouch", &n2])
        .assert_ok();
    s.repo
        .push_as("alice", &["-q", "origin", "main", "refs/notes/vouch"])
        .assert_ok();
    let listed = sb.run(
        &server,
        Path::new("git"),
        &["notes", "--ref", "refs/notes/vouch", "list"],
        &[],
        None,
    );
    assert_eq!(listed.stdout().lines().count(), 2);
}

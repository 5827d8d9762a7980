//! `[signatures]` policy on real signatures: rotation (retired, compromised, exempt commits, key
//! age), forge signers, author identity, unsigned merges, X.509, namespaces, SSH certificates,
//! time bases, and the check as the hooks run it.

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]

mod signatures_lab;

use signatures_lab::{at_commit_date, at_push, policy, trust, verify, Lab};
use vouch_rules::change::{unix_now, Change, Clock, Stage};
use vouch_rules::signatures::{self, SigStatus};
use vouch_rules::{validate_files, Engine, Status};

/// The signatures check alone, as every enforcement point runs it.
fn judge(policy: &vouch_rules::Policy, change: &Change) -> vouch_rules::Verdict {
    Engine::new(policy.clone())
        .only(&["signatures"])
        .evaluate(change)
}

const DAY: i64 = 86_400;

/// A lab with one trusted SSH key for alice and one OpenPGP key (`bob.asc`).
struct Setup {
    lab: Lab,
    ssh_key: std::path::PathBuf,
    ssh_line: String,
    ssh_fp: String,
    pgp_fpr: String,
    pgp_asc: Vec<u8>,
}

fn setup() -> Setup {
    let lab = Lab::new();
    let ssh_key = lab.ssh_key("alice", "ed25519", None);
    let ssh_line = format!("alice@example.com {}", lab.ssh_public(&ssh_key));
    lab.allow_ssh(&ssh_line);
    let home = lab.gnupg.clone();
    let pgp_fpr = lab.gpg_key(&home, "Bob <bob@example.com>", "ed25519", "0", None);
    let pgp_asc = lab.export(&home, &pgp_fpr);
    let printed = signatures_lab::run(
        std::process::Command::new("ssh-keygen")
            .arg("-lf")
            .arg(ssh_key.with_extension("pub")),
    );
    let ssh_fp = printed.split_whitespace().nth(1).unwrap().to_string();
    Setup {
        lab,
        ssh_key,
        ssh_line,
        ssh_fp,
        pgp_fpr,
        pgp_asc,
    }
}

impl Setup {
    fn ssh_commit(&self, msg: &str, extra: &[(&str, &str)], env: &[(&str, &str)]) -> String {
        let key = self.ssh_key.display().to_string();
        let mut cfg = vec![
            ("gpg.format", "ssh"),
            ("user.signingkey", key.as_str()),
            ("commit.gpgsign", "true"),
        ];
        cfg.extend_from_slice(extra);
        self.lab.commit(msg, &cfg, env)
    }

    fn pgp_commit(&self, msg: &str, extra: &[(&str, &str)]) -> String {
        let mut cfg = vec![
            ("gpg.format", "openpgp"),
            ("user.signingkey", self.pgp_fpr.as_str()),
            ("user.email", "bob@example.com"),
            ("commit.gpgsign", "true"),
        ];
        cfg.extend_from_slice(extra);
        self.lab.commit(msg, &cfg, &[])
    }

    fn policy(&self, signatures: &str) -> vouch_rules::Policy {
        self.policy_with(signatures, &self.ssh_line)
    }

    fn policy_with(&self, signatures: &str, allowed: &str) -> vouch_rules::Policy {
        policy(
            &format!("[signatures]\nrequired = true\n{signatures}\n"),
            &[
                (
                    ".vouch/allowed_signers",
                    format!("{allowed}\n").into_bytes(),
                ),
                (".vouch/keys/bob.asc", self.pgp_asc.clone()),
            ],
        )
    }
}

#[test]
fn rotation_identity_and_format_rules() {
    let s = setup();
    let old = "2020-06-01T00:00:00Z";
    let old_ssh = s.ssh_commit(
        "old",
        &[],
        &[("GIT_COMMITTER_DATE", old), ("GIT_AUTHOR_DATE", old)],
    );
    let ssh = s.ssh_commit("now", &[], &[]);
    let pgp = s.pgp_commit("pgp", &[]);
    let pgp_author = s.pgp_commit("pgp author", &[]);
    let other_author = {
        let key = s.ssh_key.display().to_string();
        s.lab.commit(
            "someone else's change",
            &[
                ("gpg.format", "ssh"),
                ("user.signingkey", &key),
                ("commit.gpgsign", "true"),
            ],
            &[("GIT_AUTHOR_EMAIL", "mallory@example.com")],
        )
    };
    // An unsigned merge.
    let base = s.lab.git(&["rev-parse", "HEAD"]);
    s.lab.git(&["checkout", "-q", "-b", "side", "HEAD~1"]);
    s.lab.commit("side", &[], &[]);
    s.lab.git(&["checkout", "-q", "main"]);
    s.lab.git(&[
        "merge",
        "-q",
        "--no-ff",
        "--no-gpg-sign",
        "-m",
        "merge",
        "side",
    ]);
    let merge = s.lab.git(&["rev-parse", "HEAD"]);
    assert_ne!(base, merge);
    // An X.509 signature (gpgsm/gitsign armour): recognised, never verified.
    let x509 = s.lab.rewrite(&ssh, |raw| {
        let head_end = raw.find("gpgsig ").unwrap();
        let sig_end = raw.find("-----END SSH SIGNATURE-----").unwrap() + "-----END SSH SIGNATURE-----\n".len();
        format!(
            "{}gpgsig -----BEGIN SIGNED MESSAGE-----\n MIAGCSqGSIb3DQEHAqCAMIACAQExDTALBglghkgBZQMEAgEwgAYJKoZIhvcNAQcBAAA=\n -----END SIGNED MESSAGE-----\n{}",
            &raw[..head_end],
            &raw[sig_end..]
        )
    });

    let now = unix_now();
    let commit_dated = at_commit_date();
    let push = at_push(now);
    let retired = format!(
        "[[signatures.retired]]\nkey = \"{}\"\nsince = \"2021-01-01\"",
        s.ssh_fp
    );
    let compromised = format!("compromised = [\"{}\"]", s.ssh_fp);
    let exempt = format!(
        "compromised = [\"{}\"]\nexempt_commits = [\"{ssh}\"]",
        s.ssh_fp
    );
    let pgp_compromised = format!("compromised = [\"{}\"]", s.pgp_fpr.to_lowercase());
    let windowed = format!(
        "alice@example.com valid-after=\"{}\" {}",
        "20200101",
        s.ssh_line.split_once(' ').unwrap().1
    );
    let namespaced = format!(
        "alice@example.com namespaces=\"file\" {}",
        s.ssh_line.split_once(' ').unwrap().1
    );
    let forge_asc = {
        let home = s.lab.gnupg.clone();
        let fpr = s
            .lab
            .gpg_key(&home, "GitHub <noreply@github.com>", "ed25519", "0", None);
        (fpr.clone(), s.lab.export(&home, &fpr))
    };
    let forge_commit = s.lab.commit(
        "made on the forge",
        &[
            ("gpg.format", "openpgp"),
            ("user.signingkey", &forge_asc.0),
            ("commit.gpgsign", "true"),
        ],
        &[],
    );
    let forge_policy = |forge: &str| {
        policy(
            &format!("[signatures]\nrequired = true\nforge_signers = [{forge}]\n"),
            &[(".vouch/keys/web-flow.asc", forge_asc.1.clone())],
        )
    };

    struct Row<'a> {
        name: &'a str,
        policy: vouch_rules::Policy,
        commit: &'a str,
        clock: signatures::Clock,
        want: SigStatus,
        accepted: bool,
    }
    let rows = vec![
        Row {
            name: "plain ssh good",
            policy: s.policy(""),
            commit: &ssh,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "retired key, pushed after retirement",
            policy: s.policy(&retired),
            commit: &old_ssh,
            clock: push,
            want: SigStatus::RetiredKey,
            accepted: false,
        },
        Row {
            name: "retired key, history dated before retirement",
            policy: s.policy(&retired),
            commit: &old_ssh,
            clock: commit_dated,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "retired key, history dated after retirement",
            policy: s.policy(&retired),
            commit: &ssh,
            clock: commit_dated,
            want: SigStatus::RetiredKey,
            accepted: false,
        },
        Row {
            name: "compromised ssh key",
            policy: s.policy(&compromised),
            commit: &ssh,
            clock: commit_dated,
            want: SigStatus::CompromisedKey,
            accepted: false,
        },
        Row {
            name: "compromised key, exempt commit",
            policy: s.policy(&exempt),
            commit: &ssh,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "compromised key, other commit",
            policy: s.policy(&exempt),
            commit: &old_ssh,
            clock: push,
            want: SigStatus::CompromisedKey,
            accepted: false,
        },
        Row {
            name: "compromised pgp key (lower-case fingerprint)",
            policy: s.policy(&pgp_compromised),
            commit: &pgp,
            clock: push,
            want: SigStatus::CompromisedKey,
            accepted: false,
        },
        Row {
            name: "pgp key younger than max age",
            policy: s.policy("max_key_age_days = 1"),
            commit: &pgp,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "pgp key older than max age",
            policy: s.policy("max_key_age_days = 1"),
            commit: &pgp,
            clock: at_push(now + 3 * DAY),
            want: SigStatus::KeyTooOld,
            accepted: false,
        },
        Row {
            name: "ssh key without valid-after under max age",
            policy: s.policy("max_key_age_days = 30"),
            commit: &ssh,
            clock: push,
            want: SigStatus::KeyTooOld,
            accepted: false,
        },
        Row {
            name: "ssh key with old valid-after under max age",
            policy: s.policy_with("max_key_age_days = 30", &windowed),
            commit: &ssh,
            clock: push,
            want: SigStatus::KeyTooOld,
            accepted: false,
        },
        Row {
            name: "ssh key with old valid-after, no max age",
            policy: s.policy_with("", &windowed),
            commit: &ssh,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "ssh key listed for another namespace",
            policy: s.policy_with("", &namespaced),
            commit: &ssh,
            clock: push,
            want: SigStatus::UnknownKey,
            accepted: false,
        },
        Row {
            name: "author identity not required",
            policy: s.policy(""),
            commit: &other_author,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "author identity required",
            policy: s.policy("require_author_identity = true"),
            commit: &other_author,
            clock: push,
            want: SigStatus::UntrustedIdentity,
            accepted: false,
        },
        Row {
            name: "author identity required, author is signer",
            policy: s.policy("require_author_identity = true"),
            commit: &pgp_author,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
        Row {
            name: "unsigned merge refused",
            policy: s.policy(""),
            commit: &merge,
            clock: push,
            want: SigStatus::Unsigned,
            accepted: false,
        },
        Row {
            name: "unsigned merge allowed",
            policy: s.policy("allow_unsigned_merges = true"),
            commit: &merge,
            clock: push,
            want: SigStatus::Unsigned,
            accepted: true,
        },
        Row {
            name: "x509 refused",
            policy: s.policy(""),
            commit: &x509,
            clock: push,
            want: SigStatus::X509,
            accepted: false,
        },
        Row {
            name: "x509 accepted by policy",
            policy: s.policy("accept_x509 = true"),
            commit: &x509,
            clock: push,
            want: SigStatus::X509,
            accepted: true,
        },
        Row {
            name: "forge key, not a forge signer",
            policy: forge_policy(""),
            commit: &forge_commit,
            clock: push,
            want: SigStatus::UntrustedIdentity,
            accepted: false,
        },
        Row {
            name: "forge key, listed in forge_signers",
            policy: forge_policy("\"web-flow\""),
            commit: &forge_commit,
            clock: push,
            want: SigStatus::Good,
            accepted: true,
        },
    ];
    let mut failures = Vec::new();
    for row in &rows {
        let v = verify(&s.lab, &row.policy, row.commit, row.clock);
        if v.status != row.want || v.accepted != row.accepted {
            failures.push(format!(
                "{}: got {:?} accepted={} ({}), want {:?} accepted={}",
                row.name, v.status, v.accepted, v.reason, row.want, row.accepted
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A verdict that relied on the commit's own date says so.
    let v = verify(&s.lab, &s.policy(&retired), &old_ssh, commit_dated);
    assert_eq!(v.at_now, Some(SigStatus::RetiredKey));
    let commit = s.lab.read_commit(&old_ssh);
    let update = vouch_rules::change::RefUpdate {
        name: "refs/heads/main".into(),
        old: None,
        new: Some(old_ssh.clone()),
        kind: vouch_rules::change::UpdateKind::Create,
        commits: vec![commit],
        tags: vec![],
    };
    let findings = signatures::findings_for(
        &v,
        &signatures::Target::Commit(&update, &update.commits[0]),
        &trust(&s.policy(&retired)),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, "signatures.relied-on-commit-date");
    assert_eq!(findings[0].properties["time_basis"], "commit-date");
}

#[test]
fn ssh_certificates_from_a_trusted_ca() {
    let lab = Lab::new();
    let ca = lab.ssh_key("ca", "ed25519", None);
    let other_ca = lab.ssh_key("other-ca", "ed25519", None);
    let key = lab.ssh_key("user", "ed25519", None);
    signatures_lab::run(
        std::process::Command::new("ssh-keygen")
            .args(["-q", "-s"])
            .arg(&ca)
            .args(["-I", "alice", "-n", "alice@example.com", "-V", "-1d:+30d"])
            .arg(key.with_extension("pub")),
    );
    let cert = lab.path("user-cert.pub").display().to_string();
    let id = lab.commit(
        "cert",
        &[
            ("gpg.format", "ssh"),
            ("user.signingkey", &cert),
            ("commit.gpgsign", "true"),
        ],
        &[],
    );
    let wrong = lab.commit(
        "cert, other identity",
        &[
            ("gpg.format", "ssh"),
            ("user.signingkey", &cert),
            ("commit.gpgsign", "true"),
            ("user.email", "bob@example.com"),
        ],
        &[],
    );
    let trusted = format!("*@example.com cert-authority {}", lab.ssh_public(&ca));
    let untrusted = format!("*@example.com cert-authority {}", lab.ssh_public(&other_ca));
    let p = |line: &str| {
        policy(
            "[signatures]\nrequired = true\n",
            &[(".vouch/allowed_signers", format!("{line}\n").into_bytes())],
        )
    };
    let now = at_push(unix_now());
    let cases = [
        ("trusted CA", p(&trusted), &id, SigStatus::Good),
        ("untrusted CA", p(&untrusted), &id, SigStatus::UnknownKey),
        (
            "principal not in certificate",
            p(&trusted),
            &wrong,
            SigStatus::UntrustedIdentity,
        ),
    ];
    for (name, policy, commit, want) in cases {
        let v = verify(&lab, &policy, commit, now);
        assert_eq!(v.status, want, "{name}: {}", v.reason);
    }
    // Past the certificate's validity.
    let v = verify(&lab, &p(&trusted), &id, at_push(unix_now() + 60 * DAY));
    assert_eq!(v.status, SigStatus::OutsideWindow, "{}", v.reason);
    // git agrees on the trusted CA.
    std::fs::write(&lab.allowed_signers, format!("{trusted}\n")).unwrap();
    assert_eq!(lab.git_status(&id).0, 'G');
}

#[test]
fn the_check_judges_pushed_commits_and_fails_closed() {
    let s = setup();
    let good = s.ssh_commit("signed", &[], &[]);
    let unsigned = s.lab.commit("unsigned", &[], &[]);
    let repo = s.lab.open();
    let tip = git2::Oid::from_str(&unsigned).unwrap();
    let update = vouch_rules::change::git::Gatherer::new(&repo)
        .with_diffs(false)
        .update("refs/heads/main", None, Some(tip), &[])
        .unwrap();
    assert_eq!(update.commits.len(), 2);
    let mut change = Change::new(Stage::Push, unix_now());
    change.updates.push(update);

    let verdict = judge(&s.policy(""), &change);
    assert_eq!(verdict.checks[0].status, Status::Fail);
    let findings: Vec<_> = verdict.findings().collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].rule, "signatures.unsigned");
    assert_eq!(
        findings[0].location.commit.as_deref(),
        Some(unsigned.as_str())
    );
    assert_eq!(findings[0].properties["time_basis"], "push-time");
    assert!(findings[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("git commit --amend --no-edit -S"));
    assert!(!findings
        .iter()
        .any(|f| f.location.commit.as_deref() == Some(good.as_str())));
    // A good signature leaves a record even though it makes no finding.
    let record = verdict
        .evidence
        .signatures
        .iter()
        .find(|r| r.object == good)
        .expect("a record for the good commit");
    assert_eq!((record.status, record.accepted), ("good", true));
    assert_eq!(record.signer.as_deref(), Some("alice@example.com"));
    assert_eq!(record.fingerprint.as_deref(), Some(s.ssh_fp.as_str()));
    assert_eq!(record.time_basis, "push-time");

    // required = false: skipped, and said so.
    let mut optional = s.policy("");
    optional.signatures.required = false;
    let verdict = judge(&optional, &change);
    assert_eq!(verdict.checks[0].status, Status::Skipped);

    // A malformed allowed-signers file: the check cannot run and fails; validation names the line.
    let broken = s.policy_with(
        "",
        &format!("{}\nbob@example.com ssh-ed25519 notbase64", s.ssh_line),
    );
    let verdict = judge(&broken, &change);
    assert_eq!(verdict.checks[0].status, Status::Error);
    let errors = validate_files(&broken);
    assert_eq!(errors.len(), 1);
    let text = errors[0].to_string();
    assert!(
        text.starts_with("refs/heads/main:.vouch/allowed_signers:2:"),
        "{text}"
    );
    let broken_key = policy(
        "[signatures]\n",
        &[(
            ".vouch/keys/carol.asc",
            b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n-----END PGP PUBLIC KEY BLOCK-----\n"
                .to_vec(),
        )],
    );
    let errors = validate_files(&broken_key);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains(".vouch/keys/carol.asc"),
        "{}",
        errors[0]
    );
    assert!(errors[0].hint().unwrap().contains("gpg --export --armor"));
}

#[test]
fn githubs_web_flow_certificates_load_with_their_expiry() {
    let asc = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/web-flow.asc"
    ))
    .unwrap();
    let p = policy(
        "[signatures]\nforge_signers = [\"web-flow\"]\n",
        &[(".vouch/keys/web-flow.asc", asc)],
    );
    let t = trust(&p);
    assert_eq!(t.pgp.len(), 1);
    let signer = &t.pgp[0];
    assert_eq!(signer.name, "web-flow");
    assert!(
        signer.identities.iter().any(|i| i == "noreply@github.com"),
        "{:?}",
        signer.identities
    );
    let old = signer
        .keys
        .iter()
        .find(|k| k.primary_fingerprint == "5DE3E0509C47EA3CF04A42D34AEE18F83AFDEB23")
        .expect("the 2017 key");
    let expires = old.expires.expect("the 2017 key expires");
    assert_eq!(signatures::iso(expires).get(..10), Some("2024-01-16"));
    assert!(signer
        .keys
        .iter()
        .any(|k| k.primary_fingerprint == "968479A1AFF927E37D1A566BB5690EEEBB952194"));
}

/// A key retired after a commit's date: the push-time clock (the server's, the bot's and
/// `vouch check`'s default) refuses the commit; only an explicit commit-date audit accepts it,
/// and says it relied on the date.
#[test]
fn the_clock_is_the_callers_choice_and_push_time_refuses_a_retired_key() {
    let s = setup();
    let dated = "2020-06-01T00:00:00Z";
    let old = s.ssh_commit(
        "dated before the retirement",
        &[],
        &[("GIT_COMMITTER_DATE", dated), ("GIT_AUTHOR_DATE", dated)],
    );
    let retired = format!(
        "[[signatures.retired]]\nkey = \"{}\"\nsince = \"2021-01-01\"",
        s.ssh_fp
    );
    let policy = s.policy(&retired);
    let repo = s.lab.open();
    let update = vouch_rules::change::git::Gatherer::new(&repo)
        .with_diffs(false)
        .update(
            "refs/heads/main",
            None,
            Some(git2::Oid::from_str(&old).unwrap()),
            &[],
        )
        .unwrap();
    let mut change = Change::new(Stage::Push, unix_now());
    change.updates.push(update);

    let rules = |v: &vouch_rules::Verdict| -> Vec<String> {
        v.findings()
            .filter(|f| f.location.commit.as_deref() == Some(old.as_str()))
            .map(|f| f.rule.clone())
            .collect()
    };
    assert_eq!(
        change.clock,
        Clock::PushTime,
        "a change is judged at push time unless asked"
    );
    let at_push = judge(&policy, &change);
    assert!(!at_push.passed());
    assert_eq!(rules(&at_push), ["signatures.retired-key"]);

    change.clock = Clock::CommitDate;
    let audit = judge(&policy, &change);
    assert!(audit.passed(), "{:?}", audit.findings().collect::<Vec<_>>());
    assert_eq!(rules(&audit), ["signatures.relied-on-commit-date"]);

    // A given instant before the retirement judges as of then, for everything.
    change.clock = Clock::At(vouch_rules::time::parse_rfc3339("2020-12-31").unwrap());
    let then = judge(&policy, &change);
    assert!(then.passed());
    assert_eq!(then.evidence.signatures[0].time_basis, "given-time");
}

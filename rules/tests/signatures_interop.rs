//! vouch's verdict against git's own (`git log --format=%G?`, `git verify-tag`), on commits and
//! tags signed by real `git commit -S` / `git tag -s` with real `ssh-keygen` and `gpg` keys.
//!
//! git letters: G good, B bad, U good signature by a key without a trusted principal (SSH),
//! E key missing (OpenPGP), Y expired key, R revoked key, N unsigned. git does not compare the
//! signer with the committer: there it says G and names a different signer (`%GS`).

// Test helpers fail loudly: an unexpected error is the failure, with its message.
#![allow(clippy::unwrap_used)]

mod signatures_lab;

use base64::Engine as _;
use signatures_lab::{at_commit_date, at_push, policy, Lab};
use std::collections::BTreeMap;
use vouch_rules::signatures::{self, SigStatus};

/// Flip one byte near the end of the signature (inside the signature value itself).
fn tamper_signature(raw: &str) -> String {
    let lines: Vec<&str> = raw.split('\n').collect();
    let (start, end) = signatures_lab::gpgsig_lines(&lines);
    let begin = lines[start].trim_start_matches("gpgsig ");
    let body: String = lines[start + 1..end]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('='))
        .collect();
    let mut blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let at = blob.len() - 10;
    blob[at] ^= 0x01;
    let encoded = base64::engine::general_purpose::STANDARD.encode(blob);
    let mut out: Vec<String> = lines[..start].iter().map(|s| s.to_string()).collect();
    out.push(format!("gpgsig {begin}"));
    if begin.contains("PGP") {
        out.push(" ".into());
    }
    for chunk in encoded.as_bytes().chunks(64) {
        out.push(format!(" {}", String::from_utf8_lossy(chunk)));
    }
    out.extend(lines[end..].iter().map(|s| s.to_string()));
    out.join("\n")
}

struct Case {
    name: &'static str,
    commit: String,
    vouch: SigStatus,
    git: char,
}

#[test]
fn vouch_agrees_with_git_on_real_signatures() {
    let lab = Lab::new();
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();

    // SSH keys: trusted for alice@example.com in four algorithms; one with a window that has
    // closed; one nobody trusts.
    let ssh = |name: &str, kind: &str, bits: Option<&str>| lab.ssh_key(name, kind, bits);
    let ssh_keys = [
        ("ssh-ed25519", ssh("ed25519", "ed25519", None)),
        ("ssh-ecdsa-p256", ssh("ecdsa256", "ecdsa", Some("256"))),
        ("ssh-ecdsa-p384", ssh("ecdsa384", "ecdsa", Some("384"))),
        ("ssh-ecdsa-p521", ssh("ecdsa521", "ecdsa", Some("521"))),
        ("ssh-rsa", ssh("rsa", "rsa", Some("2048"))),
    ];
    for (_, key) in &ssh_keys {
        lab.allow_ssh(&format!("alice@example.com {}", lab.ssh_public(key)));
    }
    let closed = ssh("closed", "ed25519", None);
    lab.allow_ssh(&format!(
        "carol@example.com valid-before=\"20200101\" {}",
        lab.ssh_public(&closed)
    ));
    let stranger = ssh("stranger", "ed25519", None);

    // OpenPGP keys: bob in three algorithms, an expired key, a key to revoke, and a stranger's
    // key in another keyring.
    let home = lab.gnupg.clone();
    let pgp_keys: Vec<(&str, String)> = [
        ("pgp-ed25519", "ed25519"),
        ("pgp-rsa", "rsa2048"),
        ("pgp-ecdsa-p256", "nistp256"),
        ("pgp-ecdsa-p384", "nistp384"),
    ]
    .iter()
    .map(|(name, algo)| {
        let uid = format!("Bob {algo} <bob@example.com>");
        (*name, lab.gpg_key(&home, &uid, algo, "0", None))
    })
    .collect();
    let expired = lab.gpg_key(
        &home,
        "Old <old@example.com>",
        "ed25519",
        "1d",
        Some("20200101T000000"),
    );
    let revoked = lab.gpg_key(&home, "Rev <rev@example.com>", "ed25519", "0", None);
    let other = lab.other_gnupg.clone();
    let pgp_stranger = lab.gpg_key(&other, "Eve <eve@example.com>", "ed25519", "0", None);

    let ssh_cfg = |key: &std::path::Path| -> Vec<(&'static str, String)> {
        vec![
            ("gpg.format", "ssh".into()),
            ("user.signingkey", key.display().to_string()),
        ]
    };
    let pgp_cfg = |fpr: &str| -> Vec<(&'static str, String)> {
        vec![
            ("gpg.format", "openpgp".into()),
            ("user.signingkey", fpr.to_string()),
            ("user.email", "bob@example.com".into()),
        ]
    };
    let commit = |msg: &str, cfg: Vec<(&'static str, String)>, env: &[(&str, &str)]| {
        let mut cfg = cfg;
        cfg.push(("commit.gpgsign", "true".into()));
        let cfg: Vec<(&str, &str)> = cfg.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lab.commit(msg, &cfg, env)
    };

    let mut cases = Vec::new();
    for (name, key) in &ssh_keys {
        let id = commit(name, ssh_cfg(key), &[]);
        cases.push(Case {
            name: Box::leak(format!("good {name}").into_boxed_str()),
            commit: id,
            vouch: SigStatus::Good,
            git: 'G',
        });
    }
    for (name, fpr) in &pgp_keys {
        let id = commit(name, pgp_cfg(fpr), &[]);
        cases.push(Case {
            name: Box::leak(format!("good {name}").into_boxed_str()),
            commit: id,
            vouch: SigStatus::Good,
            git: 'G',
        });
    }
    let ssh_good = cases[0].commit.clone();
    let pgp_good = cases[ssh_keys.len()].commit.clone();
    let pgp_rsa_good = cases[ssh_keys.len() + 1].commit.clone();
    for (what, id) in [
        ("ssh", &ssh_good),
        ("pgp ed25519", &pgp_good),
        ("pgp rsa", &pgp_rsa_good),
    ] {
        cases.push(Case {
            name: Box::leak(format!("tampered payload {what}").into_boxed_str()),
            commit: lab.rewrite(id, |raw| raw.replacen("\n\n", "\n\ntampered ", 1)),
            vouch: SigStatus::Bad,
            git: 'B',
        });
        cases.push(Case {
            name: Box::leak(format!("tampered signature {what}").into_boxed_str()),
            commit: lab.rewrite(id, tamper_signature),
            vouch: SigStatus::Bad,
            git: 'B',
        });
    }
    cases.push(Case {
        name: "unknown key ssh",
        commit: commit("stranger", ssh_cfg(&stranger), &[]),
        vouch: SigStatus::UnknownKey,
        git: 'U',
    });
    let mut stranger_cfg = pgp_cfg(&pgp_stranger);
    stranger_cfg.push(("user.email", "eve@example.com".into()));
    let other_home = other.display().to_string();
    cases.push(Case {
        name: "unknown key pgp",
        commit: commit("stranger pgp", stranger_cfg, &[("GNUPGHOME", &other_home)]),
        vouch: SigStatus::UnknownKey,
        git: 'E',
    });
    // Signed while the key was valid (gpg's clock faked), dated after it expired.
    let faked_gpg = lab.path("gpg-2020");
    std::fs::write(
        &faked_gpg,
        "#!/bin/sh\nexec gpg --faked-system-time 20200101T120000 \"$@\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&faked_gpg, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut expired_cfg = pgp_cfg(&expired);
    expired_cfg.push(("gpg.program", faked_gpg.display().to_string()));
    expired_cfg.push(("user.email", "old@example.com".into()));
    let dated = [
        ("GIT_COMMITTER_DATE", "2020-01-03T00:00:00Z"),
        ("GIT_AUTHOR_DATE", "2020-01-03T00:00:00Z"),
    ];
    let expired_commit = commit("expired", expired_cfg, &dated);
    cases.push(Case {
        name: "expired key pgp",
        commit: expired_commit.clone(),
        vouch: SigStatus::ExpiredKey,
        git: 'Y',
    });
    let mut revoked_cfg = pgp_cfg(&revoked);
    revoked_cfg.push(("user.email", "rev@example.com".into()));
    let revoked_commit = commit("revoked", revoked_cfg, &[]);
    cases.push(Case {
        name: "revoked key pgp",
        commit: revoked_commit,
        vouch: SigStatus::RevokedKey,
        git: 'R',
    });
    let mut wrong = ssh_cfg(&ssh_keys[0].1);
    wrong.push(("user.email", "mallory@example.com".into()));
    cases.push(Case {
        name: "wrong identity ssh",
        commit: commit("wrong id", wrong, &[]),
        vouch: SigStatus::UntrustedIdentity,
        git: 'G',
    });
    let mut wrong = pgp_cfg(&pgp_keys[0].1);
    wrong.push(("user.email", "mallory@example.com".into()));
    cases.push(Case {
        name: "wrong identity pgp",
        commit: commit("wrong id pgp", wrong, &[]),
        vouch: SigStatus::UntrustedIdentity,
        git: 'G',
    });
    let mut window = ssh_cfg(&closed);
    window.push(("user.email", "carol@example.com".into()));
    cases.push(Case {
        name: "outside validity window ssh",
        commit: commit("closed", window, &[]),
        vouch: SigStatus::OutsideWindow,
        git: 'U',
    });
    cases.push(Case {
        name: "unsigned",
        commit: lab.commit("unsigned", &[], &[]),
        vouch: SigStatus::Unsigned,
        git: 'N',
    });

    // The policy, made last so it holds the revoked certificate.
    lab.revoke(&revoked);
    files.push((
        ".vouch/allowed_signers",
        std::fs::read(&lab.allowed_signers).unwrap(),
    ));
    for (name, fpr) in &pgp_keys {
        let path: &'static str = Box::leak(format!(".vouch/keys/{name}.asc").into_boxed_str());
        files.push((path, lab.export(&home, fpr)));
    }
    files.push((".vouch/keys/old.asc", lab.export(&home, &expired)));
    files.push((".vouch/keys/rev.asc", lab.export(&home, &revoked)));
    let policy = policy("[signatures]\nrequired = true\n", &files);
    let trust = signatures_lab::trust(&policy);

    assert_eq!(cases.len(), 23, "every row of the table was built");
    let mut failures = Vec::new();
    for case in &cases {
        let commit = lab.read_commit(&case.commit);
        let v = signatures::verify_commit(&trust, &policy.signatures, &commit, at_commit_date());
        let (letter, git_signer, committer) = lab.git_status(&case.commit);
        if v.status != case.vouch || letter != case.git {
            failures.push(format!(
                "{}: vouch {:?} ({}) want {:?}; git {letter} want {}",
                case.name, v.status, v.reason, case.vouch, case.git
            ));
        }
        if case.vouch == SigStatus::UntrustedIdentity && git_signer.contains(&committer) {
            failures.push(format!(
                "{}: git's signer {git_signer} is the committer",
                case.name
            ));
        }
        if case.vouch != SigStatus::Unsigned && case.vouch != SigStatus::Bad {
            let fp = v.fingerprint.clone().unwrap_or_default();
            if fp.is_empty() {
                failures.push(format!("{}: no fingerprint named", case.name));
            }
        }
        if case.vouch == SigStatus::Good && v.signer.is_none() {
            failures.push(format!("{}: no signer named", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The SSH fingerprint is the one ssh-keygen prints; the OpenPGP one is gpg's.
    let v = signatures_lab::verify(&lab, &policy, &ssh_good, at_commit_date());
    let printed = signatures_lab::run(
        std::process::Command::new("ssh-keygen")
            .arg("-lf")
            .arg(ssh_keys[0].1.with_extension("pub")),
    );
    assert!(
        printed.contains(v.fingerprint.as_deref().unwrap()),
        "{printed}"
    );
    let v = signatures_lab::verify(&lab, &policy, &pgp_good, at_commit_date());
    assert_eq!(v.fingerprint.as_deref(), Some(pgp_keys[0].1.as_str()));
    assert_eq!(v.signer.as_deref(), Some("pgp-ed25519"));

    // At a push the expired key is judged now, whatever date the commit claims.
    let v = signatures_lab::verify(
        &lab,
        &policy,
        &expired_commit,
        at_push(vouch_rules::change::unix_now()),
    );
    assert_eq!(v.status, SigStatus::ExpiredKey);
    assert_eq!(v.time_basis, signatures::TimeBasis::PushTime);

    // Tags: `git tag -s` in both formats, and one by a key nobody trusts; git verify-tag agrees.
    let mut tag_cases: BTreeMap<&str, (SigStatus, bool)> = BTreeMap::new();
    let ed = ssh_keys[0].1.display().to_string();
    lab.git(&[
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingkey={ed}"),
        "tag",
        "-s",
        "-m",
        "ssh tag",
        "t-ssh",
    ]);
    tag_cases.insert("t-ssh", (SigStatus::Good, true));
    lab.git(&[
        "-c",
        "gpg.format=openpgp",
        "-c",
        &format!("user.signingkey={}", pgp_keys[0].1),
        "-c",
        "user.email=bob@example.com",
        "tag",
        "-s",
        "-m",
        "pgp tag",
        "t-pgp",
    ]);
    tag_cases.insert("t-pgp", (SigStatus::Good, true));
    let st = stranger.display().to_string();
    lab.git(&[
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingkey={st}"),
        "tag",
        "-s",
        "-m",
        "stranger tag",
        "t-stranger",
    ]);
    tag_cases.insert("t-stranger", (SigStatus::UnknownKey, false));
    lab.git(&["tag", "-a", "-m", "plain tag", "t-plain"]);
    tag_cases.insert("t-plain", (SigStatus::Unsigned, false));
    for (name, (want, git_ok)) in tag_cases {
        let tag = lab.read_tag(name);
        let v = signatures::verify_tag(&trust, &policy.signatures, &tag, at_commit_date());
        let git = lab
            .git_cmd(&["verify-tag", name])
            .output()
            .unwrap()
            .status
            .success();
        assert_eq!((v.status, git), (want, git_ok), "tag {name}: {}", v.reason);
    }
}

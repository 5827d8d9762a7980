//! `vouch merge <branch>`: the verified, signed merge into a protected branch, with its
//! attestation.
//!
//! The whole change (the target's tip to the branch's tip) is judged by the one engine under the
//! *target branch's* committed policy, exactly as the server would judge it; on any failure the
//! verdict is printed and nothing changes. Otherwise git itself makes the merge commit with
//! `-S`, so the merger's gpg-agent, ssh-agent or smartcard signs it as it signs any commit
//! (`git merge -S --verify-signatures` semantics, with vouch's signature check standing in for
//! git's: no commit is merged unverified). The result is judged again as the push that will
//! carry it, then the attestation (two DSSE-signed in-toto statements) is written as a git note
//! under `[attestation] notes_ref`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use git2::{Oid, Repository};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;
use vouch_rules::attest::keys::{self, SigningKey};
use vouch_rules::attest::statement::{source_levels, MergeFacts};
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::{unix_now, Change, Stage};
use vouch_rules::policy::{resolve, MergeMode};
use vouch_rules::sanitize::for_terminal;
use vouch_rules::{Engine, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// A merge commit (`git merge --no-ff -S`).
    Merge,
    /// One signed commit with the branch's changes (`git merge --squash`, `git commit -S`).
    Squash,
    /// The branch's commits replayed onto the target, each re-signed by the merger.
    Rebase,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Merge => "merge",
            Method::Squash => "squash",
            Method::Rebase => "rebase",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The branch (or any revision) to merge.
    pub branch: String,
    /// The protected branch to merge into (default: the current branch, which must be checked out).
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    #[arg(long, value_enum, default_value_t = Method::Merge)]
    pub method: Method,
    /// The pull request's forge facts (as for `vouch review`), so four-eyes review is judged too.
    #[arg(long, value_name = "FILE")]
    pub review: Option<PathBuf>,
    /// The verifier's private key that signs the attestation: an unencrypted OpenSSH Ed25519 or
    /// ECDSA P-256 key (default: `git config vouch.attestationKey`).
    #[arg(long, value_name = "FILE", env = "VOUCH_ATTESTATION_KEY")]
    pub attestation_key: Option<PathBuf>,
    /// The merge commit's message (default: `Merge branch '<branch>' into <target>`).
    #[arg(short, long)]
    pub message: Option<String>,
    /// Push the merge and its attestation note to REMOTE in one atomic push (default remote:
    /// origin). Nothing is pushed when the merge is refused.
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin")]
    pub push: Option<String>,
}

fn git(repo_dir: &std::path::Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .current_dir(repo_dir)
        .args(args)
        .output()
        .with_context(|| format!("cannot run git {}", args.join(" ")))
}

fn git_ok(repo_dir: &std::path::Path, args: &[&str]) -> anyhow::Result<()> {
    let out = git(repo_dir, args)?;
    if out.status.success() {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
    .into())
}

fn signing_key(args: &Args, repo: &Repository) -> anyhow::Result<SigningKey> {
    let path = args.attestation_key.clone().or_else(|| {
        repo.config()
            .ok()
            .and_then(|c| c.get_path("vouch.attestationKey").ok())
    });
    let Some(path) = path else {
        return Err(UsageError::new("no attestation key to sign the merge's attestation with")
            .hint("pass --attestation-key FILE, or `git config vouch.attestationKey ~/.ssh/vouch_verifier` (make one with `ssh-keygen -t ed25519 -N '' -f ~/.ssh/vouch_verifier`)")
            .into());
    };
    let shown = for_terminal(&path.display().to_string()).into_owned();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| UsageError::new(format!("cannot read the attestation key {shown}: {e}")))?;
    SigningKey::from_openssh(&text, &shown)
        .map_err(|e| UsageError::new(e.to_string()).hint(e.hint()).into())
}

/// The repository's URI for attestations: `git+<origin's URL>`, else the folder.
fn repository_uri(repo: &Repository) -> String {
    repo.find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string))
        .map(|u| format!("git+{u}"))
        .unwrap_or_else(|| {
            let dir = repo.workdir().unwrap_or_else(|| repo.path());
            format!("git+file://{}", dir.display())
        })
}

fn note_of(repo: &Repository, notes_ref: &str, commit: Oid) -> Option<Vec<u8>> {
    let note = repo.find_note(Some(notes_ref), commit).ok()?;
    Some(note.message_bytes().to_vec())
}

fn has_any_note(repo: &Repository, notes_ref: &str) -> bool {
    repo.notes(Some(notes_ref))
        .map(|mut n| n.next().is_some())
        .unwrap_or(false)
}

fn refuse(out: &Output, verdict: &Verdict, what: &str) -> Outcome {
    let outcome = out.emit(verdict);
    eprintln!("vouch: not merged: {what}; nothing was changed");
    outcome
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let dir = repo
        .workdir()
        .ok_or_else(|| UsageError::new("vouch merge needs a working tree, not a bare repository"))?
        .to_path_buf();
    let head_branch = resolve::head_branch(&repo);
    let target = match &args.into {
        Some(b) if b.starts_with("refs/heads/") => b.clone(),
        Some(b) => format!("refs/heads/{b}"),
        None => head_branch.clone().ok_or_else(|| {
            UsageError::new("HEAD is not on a branch")
                .hint("check out the branch to merge into, or pass --into")
        })?,
    };
    let short = target.trim_start_matches("refs/heads/").to_string();
    if head_branch.as_deref() != Some(target.as_str()) {
        return Err(UsageError::new(format!("{short} is not checked out"))
            .hint(format!(
                "`git switch {short}` first: git makes the merge in the working tree"
            ))
            .into());
    }
    let old = repo
        .refname_to_id(&target)
        .map_err(|e| UsageError::new(format!("cannot read {short}: {}", e.message())))?;
    let source = repo
        .revparse_single(&args.branch)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| {
            UsageError::new(format!("cannot resolve {:?}: {}", args.branch, e.message()))
        })?;

    let policy = resolve::for_target(&repo, &target)?;
    let att = policy.attestation.clone();
    if att.merge == MergeMode::Off {
        return Err(UsageError::new(format!(
            "the policy of {short} sets [attestation] merge = \"off\": vouch makes no merges into it"
        ))
        .into());
    }
    let key = if att.enabled {
        let key = signing_key(&args, &repo)?;
        let trusted =
            keys::trusted(&policy).map_err(|e| UsageError::new(e.to_string()).hint(e.hint()))?;
        let Some(listed) = trusted.iter().find(|k| k.fingerprint == key.fingerprint()) else {
            return Err(UsageError::new(format!(
                "the attestation key {} is not a trusted verifier of {short}'s policy",
                key.fingerprint()
            ))
            .hint("add its public key to .vouch/allowed_signers under a principal listed in [attestation] trusted_verifiers, through a reviewed change")
            .into());
        };
        if let Err(problem) = keys::judge(&att, listed, "", unix_now()) {
            let state = match problem {
                keys::KeyProblem::Compromised => "compromised".to_string(),
                keys::KeyProblem::Retired(since) => {
                    format!("retired since {}", vouch_rules::time::iso(since))
                }
                keys::KeyProblem::OutsideWindow => {
                    "outside its valid-after/valid-before window".to_string()
                }
            };
            return Err(UsageError::new(format!(
                "the attestation key {} is {state} under {short}'s policy",
                key.fingerprint()
            ))
            .hint("sign with the verifier key that replaced it")
            .into());
        }
        Some(key)
    } else {
        None
    };
    let previous_note = note_of(&repo, &att.notes_ref, old);
    if key.is_some() && previous_note.is_none() && has_any_note(&repo, &att.notes_ref) {
        return Err(UsageError::new(format!(
            "{short}'s tip {} has no attestation under {}, but earlier commits do: the chain is broken there",
            &old.to_string()[..12],
            att.notes_ref
        ))
        .hint(format!(
            "fetch the notes (`git fetch origin {0}:{0}`); if it is still missing, run `vouch attest verify` to see how the tip got in",
            att.notes_ref
        ))
        .into());
    }

    // Judge the whole change, as the server will, before anything moves.
    let engine = Engine::new(policy.clone());
    let update = Gatherer::new(&repo)
        .with_diffs(policy.secrets.enabled)
        .update(&target, Some(old), Some(source), &[old])?;
    if update.commits.is_empty() {
        return Err(
            UsageError::new(format!("{} has nothing {short} does not have", args.branch)).into(),
        );
    }
    let now = unix_now();
    let mut change = Change::new(Stage::Push, now);
    change.pusher = super::pusher(&policy, Some(&repo));
    change.updates.push(update);
    if let Some(file) = &args.review {
        let pr = super::review::read_pull_request(file)?;
        if !pr.head_sha.eq_ignore_ascii_case(&source.to_string()) {
            return Err(UsageError::new(format!(
                "the review is of {}, not of {} ({})",
                pr.head_sha, args.branch, source
            ))
            .hint("approvals count on the commit being merged: update the review input")
            .into());
        }
        change.pull_request = Some(pr);
    }
    let verdict = engine.evaluate(&change);
    if !verdict.passed() {
        return Ok(refuse(
            out,
            &verdict,
            "the change fails the target branch's policy",
        ));
    }

    let message = args
        .message
        .clone()
        .unwrap_or_else(|| format!("Merge branch '{}' into {short}", args.branch));
    let source_hex = source.to_string();
    make_merge(&dir, args.method, &source_hex, &old.to_string(), &message)?;
    let merged = repo.refname_to_id(&target)?;

    // The push that will carry the merge, judged now: the merger's own signature included.
    let landed_update = Gatherer::new(&repo)
        .with_diffs(policy.secrets.enabled)
        .update(&target, Some(old), Some(merged), &[old])?;
    let landed = first_parent_path(&repo, merged, old)?;
    let mut push = Change::new(Stage::Push, now);
    push.pusher = change.pusher.clone();
    push.updates.push(landed_update);
    let push_verdict = engine.evaluate(&push);
    if !push_verdict.passed() {
        git_ok(&dir, &["reset", "-q", "--hard", &old.to_string()])?;
        return Ok(refuse(out, &push_verdict, "the merge commit itself fails the policy (is the merger's signing key trusted for the committer e-mail?); the merge was undone"));
    }

    let Some(key) = key else {
        eprintln!("vouch: merged {} into {short} as {merged}; [attestation] is off, so no attestation was written", for_terminal(&args.branch));
        if let Some(remote) = &args.push {
            push_to(&dir, remote, &[&target])?;
        }
        return Ok(Outcome::Pass);
    };
    let facts = MergeFacts {
        verifier_id: att.verifier().to_string(),
        verifier_version: env!("CARGO_PKG_VERSION").to_string(),
        time_verified: now,
        repository: repository_uri(&repo),
        target: target.clone(),
        method: args.method.as_str().to_string(),
        merge_commit: merged.to_string(),
        previous_tip: Some(old.to_string()),
        landed: landed.iter().map(Oid::to_string).collect(),
        source_tip: source_hex,
        verdict: &verdict,
        previous_attestation: previous_note
            .as_deref()
            .map(vouch_rules::attest::note_digest),
        levels: source_levels(&policy, &target),
    };
    let note =
        vouch_rules::attest::sign(&facts, &key).map_err(|e| UsageError::new(e.to_string()))?;
    let text = String::from_utf8(note.clone()).context("the attestation is not UTF-8")?;
    let sig = repo
        .signature()
        .context("git has no user.name / user.email for the note")?;
    repo.note(&sig, &sig, Some(&att.notes_ref), merged, &text, false)
        .with_context(|| format!("cannot write the attestation note under {}", att.notes_ref))?;
    let digest = vouch_rules::attest::note_digest(&note);
    report_merged(
        out,
        &verdict,
        &args.branch,
        &short,
        merged,
        &att.notes_ref,
        &digest,
    );
    if let Some(remote) = &args.push {
        push_to(&dir, remote, &[&target, &att.notes_ref])?;
    }
    Ok(Outcome::Pass)
}

/// Push `refs` to `remote` in one atomic push: the server takes the merge and its note together
/// or neither. git's own transport, so the merger's credentials and hooks apply unchanged.
fn push_to(dir: &std::path::Path, remote: &str, refs: &[&str]) -> anyhow::Result<()> {
    let mut args = vec!["push".to_string(), "--atomic".into(), remote.to_string()];
    args.extend(refs.iter().map(|r| format!("{r}:{r}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = git(dir, &args)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(UsageError::new(format!(
            "the merge is made and attested locally, but pushing it to {} failed:\n{}",
            for_terminal(remote),
            for_terminal(stderr.trim())
        ))
        .hint(format!(
            "fix the cause, then `git push --atomic {} {}`",
            for_terminal(remote),
            refs.join(" ")
        ))
        .into());
    }
    eprintln!(
        "vouch: pushed {} to {}",
        refs.join(" and "),
        for_terminal(remote)
    );
    Ok(())
}

fn report_merged(
    out: &Output,
    verdict: &Verdict,
    branch: &str,
    short: &str,
    merged: Oid,
    notes_ref: &str,
    digest: &str,
) {
    if out.format != vouch_rules::report::Format::Text {
        out.emit(verdict);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "vouch: merged {} into {short} as {merged} (signed by git); attestation sha256:{digest} under {notes_ref}\n  push both: git push --atomic origin {short} {notes_ref}",
        for_terminal(branch)
    );
}

/// Let git make the merge (signing with the merger's configured key); on failure, put the
/// working tree back as it was.
fn make_merge(
    dir: &std::path::Path,
    method: Method,
    source: &str,
    old: &str,
    message: &str,
) -> anyhow::Result<()> {
    let undo = |why: anyhow::Error| -> anyhow::Error {
        let _ = git(dir, &["merge", "--abort"]);
        let _ = git(dir, &["rebase", "--abort"]);
        let _ = git(dir, &["reset", "-q", "--hard", old]);
        why
    };
    match method {
        Method::Merge => git_ok(
            dir,
            &[
                "merge",
                "-q",
                "--no-ff",
                "--no-verify",
                "-S",
                "-m",
                message,
                source,
            ],
        )
        .map_err(undo),
        Method::Squash => {
            git_ok(dir, &["merge", "-q", "--squash", source]).map_err(undo)?;
            git_ok(dir, &["commit", "-q", "--no-verify", "-S", "-m", message]).map_err(undo)
        }
        Method::Rebase => {
            let branch =
                String::from_utf8_lossy(&git(dir, &["symbolic-ref", "-q", "HEAD"])?.stdout)
                    .trim()
                    .to_string();
            git_ok(
                dir,
                &[
                    "rebase",
                    "-q",
                    "--no-autosquash",
                    "-S",
                    "--onto",
                    old,
                    old,
                    source,
                ],
            )
            .map_err(undo)?;
            let rebased = String::from_utf8_lossy(&git(dir, &["rev-parse", "HEAD"])?.stdout)
                .trim()
                .to_string();
            git_ok(
                dir,
                &["switch", "-q", branch.trim_start_matches("refs/heads/")],
            )
            .map_err(undo)?;
            git_ok(dir, &["merge", "-q", "--ff-only", &rebased]).map_err(undo)
        }
    }
}

/// The first-parent commits from `tip` down to (not including) `base`, newest first.
fn first_parent_path(repo: &Repository, tip: Oid, base: Oid) -> anyhow::Result<Vec<Oid>> {
    let mut path = Vec::new();
    let mut at = tip;
    while at != base {
        path.push(at);
        let commit = repo.find_commit(at)?;
        at = commit.parent_id(0).map_err(|_| {
            UsageError::new(format!(
                "the merge result {tip} does not descend from {base} by first parents"
            ))
        })?;
    }
    Ok(path)
}

//! `vouch attest show COMMIT` and `vouch attest verify [RANGE]`: read the attestations `vouch
//! merge` stores as git notes, and prove downstream that every commit on a protected branch
//! arrived verified.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use git2::{Oid, Repository};
use std::io::Write as _;
use std::path::PathBuf;
use vouch_rules::attest::history::Walk;
use vouch_rules::attest::keys::{self, VerifierKey};
use vouch_rules::change::range::{Revisions, Shape};
use vouch_rules::change::unix_now;
use vouch_rules::policy::{resolve, Policy};
use vouch_rules::report::Format;
use vouch_rules::sanitize::for_terminal;
use vouch_rules::PolicySource;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the attestation on COMMIT, decoded (and whether its signatures verify).
    Show(ShowArgs),
    /// Walk a branch's first-parent history and verify every commit's attestation and the chain.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The commit (default HEAD).
    #[arg(default_value = "HEAD")]
    pub commit: String,
    /// The notes ref to read (default: the policy's `[attestation] notes_ref`).
    #[arg(long, value_name = "REF")]
    pub notes_ref: Option<String>,
    /// Verifier public keys to check the signatures with (default: the policy's trusted verifiers).
    #[arg(long = "key", value_name = "PUB")]
    pub keys: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// `A..B` (the attestations of B's first-parent history down to A), or a tip R (down to the
    /// chain's first attestation). Default: the branch's tip.
    pub range: Option<String>,
    /// The protected branch the attestations must name (default: the current branch).
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Trust only these verifier public keys (OpenSSH `.pub` or allowed-signers files), not
    /// the repository's own list: the downstream trust root.
    #[arg(long = "key", value_name = "PUB")]
    pub keys: Vec<PathBuf>,
    /// The notes ref to read (default: the policy's `[attestation] notes_ref`).
    #[arg(long, value_name = "REF")]
    pub notes_ref: Option<String>,
}

pub fn run(command: Command, out: &Output) -> anyhow::Result<Outcome> {
    match command {
        Command::Show(a) => show(a, out),
        Command::Verify(a) => verify(a, out),
    }
}

fn key_files(files: &[PathBuf]) -> anyhow::Result<Vec<VerifierKey>> {
    let mut all = Vec::new();
    for f in files {
        let shown = for_terminal(&f.display().to_string()).into_owned();
        let text = std::fs::read_to_string(f)
            .map_err(|e| UsageError::new(format!("cannot read the key {shown}: {e}")))?;
        all.extend(
            keys::from_file(&text, &shown)
                .map_err(|e| UsageError::new(e.to_string()).hint(e.hint()))?,
        );
    }
    Ok(all)
}

/// The keys to trust: `--key` files, else the policy's trusted verifiers.
fn trusted(files: &[PathBuf], policy: &Policy) -> anyhow::Result<Vec<VerifierKey>> {
    if !files.is_empty() {
        return key_files(files);
    }
    keys::trusted(policy).map_err(|e| UsageError::new(e.to_string()).hint(e.hint()).into())
}

fn commit_id(repo: &Repository, spec: &str) -> anyhow::Result<Oid> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| UsageError::new(format!("cannot resolve {spec:?}: {}", e.message())).into())
}

fn policy_at(repo: &Repository, commit: Oid) -> anyhow::Result<Policy> {
    Ok(resolve::at_commit(repo, commit)?.unwrap_or_else(Policy::builtin))
}

fn show(args: ShowArgs, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let commit = commit_id(&repo, &args.commit)?;
    let policy = policy_at(&repo, commit)?;
    let notes_ref = args
        .notes_ref
        .clone()
        .unwrap_or_else(|| policy.attestation.notes_ref.clone());
    let Ok(note) = repo.find_note(Some(&notes_ref), commit) else {
        return Err(
            UsageError::new(format!("{commit} has no attestation under {notes_ref}"))
                .hint(format!(
                    "fetch the notes: git fetch origin {notes_ref}:{notes_ref}"
                ))
                .into(),
        );
    };
    let bytes = note.message_bytes().to_vec();
    let envelopes = vouch_rules::attest::envelopes(&bytes)
        .map_err(|e| UsageError::new(e.to_string()).hint(e.hint()))?;
    // The parent's policy judged the merge; it names the verifiers.
    let judged_by = repo
        .find_commit(commit)
        .ok()
        .and_then(|c| c.parent_id(0).ok())
        .map(|p| policy_at(&repo, p))
        .transpose()?
        .unwrap_or(policy);
    let keys = trusted(&args.keys, &judged_by).unwrap_or_default();
    let verified = vouch_rules::attest::open(&bytes, &keys);
    let mut statements = Vec::new();
    for e in &envelopes {
        let payload = e
            .payload_bytes()
            .map_err(|err| UsageError::new(err.to_string()))?;
        let statement: serde_json::Value = serde_json::from_slice(&payload)
            .map_err(|err| UsageError::new(format!("the statement is not JSON: {err}")))?;
        statements.push(serde_json::json!({
            "payloadType": e.payload_type,
            "keyids": e.signatures.iter().map(|s| s.keyid.clone()).collect::<Vec<_>>(),
            "statement": statement,
        }));
    }
    let status = match &verified {
        Ok(a) => format!("verified: signed by {} ({})", a.key.fingerprint, a.key.name),
        Err(e) => format!("NOT verified: {e}"),
    };
    let mut stdout = std::io::stdout().lock();
    if out.format == Format::Json {
        let doc = serde_json::json!({
            "commit": commit.to_string(),
            "notes_ref": notes_ref,
            "digest": vouch_rules::attest::note_digest(&bytes),
            "verified": verified.is_ok(),
            "status": status,
            "envelopes": statements,
        });
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        writeln!(
            stdout,
            "attestation on {commit} ({notes_ref}, sha256:{})\n{status}",
            vouch_rules::attest::note_digest(&bytes)
        )?;
        for s in &statements {
            let text = serde_json::to_string_pretty(s)?;
            writeln!(stdout, "{}", for_terminal(&text))?;
        }
    }
    Ok(Outcome::Pass)
}

fn verify(args: VerifyArgs, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let branch = match &args.branch {
        Some(b) if b.starts_with("refs/heads/") => b.clone(),
        Some(b) => format!("refs/heads/{b}"),
        None => resolve::head_branch(&repo).ok_or_else(|| {
            UsageError::new("HEAD is not on a branch")
                .hint("name the protected branch with --branch main")
        })?,
    };
    let (from, tip) = match &args.range {
        None => (None, commit_id(&repo, "HEAD")?),
        Some(spec) => {
            let bad = |e: vouch_rules::change::range::RangeError| {
                UsageError::new(e.to_string())
                    .hint("give `A..B` or one revision, e.g. `origin/main`")
            };
            match Revisions::parse(&repo, spec).map_err(bad)?.shape {
                Shape::Between { from, to } => (
                    Some(commit_id(&repo, &from.to_string())?),
                    commit_id(&repo, &to.to_string())?,
                ),
                Shape::Ancestry { tip } => (None, commit_id(&repo, &tip.to_string())?),
                Shape::Symmetric { .. } => {
                    return Err(UsageError::new(
                        "`A...B` names two histories; attestations follow one branch",
                    )
                    .hint("use `A..B` or a tip")
                    .into())
                }
            }
        }
    };
    // The newest policy on the history: its verifier keys, retirements and compromises apply.
    let policy = policy_at(&repo, tip)?;
    let keys = trusted(&args.keys, &policy)?;
    if keys.is_empty() {
        return Err(UsageError::new("no verifier key to trust")
            .hint("pass the verifier's public key with --key, or list its allowed_signers principal in [attestation] trusted_verifiers")
            .into());
    }
    let notes_ref = args
        .notes_ref
        .clone()
        .unwrap_or_else(|| policy.attestation.notes_ref.clone());
    let report = Walk {
        repo: &repo,
        tip,
        from,
        target: branch.clone(),
        notes_ref: notes_ref.clone(),
        keys: &keys,
        policy: &policy.attestation,
    }
    .run();
    let source = PolicySource {
        source: format!(
            "attestations under {notes_ref} on {branch}, verifier keys from {}",
            if args.keys.is_empty() {
                policy.describe()
            } else {
                "--key".into()
            }
        ),
        digest: policy.digest.clone(),
    };
    let verdict = report.verdict(source, unix_now());
    let mut shown = *out;
    // The summary note is the point of a passing run: show it without -v.
    shown.verbose = true;
    Ok(shown.emit(&verdict))
}

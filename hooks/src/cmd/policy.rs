//! `vouch policy check`: validate the policy and every file it points at, before it is committed
//! (the working tree) or as committed on a branch (`--ref`).

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use std::path::PathBuf;
use vouch_rules::policy::{resolve, PolicyFiles, POLICY_PATH};
use vouch_rules::Policy;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate .vouch/ (exit 0 valid, 2 invalid, naming file, line and column).
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Check the policy committed on this ref instead of the working tree.
    #[arg(long, value_name = "REF", conflicts_with = "dir")]
    pub r#ref: Option<String>,
    /// The folder holding .vouch/ (default: the repository's top level, or the current folder).
    pub dir: Option<PathBuf>,
}

pub fn run(c: Command, _out: &Output) -> anyhow::Result<Outcome> {
    let Command::Check(args) = c;
    let policy = match &args.r#ref {
        Some(r) => {
            let repo = super::open_repo()?;
            let full = repo
                .resolve_reference_from_short_name(r)
                .ok()
                .and_then(|x| x.name().ok().map(str::to_string))
                .ok_or_else(|| UsageError::new(format!("no ref named {r:?}")))?;
            resolve::at_ref(&repo, &full)?.ok_or_else(|| {
                UsageError::new(format!("{full} has no {POLICY_PATH}"))
                    .hint("run `vouch init`, then commit .vouch/")
            })?
        }
        None => {
            let dir = match args.dir {
                Some(d) => d,
                None => super::try_open_repo()?
                    .and_then(|r| r.workdir().map(std::path::Path::to_path_buf))
                    .unwrap_or_else(|| PathBuf::from(".")),
            };
            let files = PolicyFiles::from_dir(&dir)?;
            Policy::load(files)?.ok_or_else(|| {
                UsageError::new(format!("no {POLICY_PATH} in {}", dir.display()))
                    .hint("run `vouch init` to write one")
            })?
        }
    };
    let errors = vouch_rules::validate_files(&policy);
    if let Some(first) = errors.first() {
        for e in &errors[1..] {
            eprintln!("vouch: {e}");
            if let Some(h) = e.hint() {
                eprintln!("  fix: {h}");
            }
        }
        return Err(first.clone().into());
    }
    for w in &policy.warnings {
        eprintln!(
            "vouch: warning: {}",
            vouch_rules::sanitize::for_terminal(&w.to_string())
        );
        eprintln!("  fix: {}", w.hint);
    }
    let branches = policy
        .refs
        .iter()
        .filter(|r| r.kind == vouch_rules::policy::RefKind::Branch)
        .count();
    let tags = policy.refs.len() - branches;
    println!(
        "{}: valid ({} protected branch pattern{}, {} protected tag pattern{}; signatures {}; secrets {})",
        policy.describe(),
        branches,
        if branches == 1 { "" } else { "s" },
        tags,
        if tags == 1 { "" } else { "s" },
        if policy.signatures.required { "required" } else { "not required" },
        if policy.secrets.enabled { "scanned" } else { "not scanned" },
    );
    if !policy.warnings.is_empty() {
        println!(
            "{} key{} accepted but not enforced (see the warnings above)",
            policy.warnings.len(),
            if policy.warnings.len() == 1 {
                " is"
            } else {
                "s are"
            }
        );
    }
    Ok(Outcome::Pass)
}

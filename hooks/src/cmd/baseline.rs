//! `vouch baseline create|update`: accept the secret findings present now, so only new ones fail.

use crate::cmd::scan::{scan_paths, Context};
use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use std::path::PathBuf;
use vouch_rules::sanitize::for_terminal;
use vouch_rules::secrets::report::{findings, Allowed};
use vouch_rules::secrets::{self, Baseline};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Scan the working tree and write every current finding to the baseline
    /// (the policy's `baseline`, .vouch/baseline.json by default).
    Create(Args),
    /// Rewrite the baseline: keep accepted findings still present, add new ones, drop gone ones.
    Update(Args),
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders to scan (default: the whole working tree).
    pub paths: Vec<PathBuf>,
    /// Where to write (default: the policy's `baseline` path in the working tree).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// `create`: overwrite an existing baseline.
    #[arg(long)]
    pub force: bool,
    /// Scan files .gitignore excludes, too.
    #[arg(long)]
    pub no_ignore: bool,
}

pub fn run(c: Command, _out: &Output) -> anyhow::Result<Outcome> {
    let (args, update) = match c {
        Command::Create(a) => (a, false),
        Command::Update(a) => (a, true),
    };
    let ctx = Context::here()?;
    let target = match (&args.output, ctx.workdir()) {
        (Some(p), _) => p.clone(),
        (None, Some(wd)) => wd.join(&ctx.policy.secrets.baseline),
        (None, None) => PathBuf::from(&ctx.policy.secrets.baseline),
    };
    let existing = match std::fs::read(&target) {
        Ok(bytes) => Some(Baseline::parse(&bytes, &target.display().to_string())?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", target.display())),
    };
    match (&existing, update) {
        (Some(_), false) if !args.force => return Err(UsageError::new(format!(
            "{} already exists",
            target.display()
        ))
        .hint("use `vouch baseline update` to refresh it, or `create --force` to replace it")
        .into()),
        (None, true) => {
            return Err(
                UsageError::new(format!("{} does not exist", target.display()))
                    .hint("create it with `vouch baseline create`")
                    .into(),
            )
        }
        _ => {}
    }
    let scanner = secrets::load(&ctx.policy)?;
    let paths = if args.paths.is_empty() {
        vec![ctx
            .workdir()
            .map_or_else(|| PathBuf::from("."), PathBuf::from)]
    } else {
        args.paths.clone()
    };
    let (found, _, _) = scan_paths(&ctx, &scanner, &paths, args.no_ignore);
    let current = Baseline::from_findings(&findings(found, &Baseline::default(), Allowed::Hide));
    let old = existing.unwrap_or_default();
    let kept = current
        .entries()
        .filter(|e| old.contains(&e.fingerprint))
        .count();
    let added = current.len() - kept;
    let dropped = old
        .entries()
        .filter(|e| !current.contains(&e.fingerprint))
        .count();
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&target, current.to_json())
        .with_context(|| format!("cannot write {}", target.display()))?;
    eprintln!(
        "vouch: wrote {} ({} accepted: {kept} kept, {added} added, {dropped} dropped); commit it to apply it through the policy, or pass it to `vouch scan --baseline`",
        for_terminal(&target.display().to_string()),
        current.len()
    );
    Ok(Outcome::Pass)
}

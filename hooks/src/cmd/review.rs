//! `vouch review --input pr.json`: judge a pull request's reviews against the four-eyes policy,
//! exactly as the bot does, from the JSON description documented in `docs/review.md`.
//!
//! The policy and CODEOWNERS come from the pull request's base branch in the repository around
//! the current directory (never from the pull request), or from a folder with `--policy DIR`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use std::path::PathBuf;
use vouch_rules::change::{unix_now, Change, Point};
use vouch_rules::policy::{resolve, Policy, PolicyFiles};
use vouch_rules::review::{PullRequest, Review};
use vouch_rules::sanitize::for_terminal;
use vouch_rules::Check;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pull request as JSON (see docs/review.md); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Read the policy and CODEOWNERS from this folder instead of the repository's base branch.
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let shown = for_terminal(&args.input.display().to_string()).into_owned();
    let text = if args.input.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(&args.input).map_err(|e| {
            UsageError::new(format!("cannot read {shown}: {e}"))
                .hint("pass --input with a pull request JSON file (see docs/review.md)")
        })?
    };
    let pr: PullRequest = serde_json::from_str(&text).map_err(|e| {
        UsageError::new(format!("{shown}:{}:{}: {e}", e.line(), e.column()))
            .hint("see docs/review.md for the pull request JSON format")
    })?;
    let policy = match &args.policy {
        Some(dir) => {
            let files = PolicyFiles::from_dir(dir)?;
            Policy::load(files)?.ok_or_else(|| {
                UsageError::new(format!(
                    "no .vouch/policy.toml in {}",
                    for_terminal(&dir.display().to_string())
                ))
                .hint("point --policy at a folder holding .vouch/policy.toml (and CODEOWNERS)")
            })?
        }
        None => {
            let repo = super::open_repo().map_err(|_| {
                UsageError::new("not in a git repository, and no --policy given").hint(
                    "run inside the repository the pull request targets, or pass --policy DIR",
                )
            })?;
            resolve::for_target(&repo, &pr.base_ref())?
        }
    };
    let mut change = Change::new(Point::Cli, unix_now());
    change.pull_request = Some(pr);
    let checks: Vec<Box<dyn Check>> = vec![Box::new(Review)];
    let verdict = vouch_rules::evaluate_with(&policy, &change, &checks);
    Ok(out.emit(&verdict))
}

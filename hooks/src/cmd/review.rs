//! `vouch review --input pr.json`: judge a pull request's reviews against the four-eyes policy,
//! exactly as the bot does, from the pull request's forge facts (`docs/review.md`) and the
//! commits in this repository.
//!
//! The commits are the pull request's head and its ancestors not on the base branch, read from
//! the repository around the current directory; the engine verifies their signatures itself.
//! The policy and CODEOWNERS come from the base branch (never from the pull request), or from
//! a folder with `--policy DIR`.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use git2::Oid;
use std::path::PathBuf;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::{unix_now, Change, PullRequest, Stage};
use vouch_rules::policy::{resolve, Policy, PolicyFiles};
use vouch_rules::sanitize::for_terminal;
use vouch_rules::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pull request's forge facts as JSON (see docs/review.md); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Read the policy and CODEOWNERS from this folder instead of the repository's base branch.
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// The base branch's tip the pull request is compared with (default: the base branch, or
    /// its remote-tracking copy `origin/<base>`).
    #[arg(long, value_name = "REV")]
    pub base_rev: Option<String>,
}

/// Read a pull request's forge facts (`docs/review.md`); `-` reads standard input.
pub fn read_pull_request(input: &std::path::Path) -> anyhow::Result<PullRequest> {
    let shown = for_terminal(&input.display().to_string()).into_owned();
    let text = if input.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(input).map_err(|e| {
            UsageError::new(format!("cannot read {shown}: {e}"))
                .hint("name a pull request JSON file (see docs/review.md)")
        })?
    };
    serde_json::from_str(&text).map_err(|e| {
        UsageError::new(format!("{shown}:{}:{}: {e}", e.line(), e.column()))
            .hint("see docs/review.md for the pull request JSON format")
            .into()
    })
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let pr = read_pull_request(&args.input)?;
    let repo = super::open_repo().map_err(|_| {
        UsageError::new("not in a git repository")
            .hint("run inside a clone that holds the pull request's commits (`git fetch origin pull/N/head`)")
    })?;
    let policy = match &args.policy {
        Some(dir) => Policy::load(PolicyFiles::from_dir(dir)?)?.ok_or_else(|| {
            UsageError::new(format!(
                "no .vouch/policy.toml in {}",
                for_terminal(&dir.display().to_string())
            ))
            .hint("point --policy at a folder holding .vouch/policy.toml (and CODEOWNERS)")
        })?,
        None => resolve::for_target(&repo, &pr.base_ref())?,
    };
    let head = Oid::from_str(&pr.head_sha)
        .ok()
        .filter(|id| repo.find_commit(*id).is_ok())
        .ok_or_else(|| {
            UsageError::new(format!(
                "the head commit {} is not in this repository",
                pr.head_sha
            ))
            .hint("fetch the pull request first: `git fetch origin pull/N/head`")
        })?;
    let base_short = pr.base_ref().trim_start_matches("refs/heads/").to_string();
    let candidates = match &args.base_rev {
        Some(rev) => vec![rev.clone()],
        None => vec![pr.base_ref(), format!("refs/remotes/origin/{base_short}")],
    };
    let base = candidates
        .iter()
        .find_map(|c| {
            repo.revparse_single(c)
                .and_then(|o| o.peel_to_commit())
                .ok()
        })
        .ok_or_else(|| {
            UsageError::new(format!("cannot find the base branch {base_short:?} here"))
                .hint("fetch it, or name its tip with --base-rev")
        })?;
    let update =
        Gatherer::new(&repo).update(&pr.base_ref(), Some(base.id()), Some(head), &[base.id()])?;
    let mut change = Change::new(Stage::Push, unix_now());
    change.updates.push(update);
    change.pull_request = Some(pr);
    let verdict = Engine::new(policy).only(&["review"]).evaluate(&change);
    Ok(out.emit(&verdict))
}

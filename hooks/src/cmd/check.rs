//! `vouch check [RANGE]`: every check on a change, exactly as the server hook would judge pushing
//! it into the target branch — so anyone can reproduce a refusal locally.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use git2::{Oid, Repository};
use vouch_rules::change::git::{ref_tips, Gatherer};
use vouch_rules::change::{unix_now, Change, Point};
use vouch_rules::policy::resolve;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Commits to judge: `A..B` (those in B not in A), or one revision (those not on any
    /// remote-tracking branch). Default: `@{upstream}..HEAD`.
    pub range: Option<String>,
    /// The branch the change goes into (default: the upstream's branch, else the current one).
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Who is pushing, for branch-protection rules (default: the server variables, then
    /// `git config vouch.pusher`).
    #[arg(long, value_name = "NAME")]
    pub pusher: Option<String>,
}

fn upstream(repo: &Repository) -> Option<(String, String)> {
    let head = repo.head().ok()?;
    let branch = git2::Branch::wrap(head);
    let up = branch.upstream().ok()?;
    let tracking = up.get().name().ok()?.to_string();
    let remote_branch = tracking.splitn(4, '/').nth(3)?.to_string();
    Some((tracking, remote_branch))
}

fn revparse(repo: &Repository, spec: &str) -> anyhow::Result<Oid> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| UsageError::new(format!("cannot resolve {spec:?}: {}", e.message())).into())
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let up = upstream(&repo);
    let (old, new, exclude) = match args.range.as_deref() {
        Some(r) if r.contains("..") => {
            let (a, b) = r.split_once("..").unwrap_or((r, "HEAD"));
            let a = revparse(&repo, if a.is_empty() { "HEAD" } else { a })?;
            let b = revparse(
                &repo,
                if b.is_empty() {
                    "HEAD"
                } else {
                    b.trim_start_matches('.')
                },
            )?;
            (Some(a), b, vec![a])
        }
        Some(r) => (
            None,
            revparse(&repo, r)?,
            ref_tips(&repo, Some("refs/remotes/"))?,
        ),
        None => match &up {
            Some((tracking, _)) => {
                let a = revparse(&repo, tracking)?;
                (Some(a), revparse(&repo, "HEAD")?, vec![a])
            }
            None => (
                None,
                revparse(&repo, "HEAD")?,
                ref_tips(&repo, Some("refs/remotes/"))?,
            ),
        },
    };
    let into = match (&args.into, &up) {
        (Some(b), _) => b.trim_start_matches("refs/heads/").to_string(),
        (None, Some((_, remote_branch))) => remote_branch.clone(),
        (None, None) => repo
            .head()
            .ok()
            .and_then(|h| h.shorthand().ok().map(str::to_string))
            .unwrap_or_else(|| "main".into()),
    };
    let target = format!("refs/heads/{into}");
    // Judge with the policy the server holds when we know it (the upstream's tracking ref).
    let policy_ref = match &up {
        Some((tracking, remote_branch)) if *remote_branch == into => tracking.clone(),
        _ => target.clone(),
    };
    let policy = resolve::for_target(&repo, &policy_ref)?;
    let update = Gatherer::new(&repo)
        .with_diffs(policy.secrets.enabled)
        .update(&target, old, Some(new), &exclude)?;
    let mut change = Change::new(Point::Cli, unix_now());
    change.pusher = args.pusher.or_else(|| {
        policy
            .server
            .pusher_vars()
            .into_iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .or_else(|| {
                repo.config()
                    .ok()
                    .and_then(|c| c.get_string("vouch.pusher").ok())
            })
    });
    change.updates.push(update);
    let verdict = vouch_rules::evaluate(&policy, &change);
    Ok(out.emit(&verdict))
}

//! `vouch check [RANGE]`: every check on a change, exactly as the server hook would judge pushing
//! it into the target branch — same policy, same clock (the push time) — so anyone can
//! reproduce a refusal locally.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use git2::{Oid, Repository};
use vouch_rules::change::git::{ref_tips, Gatherer};
use vouch_rules::change::range::{commit_of, Revisions, Shape};
use vouch_rules::change::{unix_now, Change, Clock, Stage};
use vouch_rules::policy::resolve;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Commits to judge: `A..B` (as if the target branch moved from A to B), or one revision R
    /// (R and its ancestors not yet on any remote-tracking branch, as a push of R would bring).
    /// Default: `@{upstream}..HEAD`.
    pub range: Option<String>,
    /// The branch the change goes into (default: the upstream's branch, else the current one).
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,
    /// Who is pushing, for branch-protection rules (default: the server variables, then
    /// `git config vouch.pusher`).
    #[arg(long, value_name = "NAME")]
    pub pusher: Option<String>,
    /// When signatures are judged: `push` (now, as the server judges; the default),
    /// `commit-date` (each commit's own date), or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", default_value = "push")]
    pub clock: String,
    /// Judge the range as this pull request (its forge facts as JSON, see docs/review.md), the
    /// way the bot does: four-eyes review included, no push to judge. `--into` defaults to its
    /// base branch.
    #[arg(long, value_name = "FILE", conflicts_with = "merge_group")]
    pub pull_request: Option<std::path::PathBuf>,
    /// Judge the range as a merge queue group the forge built (the bot's `merge_group` check).
    #[arg(long)]
    pub merge_group: bool,
}

fn upstream(repo: &Repository) -> Option<(String, String)> {
    let head = repo.head().ok()?;
    let branch = git2::Branch::wrap(head);
    let up = branch.upstream().ok()?;
    let tracking = up.get().name().ok()?.to_string();
    let remote_branch = tracking.splitn(4, '/').nth(3)?.to_string();
    Some((tracking, remote_branch))
}

fn clock(text: &str) -> anyhow::Result<Clock> {
    match text {
        "push" | "push-time" => Ok(Clock::PushTime),
        "commit-date" => Ok(Clock::CommitDate),
        t => vouch_rules::time::parse_rfc3339(t)
            .map(Clock::At)
            .ok_or_else(|| {
                UsageError::new(format!(
                    "--clock {t:?} is neither `push`, `commit-date` nor an RFC 3339 time"
                ))
                .hint("e.g. --clock push, --clock commit-date or --clock 2026-01-31T12:00:00Z")
                .into()
            }),
    }
}

/// The update to judge: (old, new, commits to leave out).
fn update_of(repo: &Repository, spec: &str) -> anyhow::Result<(Option<Oid>, Oid, Vec<Oid>)> {
    let bad = |e: vouch_rules::change::range::RangeError| {
        let hint = e
            .hint()
            .unwrap_or("give `A..B` or one revision, e.g. `origin/main..HEAD`");
        UsageError::new(e.to_string()).hint(hint)
    };
    let range = Revisions::parse(repo, spec).map_err(bad)?;
    let tip = |id: Oid| commit_of(repo, id).map_err(bad);
    match range.shape {
        Shape::Between { from, to } => Ok((Some(from), tip(to)?, vec![from])),
        Shape::Ancestry { tip: r } => Ok((None, tip(r)?, ref_tips(repo, Some("refs/remotes/"))?)),
        Shape::Symmetric { .. } => Err(UsageError::new(format!(
            "`vouch check` judges a push, which moves one branch from one commit to another; {spec:?} names two sides"
        ))
        .hint("use `A..B`, or `$(git merge-base A B)..B` for a branch's commits since it forked")
        .into()),
    }
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let up = upstream(&repo);
    let spec = match (&args.range, &up) {
        (Some(r), _) => r.clone(),
        (None, Some((tracking, _))) => format!("{tracking}..HEAD"),
        (None, None) => "HEAD".to_string(),
    };
    let (old, new, exclude) = update_of(&repo, &spec)?;
    let pull_request = match &args.pull_request {
        Some(path) => Some(super::review::read_pull_request(path)?),
        None => None,
    };
    let into = match (&args.into, &up) {
        (None, _) if pull_request.is_some() => pull_request
            .as_ref()
            .map(|p| p.base_ref().trim_start_matches("refs/heads/").to_string())
            .unwrap_or_default(),
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
    let mut change = Change::new(Stage::Push, unix_now());
    change.clock = clock(&args.clock)?;
    change.pusher = args
        .pusher
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .or_else(|| super::pusher(&policy, Some(&repo)));
    change.updates.push(update);
    change.pull_request = pull_request;
    change.merge_group = args.merge_group;
    let verdict = vouch_rules::evaluate(&policy, &change);
    Ok(out.emit(&verdict))
}

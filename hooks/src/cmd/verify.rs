//! `vouch verify [RANGE] [--trust-root COMMIT | --policy DIR | --keys DIR]`: check commit and tag
//! signatures against trusted signers, in-process and in parallel.
//!
//! Whose keys: by default the policy committed on the upstream branch (else the current branch,
//! else the default branch) judges every commit. `--trust-root` audits history the sequoia-git
//! way (each commit by the policy in its parents' trees). `--policy DIR` and `--keys DIR` judge
//! by a policy or a set of keys from outside the repository, for auditing someone else's history.
//! Existing history is judged at each commit's own date unless `--at` says otherwise.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use git2::Repository;
use std::io::Write as _;
use std::path::PathBuf;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::range::{commit_of, Revisions, Shape};
use vouch_rules::change::{unix_now, Change, Clock, RefUpdate, Stage, UpdateKind};
use vouch_rules::policy::{resolve, Policy, PolicyFiles};
use vouch_rules::signatures::{self, audit};
use vouch_rules::{CheckOutcome, PolicySource, Verdict};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The commits to verify, as `git log` reads the range: `A..B`, `A...B`, or one revision
    /// (everything reachable from it; an annotated tag is verified too). Default: the commits
    /// not yet on the upstream (`@{upstream}..HEAD`), or all of HEAD without an upstream.
    pub range: Option<String>,
    /// Audit from COMMIT, trusted as it is: each later commit is judged by the policy in its
    /// parent's tree (a merge passes when one parent's policy accepts it).
    #[arg(long, value_name = "COMMIT", conflicts_with_all = ["policy", "keys", "policy_ref"])]
    pub trust_root: Option<String>,
    /// Judge with the policy committed on REF instead of the upstream's.
    #[arg(long, value_name = "REF", conflicts_with_all = ["policy", "keys"])]
    pub policy_ref: Option<String>,
    /// Judge with the policy in DIR (a folder holding `.vouch/policy.toml` and its keys), not the
    /// repository's: for auditing someone else's history.
    #[arg(long, value_name = "DIR", conflicts_with = "keys")]
    pub policy: Option<PathBuf>,
    /// Trust exactly the keys in DIR (an `allowed_signers` file and/or `*.asc` certificates) and
    /// require every commit signed by one of them.
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Judge at this instant (RFC 3339, e.g. 2026-01-31T12:00:00Z) instead of each commit's date.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// The range to verify: what the user gave, else the commits not on the upstream.
fn revisions(repo: &Repository, spec: Option<&str>) -> anyhow::Result<Revisions> {
    let hint = "give a revision or range git understands, e.g. `origin/main..HEAD` or `v1.0`";
    if let Some(spec) = spec {
        return Revisions::parse(repo, spec).map_err(|e| {
            UsageError::new(e.to_string())
                .hint(e.hint().unwrap_or(hint))
                .into()
        });
    }
    let has_upstream = repo
        .head()
        .ok()
        .filter(|h| h.is_branch())
        .and_then(|h| git2::Branch::wrap(h).upstream().ok())
        .is_some();
    let spec = if has_upstream {
        "@{upstream}..HEAD"
    } else {
        "HEAD"
    };
    Revisions::parse(repo, spec).map_err(|e| {
        UsageError::new(e.to_string())
            .hint(e.hint().unwrap_or("make a first commit, or name a range"))
            .into()
    })
}

/// The ref whose committed policy judges: the upstream branch, else the current branch.
fn policy_ref(repo: &Repository) -> Option<String> {
    let head = repo.head().ok()?;
    if !head.is_branch() {
        return None;
    }
    let name = head.name().ok()?.to_string();
    let upstream = git2::Branch::wrap(head)
        .upstream()
        .ok()
        .and_then(|u| u.get().name().ok().map(str::to_string));
    Some(upstream.unwrap_or(name))
}

/// The policy that judges, when not auditing from a trust root.
fn judging_policy(repo: &Repository, args: &Args) -> anyhow::Result<Policy> {
    let outside = |files: PolicyFiles, dir: &PathBuf| -> anyhow::Result<Policy> {
        Policy::load(files)?.ok_or_else(|| {
            UsageError::new(format!("no .vouch/policy.toml in {}", dir.display()))
                .hint("point --policy at a folder holding .vouch/policy.toml, or use --keys DIR")
                .into()
        })
    };
    if let Some(dir) = &args.keys {
        return outside(PolicyFiles::from_keys_dir(dir)?, dir);
    }
    if let Some(dir) = &args.policy {
        return outside(PolicyFiles::from_dir(dir)?, dir);
    }
    let target = args
        .policy_ref
        .clone()
        .or_else(|| policy_ref(repo))
        .unwrap_or_else(|| "HEAD".to_string());
    Ok(resolve::for_target(repo, &target)?)
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let range = revisions(&repo, args.range.as_deref())?;
    let mut hidden = range
        .hidden(&repo)
        .map_err(|e| UsageError::new(e.to_string()))?;
    let root = match &args.trust_root {
        Some(spec) => {
            let root = trust_root(&repo, spec, &range)?;
            // Everything the root reaches is trusted as it is.
            hidden.push(root);
            Some(root)
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let mut change = Change::new(Stage::Push, unix_now());
    change.clock = match &args.at {
        Some(t) => Clock::At(vouch_rules::time::parse_rfc3339(t).ok_or_else(|| {
            UsageError::new(format!("--at {t:?} is not an RFC 3339 time"))
                .hint("e.g. --at 2026-01-31 or --at 2026-01-31T12:00:00Z")
        })?),
        None => Clock::CommitDate,
    };
    change.updates = gather(&repo, &range, &hidden)?;
    let counted = change.commits().len();
    tracing::info!("read {counted} commit(s) in {:?}", started.elapsed());
    let judging = std::time::Instant::now();
    let verdict = match root {
        None => {
            let policy = judging_policy(&repo, &args)?;
            let trust = signatures::load(&policy)?;
            let judged = signatures::judge_change(&trust, &policy.signatures, &change, out.verbose);
            let source = PolicySource {
                source: policy.describe(),
                digest: policy.digest.clone(),
            };
            let mut verdict = Verdict::new(source, change.now, change.clock);
            verdict.push(CheckOutcome::ran("signatures", judged.findings));
            verdict.evidence.signatures = judged.records;
            verdict
        }
        Some(root) => audit::audit(&repo, root, &change, out.verbose).map_err(|e| {
            let hint = e.hint();
            UsageError::new(e.to_string()).hint(hint)
        })?,
    };
    tracing::info!("judged in {:?}", judging.elapsed());
    if out.format == vouch_rules::report::Format::Text {
        let tags: usize = change.updates.iter().map(|u| u.tags.len()).sum();
        let _ = writeln!(
            std::io::stderr(),
            "vouch: verified {counted} commit(s) and {tags} tag(s) of {}",
            vouch_rules::sanitize::for_terminal(&range.spec)
        );
    }
    Ok(out.emit(&verdict))
}

/// One update per tip of the range (two for `A...B`), bringing the range's commits once.
fn gather(
    repo: &Repository,
    range: &Revisions,
    hidden: &[git2::Oid],
) -> anyhow::Result<Vec<RefUpdate>> {
    let gatherer = Gatherer::new(repo).with_diffs(false);
    let mut updates = Vec::new();
    let mut hide = hidden.to_vec();
    for tip in range.tips() {
        let update = gatherer
            .update(&range.spec, None, Some(tip), &hide)
            .with_context(|| format!("cannot read the commits of {}", range.spec))?;
        // The other side of `A...B` must not bring these commits a second time.
        if let Shape::Symmetric { .. } = range.shape {
            hide.push(commit_of(repo, tip).map_err(|e| UsageError::new(e.to_string()))?);
        }
        updates.push(RefUpdate {
            kind: UpdateKind::Create,
            ..update
        });
    }
    Ok(updates)
}

/// Resolve the trust root, which every tip of the range must descend from (or be).
fn trust_root(repo: &Repository, spec: &str, range: &Revisions) -> anyhow::Result<git2::Oid> {
    let root = repo
        .revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| {
            UsageError::new(format!(
                "cannot resolve trust root {spec:?}: {}",
                e.message()
            ))
            .hint("name a commit whose policy you trust, e.g. the one that added .vouch/")
        })?
        .id();
    for tip in range.tips() {
        let tip = commit_of(repo, tip).map_err(|e| UsageError::new(e.to_string()))?;
        if tip != root && !repo.graph_descendant_of(tip, root).unwrap_or(false) {
            return Err(UsageError::new(format!(
                "the commits to verify do not descend from the trust root {spec}"
            ))
            .hint("choose a trust root in this history (`git merge-base --is-ancestor ROOT HEAD`)")
            .into());
        }
    }
    Ok(root)
}

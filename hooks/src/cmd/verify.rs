//! `vouch verify [RANGE] [--trust-root COMMIT]`: check commit and tag signatures against the
//! repository's trusted signers, in-process and in parallel.
//!
//! Without `--trust-root` every commit is judged by one policy: the one committed on the upstream
//! branch (else the current branch, else the default branch). With it, history is audited the
//! sequoia-git way: each commit is judged by the policy in its parents' trees, starting from the
//! trust root's, so a commit can never vouch for itself.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write as _;
use vouch_rules::change::git::Gatherer;
use vouch_rules::change::{unix_now, Change, Point};
use vouch_rules::policy::{resolve, Policy, PolicyFiles};
use vouch_rules::signatures::{self, Target, Trust};
use vouch_rules::{CheckOutcome, Finding, Verdict};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The commits to verify: a range `A..B`, or one revision (everything reachable from it; an
    /// annotated tag is verified too). Default: the commits not yet on the upstream
    /// (`@{upstream}..HEAD`), or all of HEAD when the branch has no upstream.
    pub range: Option<String>,
    /// Audit from COMMIT, trusted as it is: each later commit is judged by the policy in its
    /// parent's tree (a merge passes when one parent's policy accepts it).
    #[arg(long, value_name = "COMMIT")]
    pub trust_root: Option<String>,
    /// Judge with the policy committed on REF instead of the upstream's (ignored with --trust-root).
    #[arg(long, value_name = "REF")]
    pub policy_ref: Option<String>,
}

/// What to verify: a tip, the commits to leave out, and a name for messages.
struct Range {
    name: String,
    tip: Oid,
    exclude: Vec<Oid>,
}

fn resolve_range(repo: &Repository, spec: Option<&str>) -> anyhow::Result<Range> {
    let bad = |spec: &str, e: git2::Error| {
        UsageError::new(format!("cannot resolve {spec:?}: {}", e.message()))
            .hint("give a revision or range git understands, e.g. `origin/main..HEAD` or `v1.0`")
    };
    if let Some(spec) = spec {
        let rev = repo.revparse(spec).map_err(|e| bad(spec, e))?;
        if rev.mode().contains(git2::RevparseMode::MERGE_BASE) {
            return Err(UsageError::new("`A...B` ranges are not supported")
                .hint("use `A..B`")
                .into());
        }
        return match (rev.from(), rev.to()) {
            (Some(from), Some(to)) => Ok(Range {
                name: spec.to_string(),
                tip: to.id(),
                exclude: vec![from.id()],
            }),
            (Some(single), None) | (None, Some(single)) => Ok(Range {
                name: spec.to_string(),
                tip: single.id(),
                exclude: Vec::new(),
            }),
            (None, None) => Err(UsageError::new(format!("{spec:?} names nothing")).into()),
        };
    }
    let head = repo.head().map_err(|e| bad("HEAD", e))?;
    let tip = head.peel_to_commit().map_err(|e| bad("HEAD", e))?.id();
    let name = head.name().unwrap_or("HEAD").to_string();
    let upstream = head
        .is_branch()
        .then(|| git2::Branch::wrap(head).upstream().ok())
        .flatten()
        .and_then(|u| u.get().peel_to_commit().ok().map(|c| c.id()));
    Ok(Range {
        name,
        tip,
        exclude: upstream.into_iter().collect(),
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

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let mut range = resolve_range(&repo, args.range.as_deref())?;
    let root = match &args.trust_root {
        Some(spec) => {
            let root = trust_root(&repo, spec, range.tip)?;
            // Everything the root reaches is trusted as it is.
            range.exclude.push(root);
            Some(root)
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let gatherer = Gatherer::new(&repo).with_diffs(false);
    let mut change = Change::new(Point::Cli, unix_now());
    let update = gatherer
        .update(&range.name, None, Some(range.tip), &range.exclude)
        .with_context(|| format!("cannot read the commits of {}", range.name))?;
    change.updates.push(update);
    tracing::info!(
        "read {} commit(s) in {:?}",
        change.commits().len(),
        started.elapsed()
    );
    let judging = std::time::Instant::now();
    let (verdict, counted) = match root {
        None => {
            let target = args
                .policy_ref
                .clone()
                .or_else(|| policy_ref(&repo))
                .unwrap_or_else(|| "HEAD".to_string());
            let policy = resolve::for_target(&repo, &target)?;
            let trust = signatures::load(&policy)?;
            let findings = signatures::judge_change_reporting(
                &trust,
                &policy.signatures,
                &change,
                out.verbose,
            );
            let mut verdict = Verdict::new(policy.describe());
            verdict.push(CheckOutcome::ran("signatures", findings));
            (verdict, change.commits().len())
        }
        Some(root) => audit(&repo, root, &change, out.verbose)?,
    };
    tracing::info!("judged in {:?}", judging.elapsed());
    if out.format == vouch_rules::report::Format::Text {
        let tags: usize = change.updates.iter().map(|u| u.tags.len()).sum();
        let _ = writeln!(
            std::io::stderr(),
            "vouch: verified {counted} commit(s) and {tags} tag(s) of {}",
            vouch_rules::sanitize::for_terminal(&range.name)
        );
    }
    Ok(out.emit(&verdict))
}

/// One policy and its signers, loaded once per distinct `.vouch/` tree.
struct Judge {
    policy: Policy,
    trust: Trust,
}

/// Resolve the trust root, which must be an ancestor of (or equal to) `tip`.
fn trust_root(repo: &Repository, spec: &str, tip: Oid) -> anyhow::Result<Oid> {
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
    let tip = repo
        .find_object(tip, None)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .unwrap_or(tip);
    if tip != root && !repo.graph_descendant_of(tip, root).unwrap_or(false) {
        return Err(UsageError::new(format!(
            "the commits to verify do not descend from the trust root {spec}"
        ))
        .hint("choose a trust root in this history (`git merge-base --is-ancestor ROOT HEAD`)")
        .into());
    }
    Ok(root)
}

/// Judge every commit of `change` (those after `root_id`) by its parents' policies.
fn audit(
    repo: &Repository,
    root_id: Oid,
    change: &Change,
    report_good: bool,
) -> anyhow::Result<(Verdict, usize)> {
    let update = &change.updates[0];
    let root_policy = resolve::at_commit(repo, root_id)?.ok_or_else(|| {
        UsageError::new(format!(
            "the trust root {root_id} has no .vouch/policy.toml"
        ))
        .hint("choose a commit that has a policy (`git log --diff-filter=A -- .vouch/policy.toml`)")
    })?;
    let commits: Vec<_> = update.commits.iter().collect();
    let tip = commits.first().and_then(|c| Oid::from_str(&c.id).ok());

    // The policy of every parent, loaded once per distinct .vouch tree.
    let mut judges: Vec<Option<Judge>> = Vec::new();
    let mut by_tree: HashMap<Option<Oid>, usize> = HashMap::new();
    let mut of_parent: HashMap<String, usize> = HashMap::new();
    let vouch_tree = |id: Oid| -> anyhow::Result<(Option<Oid>, git2::Tree<'_>)> {
        let tree = repo.find_commit(id)?.tree()?;
        let sub = tree
            .get_path(std::path::Path::new(vouch_rules::policy::VOUCH_DIR))
            .ok()
            .map(|e| e.id());
        Ok((sub, tree))
    };
    for commit in &commits {
        for parent in &commit.parents {
            if of_parent.contains_key(parent) {
                continue;
            }
            let pid = Oid::from_str(parent)?;
            let (sub, tree) = vouch_tree(pid)?;
            let index = match by_tree.get(&sub) {
                Some(&i) => i,
                None => {
                    let judge = if pid == root_id {
                        Some(root_policy.clone())
                    } else {
                        Policy::load(PolicyFiles::from_tree(repo, &tree, parent.clone())?)?
                    }
                    .map(|policy| -> anyhow::Result<Judge> {
                        let trust = signatures::load(&policy)?;
                        Ok(Judge { policy, trust })
                    })
                    .transpose()?;
                    judges.push(judge);
                    by_tree.insert(sub, judges.len() - 1);
                    judges.len() - 1
                }
            };
            of_parent.insert(parent.clone(), index);
        }
    }

    let clock = signatures::clock_for(change);
    let findings: Vec<Finding> = commits
        .par_iter()
        .flat_map_iter(|commit| {
            let target = Target::Commit(update, commit);
            let mut first: Option<Vec<Finding>> = None;
            for parent in &commit.parents {
                let judge = of_parent.get(parent).and_then(|&i| judges[i].as_ref());
                let Some(judge) = judge else {
                    first.get_or_insert_with(|| {
                        vec![Finding::error(
                            "signatures.no-policy",
                            format!(
                                "commit {} cannot be judged: its parent {} has no .vouch/policy.toml",
                                vouch_rules::finding::short_id(&commit.id),
                                vouch_rules::finding::short_id(parent)
                            ),
                        )
                        .at(vouch_rules::Location::commit(&commit.id).with_ref(&update.name))
                        .hint("audit from a later trust root, after the policy was added")]
                    });
                    continue;
                };
                let v = signatures::verify_commit(&judge.trust, &judge.policy.signatures, commit, clock);
                let found = signatures::findings_with(&v, &target, &judge.trust, report_good);
                if v.accepted {
                    return found;
                }
                first.get_or_insert(found);
            }
            first.unwrap_or_default()
        })
        .collect();
    let mut verdict = Verdict::new(format!(
        "trust root {}: each commit judged by the policy in its parent's tree",
        vouch_rules::finding::short_id(&root_id.to_string())
    ));
    let mut findings = findings;
    // A tag is judged by the policy in the tree of the commit it tags, as if that were its parent.
    if !update.tags.is_empty() {
        if let Some(tip) = tip {
            if let Some(policy) = resolve::at_commit(repo, tip)? {
                let trust = signatures::load(&policy)?;
                for tag in &update.tags {
                    let v = signatures::verify_tag(&trust, &policy.signatures, tag, clock);
                    findings.extend(signatures::findings_with(
                        &v,
                        &Target::Tag(update, tag),
                        &trust,
                        report_good,
                    ));
                }
            }
        }
    }
    verdict.push(CheckOutcome::ran("signatures", findings));
    Ok((verdict, commits.len()))
}

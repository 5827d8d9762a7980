//! `vouch hook <name>`: what the installed hook scripts run.
//!
//! - pre-commit: the staged changes (read from the index, never the working tree);
//! - commit-msg: the message being written;
//! - pre-push: each pushed ref, judged by the remote's copy of the target branch's policy;
//! - pre-receive / update: the server's authoritative judgement, inside git's quarantine.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use anyhow::Context as _;
use git2::{Oid, Repository};
use std::io::Read;
use vouch_rules::change::git::{ref_tips, Gatherer};
use vouch_rules::change::{is_zero_id, unix_now, Change, PendingMessage, Stage};
use vouch_rules::policy::resolve;
use vouch_rules::{Policy, Verdict};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The hook: pre-commit, commit-msg, pre-push, pre-receive or update.
    pub name: String,
    /// The arguments git passed to the hook.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    let repo = super::open_repo()?;
    let verdict = match args.name.as_str() {
        "pre-commit" => pre_commit(&repo)?,
        "commit-msg" => commit_msg(&repo, &args.args)?,
        "pre-push" => pre_push(&repo, &args.args, &read_stdin()?)?,
        "pre-receive" => pre_receive(&repo, &read_stdin()?)?,
        "update" => update(&repo, &args.args)?,
        other => {
            return Err(UsageError::new(format!("vouch has no {other:?} hook"))
                .hint("hooks are pre-commit, commit-msg, pre-push, pre-receive and update")
                .into())
        }
    };
    Ok(out.emit_hook(&verdict))
}

fn read_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the hook's input")?;
    Ok(input)
}

fn policy_for(repo: &Repository, target: &str) -> anyhow::Result<Policy> {
    Ok(resolve::for_target(repo, target)?)
}

fn needs_diffs(policy: &Policy) -> bool {
    policy.secrets.enabled
}

/// Whether an update of `name` needs each commit's added lines: for secret scanning, or
/// because it adds attestation notes, whose bytes the attestation check verifies.
fn needs_diffs_for(policy: &Policy, name: &str) -> bool {
    needs_diffs(policy) || (policy.attestation.enabled && policy.attestation.notes_ref == name)
}

fn pre_commit(repo: &Repository) -> anyhow::Result<Verdict> {
    let branch = resolve::head_branch(repo).unwrap_or_else(|| "HEAD".into());
    let policy = policy_for(repo, &branch)?;
    let mut change = Change::new(Stage::Commit, unix_now());
    if needs_diffs(&policy) {
        change.staged = Gatherer::new(repo).staged()?;
    }
    Ok(vouch_rules::evaluate(&policy, &change))
}

fn commit_msg(repo: &Repository, args: &[String]) -> anyhow::Result<Verdict> {
    let Some(file) = args.first() else {
        return Err(UsageError::new("commit-msg needs the message file as its argument").into());
    };
    let text =
        std::fs::read(file).with_context(|| format!("cannot read the commit message {file}"))?;
    let branch = resolve::head_branch(repo);
    let policy = policy_for(repo, branch.as_deref().unwrap_or("HEAD"))?;
    let author_email = std::env::var("GIT_AUTHOR_EMAIL")
        .ok()
        .or_else(|| {
            repo.signature()
                .ok()
                .and_then(|s| s.email().ok().map(str::to_string))
        })
        .unwrap_or_default();
    let mut change = Change::new(Stage::Message, unix_now());
    change.message = Some(PendingMessage {
        text: String::from_utf8_lossy(&text).into_owned(),
        author_email,
        branch,
    });
    Ok(vouch_rules::evaluate(&policy, &change))
}

fn parse_id(text: &str, what: &str) -> anyhow::Result<Option<Oid>> {
    if is_zero_id(text) {
        return Ok(None);
    }
    Oid::from_str(text)
        .map(Some)
        .map_err(|_| UsageError::new(format!("hook input has a bad {what} id {text:?}")).into())
}

fn push_options() -> Vec<String> {
    let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (0..count)
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect()
}

fn pre_push(repo: &Repository, args: &[String], input: &str) -> anyhow::Result<Verdict> {
    let remote = args.first().map(String::as_str).unwrap_or("origin");
    let tracking: Vec<Oid> = ref_tips(repo, Some(&format!("refs/remotes/{remote}/")))?;
    let mut verdict: Option<Verdict> = None;
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_local_ref, local_id, remote_ref, remote_id] = fields[..] else {
            return Err(UsageError::new(format!("unexpected pre-push input line {line:?}")).into());
        };
        let new = parse_id(local_id, "local")?;
        let old = parse_id(remote_id, "remote")?;
        // The remote's own copy of the target branch holds the policy that will judge the push.
        let policy = resolve::for_remote_target(repo, remote, remote_ref)?;
        let mut exclude = tracking.clone();
        exclude.extend(old);
        let update = Gatherer::new(repo)
            .with_diffs(needs_diffs_for(&policy, remote_ref))
            .update(remote_ref, old, new, &exclude)?;
        let mut change = Change::new(Stage::Push, unix_now());
        change.pusher = super::pusher(&policy, Some(repo));
        change.updates.push(update);
        add(&mut verdict, vouch_rules::evaluate(&policy, &change));
    }
    Ok(verdict.unwrap_or_else(|| Verdict::empty("nothing pushed", unix_now())))
}

/// Fold one ref's verdict into the push's.
fn add(verdict: &mut Option<Verdict>, v: Verdict) {
    match verdict {
        Some(all) => all.absorb(v),
        None => *verdict = Some(v),
    }
}

/// Judge server-side ref updates. Inside the quarantine no ref has moved yet, so "existing refs"
/// are the repository's refs as they were before the push.
fn judge_server(
    repo: &Repository,
    updates: &[(String, Option<Oid>, Option<Oid>)],
) -> anyhow::Result<Verdict> {
    let all_tips = ref_tips(repo, None)?;
    let mut verdict: Option<Verdict> = None;
    for (name, old, new) in updates {
        let policy = policy_for(repo, name)?;
        // A new ref brings only commits no existing ref has; an update brings old..new.
        let exclude: Vec<Oid> = match old {
            None => all_tips.clone(),
            Some(o) => vec![*o],
        };
        let update = Gatherer::new(repo)
            .with_diffs(needs_diffs_for(&policy, name))
            .update(name, *old, *new, &exclude)?;
        let mut change = Change::new(Stage::Push, unix_now());
        change.pusher = super::pusher(&policy, None);
        change.push_options = push_options();
        change.updates.push(update);
        add(&mut verdict, vouch_rules::evaluate(&policy, &change));
    }
    Ok(verdict.unwrap_or_else(|| Verdict::empty("nothing pushed", unix_now())))
}

fn pre_receive(repo: &Repository, input: &str) -> anyhow::Result<Verdict> {
    let mut updates = Vec::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [old, new, name] = fields[..] else {
            return Err(
                UsageError::new(format!("unexpected pre-receive input line {line:?}")).into(),
            );
        };
        updates.push((
            name.to_string(),
            parse_id(old, "old")?,
            parse_id(new, "new")?,
        ));
    }
    judge_server(repo, &updates)
}

fn update(repo: &Repository, args: &[String]) -> anyhow::Result<Verdict> {
    let [name, old, new] = args else {
        return Err(UsageError::new("the update hook takes <ref> <old> <new>").into());
    };
    let updates = [(name.clone(), parse_id(old, "old")?, parse_id(new, "new")?)];
    judge_server(repo, &updates)
}

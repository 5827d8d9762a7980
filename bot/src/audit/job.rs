//! The bot's posture audit, one queued job per repository: on a schedule (`audit_interval`)
//! and whenever a settings event arrives (branch protection, rulesets, members, teams, the
//! organisation, the repository, deploy keys). The policy is the default branch's, read from
//! the mirror like every other job's; the verdict is the rules engine's posture check.
//!
//! The result goes to a `vouch: posture` check run on the default branch's head and to the
//! repository's self-updating [`issue`](super::issue). With `audit_fix` the engine's plan is
//! applied first (it never loosens a stricter setting) and the settings are read again, so the
//! report shows what holds after the repair.

use super::{apply, gather, issue, judge, Target};
use crate::checkrun;
use crate::evaluate::{self, JudgeError};
use crate::events::{audit_job, POSTURE_CHECK};
use crate::github::As;
use crate::queue::{Job, NewJob};
use crate::worker::Bot;
use serde_json::Value;
use tracing::{info, warn};
use vouch_rules::finding::Finding;
use vouch_rules::posture::{self, Plan};
use vouch_rules::time::{iso, unix_now};
use vouch_rules::Verdict;

/// How an audit job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audited {
    /// One repository audited: the check run's conclusion, and what happened to the issue.
    Repository {
        conclusion: &'static str,
        issue: issue::Outcome,
    },
    /// An installation's audit, split into this many newly queued repository audits.
    Queued(usize),
}

fn findings(v: &Verdict) -> Vec<Finding> {
    v.findings().cloned().collect()
}

/// Run one audit job.
pub async fn run(bot: &Bot, job: &Job) -> Result<Audited, JudgeError> {
    let j = &job.job;
    if j.repo.is_empty() {
        return expand(bot, j).await.map(Audited::Queued);
    }
    let gh = &bot.github;
    let repository = gh.repository(j.installation, &j.repo).await?;
    let branch = repository.default_branch.clone();
    let (policy, head) = {
        let held = bot.mirrors.hold(&j.repo).await?;
        let sync = NewJob {
            base: branch.clone(),
            ..j.clone()
        };
        evaluate::sync_mirror(
            gh,
            &bot.mirrors,
            &held,
            &sync,
            &repository.clone_url,
            &branch,
        )
        .await?;
        let head = evaluate::branch_tip(&held, &branch).await?;
        let (policy, _) = evaluate::base_policy(&held, &branch).await?;
        (policy, head)
    };
    let who = As::Installation(j.installation);
    let target = Target {
        repo: j.repo.clone(),
        org: None,
        app_id: i64::try_from(gh.app_id()).ok(),
    };
    let mut facts = gather(gh, who, &policy, &target).await?;
    let mut verdict = judge(&policy, facts.clone(), unix_now());
    let mut plan = posture::plan(&policy, &facts, &findings(&verdict));
    let (mut applied, mut failed) = (Vec::new(), Vec::new());
    if bot.config.audit_fix && plan.fixable().next().is_some() {
        for action in plan.fixable() {
            match apply::apply(gh, who, &j.repo, action).await {
                Ok(()) => {
                    info!(repo = %j.repo, %action, "audit_fix: applied");
                    applied.push(action.to_string());
                }
                // Worth another try: the job is retried and plans again from what is there.
                Err(e) if e.retryable() => return Err(e.into()),
                Err(e) => {
                    warn!(repo = %j.repo, %action, error = %e, "audit_fix: could not apply");
                    failed.push(format!("{action}: {e}"));
                }
            }
        }
        facts = gather(gh, who, &policy, &target).await?;
        verdict = judge(&policy, facts.clone(), unix_now());
        plan = posture::plan(&policy, &facts, &findings(&verdict));
    }
    let report = report(
        &j.repo,
        &verdict,
        &plan,
        &applied,
        &failed,
        bot.config.audit_fix,
    );
    match &head {
        Some(head) => check_run(bot, job, head, &report).await?,
        None => {
            warn!(repo = %j.repo, %branch, "the default branch has no commit to put the posture check run on; the issue still shows the audit")
        }
    }
    let body = issue::body(&j.repo, &verdict, &plan, &applied, &failed);
    let outcome = issue::publish(gh, j.installation, &j.repo, verdict.passed(), &body).await?;
    info!(repo = %j.repo, conclusion = report.conclusion, issue = ?outcome, "posture audited");
    Ok(Audited::Repository {
        conclusion: report.conclusion,
        issue: outcome,
    })
}

/// The check run's report: the verdict, then the plan and how to reproduce the audit.
fn report(
    repo: &str,
    verdict: &Verdict,
    plan: &Plan,
    applied: &[String],
    failed: &[String],
    fix: bool,
) -> checkrun::Report {
    let mut text = String::new();
    let list = |title: &str, items: &mut dyn Iterator<Item = String>, text: &mut String| {
        let items: Vec<String> = items.collect();
        if !items.is_empty() {
            text.push_str(&format!("### {title}\n\n"));
            for i in items {
                text.push_str(&format!("- {}\n", vouch_rules::report::escape_markdown(&i)));
            }
            text.push('\n');
        }
    };
    list(
        "Applied by the bot",
        &mut applied.iter().cloned(),
        &mut text,
    );
    list(
        "Fixes that could not be applied",
        &mut failed.iter().cloned(),
        &mut text,
    );
    if !verdict.passed() {
        list(
            if fix {
                "Still to do (not fixable through the API)"
            } else {
                "Plan"
            },
            &mut plan.actions.iter().map(ToString::to_string),
            &mut text,
        );
    }
    text.push_str(&format!(
        "Reproduce with `vouch audit --repo {repo}` in a clone of the repository (a token with `Administration: read`); `--fix` applies the plan."
    ));
    checkrun::report(verdict, &text)
}

/// The posture check run on `head`, written complete in one request (posture findings point
/// at settings, not file lines, so there are no annotation batches to send after it).
async fn check_run(
    bot: &Bot,
    job: &Job,
    head: &str,
    report: &checkrun::Report,
) -> Result<(), JudgeError> {
    let now = iso(unix_now());
    let mut bodies = checkrun::completion(report, &now).into_iter();
    let mut create = checkrun::started(POSTURE_CHECK, head, &job.id.to_string(), &now);
    let first = bodies.next().unwrap_or(Value::Null);
    if let (Value::Object(into), Value::Object(from)) = (&mut create, first) {
        into.extend(from);
    }
    let id = bot
        .github
        .create_check_run(job.job.installation, &job.job.repo, &create)
        .await?;
    for body in bodies {
        bot.github
            .update_check_run(job.job.installation, &job.job.repo, id, &body)
            .await?;
    }
    Ok(())
}

/// Queue an audit of each repository of the installation; how many were new.
async fn expand(bot: &Bot, j: &NewJob) -> Result<usize, JudgeError> {
    let mut queued = 0;
    for repo in bot.github.installation_repositories(j.installation).await? {
        if bot
            .queue
            .enqueue(&audit_job(j.installation, &repo.full_name))
            .await
            .map_err(|e| JudgeError::Internal(e.to_string()))?
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// A failed audit (after its retries) as a failed `vouch: posture` check run on the default
/// branch's head as the mirror last saw it: an audit that cannot run does not pass.
pub async fn post_failure(bot: &Bot, job: &Job, why: &str) -> Result<(), JudgeError> {
    let j = &job.job;
    if j.repo.is_empty() {
        return Ok(());
    }
    let repository = bot.github.repository(j.installation, &j.repo).await?;
    let head = {
        let held = bot.mirrors.hold(&j.repo).await?;
        evaluate::branch_tip(&held, &repository.default_branch).await?
    };
    let Some(head) = head else {
        warn!(repo = %j.repo, "no default branch head in the mirror for the failed posture check run");
        return Ok(());
    };
    let report = checkrun::could_not_judge(why, job.attempt);
    check_run(bot, job, &head, &report).await
}

/// Queue an audit of every installation's repositories: at start and every `audit_interval`.
pub async fn schedule(bot: &Bot) -> Result<usize, JudgeError> {
    let mut queued = 0;
    for installation in bot.github.installations().await? {
        if bot
            .queue
            .enqueue(&audit_job(installation, ""))
            .await
            .map_err(|e| JudgeError::Internal(e.to_string()))?
        {
            queued += 1;
        }
    }
    if queued > 0 {
        bot.wake.notify_waiters();
    }
    Ok(queued)
}

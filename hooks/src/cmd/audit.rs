//! `vouch audit --repo OWNER/NAME`: the forge's settings around a repository (branch
//! protection, rulesets and their bypass actors, 2FA, collaborators, teams, deploy keys) held
//! to the policy by the same posture check the bot runs, and with `--fix` the rules engine's
//! plan applied. The token comes from `GITHUB_TOKEN` and is never printed.
//!
//! The plan is printed first (`--dry-run`, the default, stops there); `--fix` applies what the
//! API can change, reads the settings again and reports the audit after the repair.

use crate::exit::{Outcome, UsageError};
use crate::output::Output;
use secrecy::SecretString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use vouch_bot::audit::{apply, gather, judge, Target};
use vouch_bot::github::{As, GitHub};
use vouch_rules::change::unix_now;
use vouch_rules::policy::{resolve, Policy, PolicyFiles};
use vouch_rules::posture::{self, Plan};
use vouch_rules::report::Format;
use vouch_rules::sanitize::for_terminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository, `OWNER/NAME`.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: String,
    /// The organisation whose settings apply (default: the owner, when it is one).
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// The vouch App's id, that the `vouch: <branch>` check must come from.
    #[arg(long, value_name = "N", env = "VOUCH_APP_ID")]
    pub app_id: Option<i64>,
    /// Apply the fix plan through the API, then audit again.
    #[arg(long, conflicts_with = "dry_run")]
    pub fix: bool,
    /// Print the plan without applying it (the default).
    #[arg(long)]
    pub dry_run: bool,
    /// Read the policy from this folder instead of the repository's default branch here.
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// The REST API's base URL.
    #[arg(
        long,
        value_name = "URL",
        env = "GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub api_url: String,
}

fn load_policy(args: &Args) -> anyhow::Result<Policy> {
    if let Some(dir) = &args.policy {
        return Policy::load(PolicyFiles::from_dir(dir)?)?.ok_or_else(|| {
            UsageError::new(format!(
                "no .vouch/policy.toml in {}",
                for_terminal(&dir.display().to_string())
            ))
            .hint("point --policy at a folder holding .vouch/policy.toml")
            .into()
        });
    }
    let repo = super::open_repo().map_err(|_| {
        UsageError::new("no policy to audit against")
            .hint("run inside a clone of the repository, or pass --policy DIR")
    })?;
    let branch = resolve::default_branch(&repo).unwrap_or_else(|| "main".into());
    Ok(resolve::for_target(&repo, &format!("refs/heads/{branch}"))?)
}

fn print_plan(plan: &Plan, applying: bool, out: &Output) {
    let mut text = String::new();
    if plan.actions.is_empty() {
        text.push_str("plan: nothing to change\n");
    } else {
        text.push_str(if applying {
            "applying:\n"
        } else {
            "plan (run with --fix to apply):\n"
        });
        for a in &plan.actions {
            text.push_str(&format!("  - {}\n", for_terminal(&a.to_string())));
        }
    }
    // Machine formats keep stdout to the report itself.
    if out.format == Format::Text {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    } else {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

pub fn run(args: Args, out: &Output) -> anyhow::Result<Outcome> {
    if args.repo.split('/').filter(|p| !p.is_empty()).count() != 2 {
        return Err(UsageError::new(format!(
            "--repo {:?} is not OWNER/NAME",
            for_terminal(&args.repo)
        ))
        .hint("name the repository as it appears on GitHub, e.g. --repo acme/app")
        .into());
    }
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        UsageError::new("no GITHUB_TOKEN in the environment")
            .hint("export GITHUB_TOKEN=… (a token with Administration: read on the repository; write to use --fix)")
    })?;
    let policy = load_policy(&args)?;
    let gh = GitHub::with_token(
        &args.api_url,
        SecretString::from(token),
        Arc::new(vouch_bot::metrics::Metrics::new()),
    )?;
    let target = Target {
        repo: args.repo.clone(),
        org: args.org.clone(),
        app_id: args.app_id,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cannot_read = |e: vouch_bot::github::GithubError| {
        anyhow::Error::from(
            UsageError::new(format!("cannot read {}: {e}", for_terminal(&args.repo)))
                .hint("check --repo and that GITHUB_TOKEN can read the repository"),
        )
    };
    let facts = runtime
        .block_on(gather(&gh, As::Token, &policy, &target))
        .map_err(cannot_read)?;
    let verdict = judge(&policy, facts.clone(), unix_now());
    let findings: Vec<_> = verdict.findings().cloned().collect();
    let plan = posture::plan(&policy, &facts, &findings);
    if !args.fix || args.dry_run {
        let outcome = out.emit(&verdict);
        print_plan(&plan, false, out);
        return Ok(outcome);
    }
    print_plan(&plan, true, out);
    for action in plan.fixable() {
        runtime
            .block_on(apply::apply(&gh, As::Token, &args.repo, action))
            .map_err(|e| {
                UsageError::new(format!("could not apply \"{action}\": {e}"))
                    .hint("the token needs write access to the settings it changes (Administration: write)")
            })?;
    }
    let after = runtime
        .block_on(gather(&gh, As::Token, &policy, &target))
        .map_err(cannot_read)?;
    Ok(out.emit(&judge(&policy, after, unix_now())))
}

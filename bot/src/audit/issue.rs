//! The one issue per repository that shows the posture audit's gaps: opened when a setting
//! falls short of the policy, edited when the gaps change, closed when everything holds, and
//! reopened if a gap comes back. The bot finds its issue again by author (the App's bot user)
//! and a marker line, so nothing but GitHub has to remember it.

use crate::github::{GitHub, GithubError};
use serde_json::json;
use vouch_rules::posture::Plan;
use vouch_rules::report::{escape_markdown, to_markdown};
use vouch_rules::Verdict;

/// The first line of the issue's body, how the bot tells its issue from any other.
pub const MARKER: &str = "<!-- vouch: posture audit (this issue updates itself) -->";
pub const TITLE: &str = "vouch: this repository's settings do not meet its policy";

/// What the issue's body says: the verdict, then what to do about it. The same findings give
/// the same text (no times in it), so the issue is edited only when the gaps change.
pub fn body(
    repo: &str,
    verdict: &Verdict,
    plan: &Plan,
    applied: &[String],
    failed: &[String],
) -> String {
    let mut out = format!("{MARKER}\n\n");
    if verdict.passed() {
        out.push_str("Every setting the audit checks now meets the policy; closing.\n\n");
    } else {
        out.push_str(
            "The forge's settings around this repository fall short of its vouch policy \
             (`.vouch/policy.toml` on the default branch). Each finding names the setting, its \
             current and required value, and who can change it. This issue is edited when the \
             findings change and closed when everything holds.\n\n",
        );
    }
    out.push_str(&to_markdown(verdict));
    if !applied.is_empty() {
        out.push_str("\n### Applied by the bot (`audit_fix`)\n\n");
        for a in applied {
            out.push_str(&format!("- {}\n", escape_markdown(a)));
        }
    }
    if !failed.is_empty() {
        out.push_str("\n### Fixes that could not be applied\n\n");
        for a in failed {
            out.push_str(&format!("- {}\n", escape_markdown(a)));
        }
    }
    if !verdict.passed() && !plan.actions.is_empty() {
        out.push_str("\n### The plan that closes these gaps\n\n");
        for a in &plan.actions {
            out.push_str(&format!("- {}\n", escape_markdown(&a.to_string())));
        }
        out.push_str(&format!(
            "\nApply it with `vouch audit --repo {} --fix` (a token with `Administration: write`), \
             or set `audit_fix = true` in the bot's configuration. Nothing already stricter than \
             the policy is loosened.\n",
            escape_markdown(repo)
        ));
    }
    out
}

/// What happened to the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Opened(u64),
    Edited(u64),
    Reopened(u64),
    Closed(u64),
    /// Nothing to change (the issue, if any, already says this).
    Unchanged(Option<u64>),
}

fn same(a: &str, b: &str) -> bool {
    a.replace("\r\n", "\n").trim() == b.replace("\r\n", "\n").trim()
}

/// Bring the repository's posture issue in line with `body`: `passed` closes it.
pub async fn publish(
    gh: &GitHub,
    installation: i64,
    repo: &str,
    passed: bool,
    body: &str,
) -> Result<Outcome, GithubError> {
    let login = gh.app_login().await?;
    let mine = gh
        .issues_by(installation, repo, &login)
        .await?
        .into_iter()
        .filter(|i| i.body.trim_start().starts_with(MARKER))
        .max_by_key(|i| i.number);
    Ok(match (passed, mine) {
        (false, None) => {
            let n = gh
                .create_issue(installation, repo, &json!({"title": TITLE, "body": body}))
                .await?;
            Outcome::Opened(n)
        }
        (false, Some(i)) if i.open && same(&i.body, body) => Outcome::Unchanged(Some(i.number)),
        (false, Some(i)) if i.open => {
            gh.update_issue(
                installation,
                repo,
                i.number,
                &json!({"title": TITLE, "body": body}),
            )
            .await?;
            Outcome::Edited(i.number)
        }
        (false, Some(i)) => {
            gh.update_issue(
                installation,
                repo,
                i.number,
                &json!({"title": TITLE, "body": body, "state": "open"}),
            )
            .await?;
            Outcome::Reopened(i.number)
        }
        (true, Some(i)) if i.open => {
            gh.update_issue(
                installation,
                repo,
                i.number,
                &json!({"body": body, "state": "closed", "state_reason": "completed"}),
            )
            .await?;
            Outcome::Closed(i.number)
        }
        (true, i) => Outcome::Unchanged(i.map(|i| i.number)),
    })
}

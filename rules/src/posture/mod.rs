//! The posture audit: the forge's settings around a repository held to the policy.
//!
//! The change carries [`Posture`] facts (read by `vouch audit` or the bot); this check compares
//! each protected branch's *effective* protection — classic protection and every active ruleset,
//! each with who can bypass it — with the `[[branch]]` rules, and the organisation's and
//! repository's access settings with `[access]` and `[roles]`. Each finding names the setting,
//! its current and required value (`setting`, `current`, `required` properties) and who can fix
//! it. A fact that could not be read fails the requirements that need it, naming the permission
//! that was missing. [`tier`] computes the OpenSSF Scorecard Branch-Protection tier the
//! default branch reaches and [`plan`] the settings that make the audit pass.

mod access;
mod branch;
pub mod plan;
pub mod tier;

#[cfg(test)]
mod tests;

use crate::change::posture::Posture;
use crate::change::Change;
use crate::check::{Check, CheckError};
use crate::finding::{Finding, Location};
use crate::policy::Policy;
use crate::verdict::Evidence;

pub use branch::{needs_for, Need};
pub use plan::{plan, Action, Plan};
pub use tier::{tier, Tier};

/// Who can change a setting.
pub const REPO_ADMIN: &str = "repository admin";
pub const ORG_OWNER: &str = "organisation owner";

/// The posture check.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostureCheck;

impl Check for PostureCheck {
    fn id(&self) -> &'static str {
        "posture"
    }

    fn skip_reason(&self, _policy: &Policy, change: &Change) -> Option<String> {
        match change.posture {
            None => Some("the change carries no forge settings (run `vouch audit`)".into()),
            Some(_) => None,
        }
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        _evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let Some(posture) = &change.posture else {
            return Ok(Vec::new());
        };
        Ok(audit(policy, posture, change.now))
    }
}

/// Every finding about `posture` under `policy`, judged at `now` (Unix seconds).
pub fn audit(policy: &Policy, posture: &Posture, now: i64) -> Vec<Finding> {
    let mut findings = branch::judge(policy, posture);
    findings.extend(access::judge(policy, posture, now));
    let t = tier(posture);
    findings.push(
        Finding::note(
            "posture.scorecard-tier",
            format!(
                "the default branch {} reaches OpenSSF Scorecard Branch-Protection tier {} ({}/10)",
                posture.default_branch, t.tier, t.score
            ),
        )
        .at(Location::reference(format!(
            "refs/heads/{}",
            posture.default_branch
        )))
        .property("tier", t.tier.to_string())
        .property("score", t.score.to_string())
        .property("next", t.next.clone().unwrap_or_else(|| "none".into())),
    );
    findings
}

/// A finding about a setting: what it is, what it is now, what the policy needs, who can fix it.
pub(crate) fn setting(
    rule: &str,
    message: String,
    setting: &str,
    current: &str,
    required: &str,
    fix_by: &str,
) -> Finding {
    Finding::error(rule, message)
        .property("setting", setting)
        .property("current", current)
        .property("required", required)
        .property("fix_by", fix_by)
}

/// A requirement that cannot be judged because a fact is unknown: fails closed.
pub(crate) fn unreadable(what: &str, missing: &str, fix_by: &str) -> Finding {
    Finding::error(
        "posture.unreadable",
        format!("cannot tell whether {what}: {missing}"),
    )
    .hint("grant the audit's token the permission named here and run it again; until then this requirement fails")
    .property("setting", what)
    .property("current", "unknown")
    .property("required", "readable")
    .property("fix_by", fix_by)
}

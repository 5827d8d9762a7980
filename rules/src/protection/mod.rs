//! Branch and tag protection: which ref updates a push may make.
//!
//! `[[branch]]` rules refuse deleting a protected branch, rewriting its history, and (with
//! `require_review`) pushing to it directly except by the identities in `push_allow`.
//! `[[tag]]` rules refuse moving or deleting a protected tag, and can limit who creates one.

use crate::change::{Change, RefUpdate, Stage, UpdateKind};
use crate::check::{Check, CheckError};
use crate::finding::{Finding, Location};
use crate::policy::{Policy, RefKind, RefRule};
use crate::verdict::Evidence;

/// The protection check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protection;

impl Check for Protection {
    fn id(&self) -> &'static str {
        "protection"
    }

    fn skip_reason(&self, policy: &Policy, change: &Change) -> Option<String> {
        if change.stage != Stage::Push {
            return Some("applies to pushes only".into());
        }
        if change.pull_request.is_some() || change.merge_group {
            // Nobody pushes a proposal: the forge merges it only after its required checks,
            // this one among them, pass. Pushes to the branch itself are judged where they
            // happen (the server hook, the forge's own protection).
            return Some(
                "a pull request or merge queue group is merged by the forge, not pushed".into(),
            );
        }
        if policy.refs.is_empty() {
            return Some("the policy protects no branch or tag ([[branch]], [[tag]])".into());
        }
        None
    }

    fn run(
        &self,
        policy: &Policy,
        change: &Change,
        _evidence: &mut Evidence,
    ) -> Result<Vec<Finding>, CheckError> {
        let mut findings = Vec::new();
        for update in &change.updates {
            for rule in policy.rules_for(&update.name) {
                findings.extend(judge(rule, update, change.pusher.as_deref()));
            }
        }
        Ok(findings)
    }
}

fn allowed(rule: &RefRule, pusher: Option<&str>) -> bool {
    pusher.is_some_and(|p| rule.push_allow.iter().any(|a| a == p))
}

fn describe_rule(rule: &RefRule) -> String {
    format!(
        "{} pattern {:?} ({})",
        rule.table(),
        rule.written,
        rule.defined_at
    )
}

fn judge(rule: &RefRule, update: &RefUpdate, pusher: Option<&str>) -> Vec<Finding> {
    let at = Location::reference(&update.name);
    let what = match rule.kind {
        RefKind::Branch => "branch",
        RefKind::Tag => "tag",
    };
    let name = update.short_name();
    let mut findings = Vec::new();
    match update.kind {
        UpdateKind::Delete if !rule.allow_deletion => {
            findings.push(
                Finding::error(
                    "protection.deletion",
                    format!("deleting protected {what} {name} is not allowed by {}", describe_rule(rule)),
                )
                .at(at.clone())
                .hint("keep the ref; if it must go, set `allow_deletion = true` on that rule through a reviewed change"),
            );
        }
        UpdateKind::Force | UpdateKind::Move if !rule.allow_force_push => {
            let (rule_id, message, hint) = match rule.kind {
                RefKind::Branch => (
                    "protection.force-push",
                    format!("non-fast-forward push to protected branch {name} rewrites its history; refused by {}", describe_rule(rule)),
                    format!("fetch and rebase or merge onto the remote {name} (`git pull --rebase`), then push without --force"),
                ),
                RefKind::Tag => (
                    "protection.tag-move",
                    format!("moving protected tag {name} is not allowed by {}", describe_rule(rule)),
                    "release tags are immutable: create a new tag instead of moving this one".to_string(),
                ),
            };
            findings.push(Finding::error(rule_id, message).at(at.clone()).hint(hint));
        }
        UpdateKind::FastForward
            if rule.kind == RefKind::Tag && update.old != update.new && !rule.allow_force_push =>
        {
            findings.push(
                Finding::error(
                    "protection.tag-move",
                    format!(
                        "moving protected tag {name} is not allowed by {}",
                        describe_rule(rule)
                    ),
                )
                .at(at.clone())
                .hint("release tags are immutable: create a new tag instead of moving this one"),
            );
        }
        _ => {}
    }
    let writes = update.new.is_some();
    match rule.kind {
        RefKind::Branch if writes && rule.require_review && !allowed(rule, pusher) => {
            let who = pusher.map_or_else(
                || "an unidentified pusher".to_string(),
                |p| format!("{p:?}"),
            );
            let hint = if rule.push_allow.is_empty() {
                format!("open a pull request into {name} and let it be merged after review")
            } else {
                format!(
                    "open a pull request into {name}; only {} may push to it directly",
                    rule.push_allow.join(", ")
                )
            };
            findings.push(
                Finding::error(
                    "protection.direct-push",
                    format!(
                        "direct push to protected branch {name} by {who}: changes must arrive through a reviewed merge ({})",
                        describe_rule(rule)
                    ),
                )
                .at(at)
                .hint(hint),
            );
        }
        RefKind::Tag
            if update.kind == UpdateKind::Create
                && !rule.push_allow.is_empty()
                && !allowed(rule, pusher) =>
        {
            let who = pusher.map_or_else(
                || "an unidentified pusher".to_string(),
                |p| format!("{p:?}"),
            );
            findings.push(
                Finding::error(
                    "protection.tag-create",
                    format!(
                        "{who} may not create protected tag {name} ({})",
                        describe_rule(rule)
                    ),
                )
                .at(at)
                .hint(format!(
                    "ask one of {} to create the tag",
                    rule.push_allow.join(", ")
                )),
            );
        }
        _ => {}
    }
    findings
}

#[cfg(test)]
mod tests;

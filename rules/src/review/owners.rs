//! Code owners: which CODEOWNERS line decides each changed path, whether an independent owner
//! of every group approved, and whether an owner's change request blocks.

use super::approvals::{Standing, Tally};
use super::people::People;
use super::{at, is_policy_path, list, short};
use crate::change::forge::ReviewState;
use crate::change::PullRequest;
use crate::codeowners::{CodeOwners, Rule};
use crate::finding::{Finding, Location};
use crate::policy::ReviewPolicy;
use std::collections::BTreeMap;

/// Changed paths grouped by the CODEOWNERS line that decides them (by line number), and the
/// paths no line gives an owner.
pub(super) struct Groups<'o> {
    pub(super) owned: BTreeMap<u32, (&'o Rule, Vec<String>)>,
    pub(super) unowned: Vec<String>,
}

/// Skipped CODEOWNERS lines, reported as GitHub would skip them.
pub(super) fn skipped_lines(owners: &CodeOwners) -> Vec<Finding> {
    owners
        .errors()
        .iter()
        .map(|e| {
            Finding::warning(
                "review.codeowners-line-skipped",
                format!(
                    "{} on line {} of CODEOWNERS, skipped as GitHub skips it: {}",
                    e.kind, e.line, e.message
                ),
            )
            .at(Location::file(&owners.display, Some(e.line)))
            .hint(
                e.suggestion
                    .clone()
                    .unwrap_or_else(|| "fix the line (`vouch owners --check`)".into()),
            )
        })
        .collect()
}

pub(super) fn groups<'o>(
    owners: &'o CodeOwners,
    changed: &[String],
    findings: &mut Vec<Finding>,
) -> Groups<'o> {
    let mut groups = Groups {
        owned: BTreeMap::new(),
        unowned: Vec::new(),
    };
    for path in changed {
        match owners.decide(path) {
            Some(d) if !d.owners().is_empty() => {
                groups
                    .owned
                    .entry(d.rule.line)
                    .or_insert_with(|| (d.rule, Vec::new()))
                    .1
                    .push(path.clone());
            }
            _ => {
                if is_policy_path(path) {
                    findings.push(policy_without_owner(path, Some(owners)));
                }
                groups.unowned.push(path.clone());
            }
        }
    }
    groups
}

/// One finding per owned group that needs its owners' approval: approved by whom, or who must.
pub(super) fn approvals(
    policy: &ReviewPolicy,
    pr: &PullRequest,
    owners: &CodeOwners,
    groups: &Groups<'_>,
    people: &People,
    tally: &Tally,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (rule, paths) in groups.owned.values() {
        let guards_policy = paths.iter().any(|p| is_policy_path(p));
        if !policy.require_code_owners && !guards_policy {
            continue;
        }
        let owner_text: Vec<String> = rule.owners.iter().map(|o| o.text.clone()).collect();
        let by_owner: Vec<String> = tally
            .approved
            .iter()
            .filter(|l| people.owns(rule, l))
            .map(|l| at(l))
            .collect();
        let owner_excluded: Vec<String> = tally
            .excluded
            .iter()
            .filter(|(l, _)| people.owns(rule, l))
            .map(|(_, r)| r.clone())
            .collect();
        let what = format!(
            "{} path{} matching `{}` ({}:{})",
            paths.len(),
            if paths.len() == 1 { "" } else { "s" },
            rule.pattern,
            owners.display,
            rule.line
        );
        let location = Location::file(&owners.path, Some(rule.line));
        let finding = if by_owner.is_empty() {
            Finding::error(
                "review.code-owner-approval",
                format!(
                    "{what} need{} approval from one of {}{}{}",
                    if paths.len() == 1 { "s" } else { "" },
                    owner_text.join(", "),
                    if guards_policy { " (they guard vouch's policy, judged by the target branch's CODEOWNERS)" } else { "" },
                    if owner_excluded.is_empty() { String::new() } else { format!("; not counted: {}", owner_excluded.join("; ")) },
                ),
            )
            .hint(format!(
                "ask one of {} to approve {}; an owner who authored, committed, co-authored or pushed the change cannot",
                owner_text.join(", "),
                short(&pr.head_sha)
            ))
        } else {
            Finding::note(
                "review.code-owner-approval",
                format!("{what} approved by code owner {}", list(&by_owner)),
            )
        };
        let mut finding = finding
            .at(location)
            .property("paths", list(paths))
            .property("owners", owner_text.join(" "));
        if !by_owner.is_empty() {
            finding = finding.property("approved", by_owner.join(" "));
        }
        if !owner_excluded.is_empty() {
            finding = finding.property("excluded", owner_excluded.join("; "));
        }
        findings.push(finding);
    }
    findings
}

/// Change requests: an owner's blocks until dismissed or superseded by their approval.
pub(super) fn change_requests(
    policy: &ReviewPolicy,
    standings: &BTreeMap<String, Standing<'_>>,
    groups: &Groups<'_>,
    people: &People,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (login, standing) in standings {
        let review = standing.review;
        if review.state != ReviewState::ChangesRequested {
            continue;
        }
        let owned: Vec<&Rule> = groups
            .owned
            .values()
            .map(|(r, _)| *r)
            .filter(|r| people.owns(r, login))
            .collect();
        let who = at(&review.reviewer);
        if owned.is_empty() || !policy.owner_change_request_blocks {
            findings.push(Finding::warning(
                "review.changes-requested",
                format!(
                    "{who} requested changes on {}{}",
                    short(&review.commit_id),
                    if owned.is_empty() {
                        " (not a code owner of the changed paths: does not block)"
                    } else {
                        " (owner change requests do not block under this policy)"
                    }
                ),
            ));
            continue;
        }
        let of: Vec<String> = owned
            .iter()
            .map(|r| format!("`{}` (line {})", r.pattern, r.line))
            .collect();
        findings.push(
            Finding::error(
                "review.changes-requested",
                format!(
                    "{who}, code owner of {}, requested changes on {}; this blocks until the review is dismissed or {who} approves",
                    list(&of),
                    short(&review.commit_id)
                ),
            )
            .hint(format!("address {who}'s review and ask them to approve, or have a maintainer dismiss it")),
        );
    }
    findings
}

/// The note listing changed paths no code owner has, when owners are required.
pub(super) fn unowned_note(unowned: &[String]) -> Finding {
    Finding::note(
        "review.unowned",
        format!(
            "{} changed path{} no code owner: only the general independent approvals apply to {}",
            unowned.len(),
            if unowned.len() == 1 { " has" } else { "s have" },
            if unowned.len() == 1 { "it" } else { "them" }
        ),
    )
    .property("paths", list(unowned))
}

pub(super) fn policy_without_owner(path: &str, owners: Option<&CodeOwners>) -> Finding {
    let place = owners.map_or("the target branch has no CODEOWNERS".to_string(), |o| {
        format!("{} names no owner for it", o.display)
    });
    Finding::error(
        "review.policy-owner-missing",
        format!("the pull request changes {path}, which needs a code owner's approval, but {place}"),
    )
    .at(Location::file(path, None))
    .hint("on the target branch, give vouch's files owners in CODEOWNERS, e.g. `/.vouch/ @org/security` and `/.github/CODEOWNERS @org/security`")
}

//! Approvals: each reviewer's standing (their latest decisive review), which approvals count,
//! and the general "N of M independent approvals" finding.

use super::people::People;
use super::{at, list, short};
use crate::change::forge::{Review as SubmittedReview, ReviewState};
use crate::change::PullRequest;
use crate::finding::Finding;
use crate::policy::{Permission, ReviewPolicy};
use crate::verdict::ApprovalRecord;
use std::collections::BTreeMap;

/// A reviewer's standing: their latest APPROVED or CHANGES_REQUESTED review.
pub(super) struct Standing<'a> {
    pub(super) review: &'a SubmittedReview,
}

/// Approvals that count, and those that do not with the reason (both by lower-case login).
pub(super) struct Tally {
    pub(super) approved: Vec<String>,
    pub(super) excluded: Vec<(String, String)>,
    pub(super) records: Vec<ApprovalRecord>,
}

pub(super) fn permission_name(p: Permission) -> &'static str {
    match p {
        Permission::None => "none",
        Permission::Read => "read",
        Permission::Triage => "triage",
        Permission::Write => "write",
        Permission::Maintain => "maintain",
        Permission::Admin => "admin",
    }
}

/// Why an approval does not count, or `None` when it does.
fn exclusion(
    policy: &ReviewPolicy,
    pr: &PullRequest,
    people: &People,
    involved: &BTreeMap<String, Vec<String>>,
    login: &str,
    review: &SubmittedReview,
) -> Option<String> {
    let who = at(&review.reviewer);
    if policy.current_head_only && !review.commit_id.eq_ignore_ascii_case(&pr.head_sha) {
        return Some(format!(
            "{who} approved {} but the head is now {}",
            short(&review.commit_id),
            short(&pr.head_sha)
        ));
    }
    if let Some(reasons) = involved.get(login) {
        return Some(format!("{who} approved but {}", reasons.join(", ")));
    }
    let permission = people.permissions.get(login).copied();
    if permission.is_none_or(|p| p < policy.min_permission) {
        let has = permission.map_or("no known".to_string(), |p| permission_name(p).to_string());
        return Some(format!(
            "{who} approved but has {has} permission on the repository; `{}` is needed",
            permission_name(policy.min_permission)
        ));
    }
    None
}

/// Sort every approving standing into counted and excluded.
pub(super) fn tally(
    policy: &ReviewPolicy,
    pr: &PullRequest,
    people: &People,
    involved: &BTreeMap<String, Vec<String>>,
    standings: &BTreeMap<String, Standing<'_>>,
) -> Tally {
    let mut tally = Tally {
        approved: Vec::new(),
        excluded: Vec::new(),
        records: Vec::new(),
    };
    for (login, standing) in standings {
        let review = standing.review;
        if review.state != ReviewState::Approved {
            continue;
        }
        let why = exclusion(policy, pr, people, involved, login, review);
        tally.records.push(ApprovalRecord {
            reviewer: review.reviewer.clone(),
            commit: review.commit_id.clone(),
            counted: why.is_none(),
            reason: why.clone().unwrap_or_default(),
        });
        match why {
            Some(reason) => tally.excluded.push((login.clone(), reason)),
            None => tally.approved.push(login.clone()),
        }
    }
    tally
}

/// The general finding: enough independent approvals on the head, or who must still act.
pub(super) fn general(policy: &ReviewPolicy, pr: &PullRequest, tally: &Tally) -> Finding {
    let approved_text: Vec<String> = tally.approved.iter().map(|l| at(l)).collect();
    let excluded_text: Vec<String> = tally.excluded.iter().map(|(_, r)| r.clone()).collect();
    let required = policy.required_approvals as usize;
    let count = tally.approved.len();
    let mut finding = if count < required {
        let missing = required - count;
        Finding::error(
            "review.approvals",
            format!(
                "{count} of {required} required independent approval{} on head {}{}{}",
                if required == 1 { "" } else { "s" },
                short(&pr.head_sha),
                if approved_text.is_empty() { String::new() } else { format!("; approved by {}", list(&approved_text)) },
                if excluded_text.is_empty() { String::new() } else { format!("; not counted: {}", excluded_text.join("; ")) },
            ),
        )
        .hint(format!(
            "ask {missing} more reviewer{} with `{}` permission who did not open, author, commit, co-author or push this pull request to approve {}",
            if missing == 1 { "" } else { "s" },
            permission_name(policy.min_permission),
            short(&pr.head_sha)
        ))
    } else {
        Finding::note(
            "review.approvals",
            format!(
                "{count} independent approval{} (required {required}){}",
                if count == 1 { "" } else { "s" },
                if approved_text.is_empty() {
                    String::new()
                } else {
                    format!(": {}", list(&approved_text))
                },
            ),
        )
    };
    finding = finding.property("required", required.to_string());
    if !approved_text.is_empty() {
        finding = finding.property("approved", approved_text.join(" "));
    }
    if !excluded_text.is_empty() {
        finding = finding.property("excluded", excluded_text.join("; "));
    }
    finding
}

/// Each reviewer's standing: their latest review that is not COMMENTED; DISMISSED clears it.
pub(super) fn standings<'a>(
    pr: &'a PullRequest,
    findings: &mut Vec<Finding>,
) -> BTreeMap<String, Standing<'a>> {
    let mut timed = Vec::new();
    for (i, review) in pr.reviews.iter().enumerate() {
        match crate::time::parse_rfc3339(&review.submitted_at) {
            Some(t) => timed.push((t, i, review)),
            None => findings.push(
                Finding::error(
                    "review.bad-input",
                    format!(
                        "review by {} has an unreadable submitted_at {:?}; it is ignored",
                        at(&review.reviewer),
                        review.submitted_at
                    ),
                )
                .hint("give submitted_at as an RFC 3339 time, e.g. \"2026-11-25T10:00:00Z\""),
            ),
        }
    }
    timed.sort_by_key(|(t, i, _)| (*t, *i));
    let mut out = BTreeMap::new();
    for (_, _, review) in timed {
        let login = review.reviewer.to_lowercase();
        match review.state {
            ReviewState::Commented => {}
            ReviewState::Dismissed => {
                out.remove(&login);
            }
            ReviewState::Approved | ReviewState::ChangesRequested => {
                out.insert(login, Standing { review });
            }
        }
    }
    out
}

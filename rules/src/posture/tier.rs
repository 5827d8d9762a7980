//! The OpenSSF Scorecard Branch-Protection tier the default branch reaches, from the same facts
//! the audit judges. Scorecard's tiers are cumulative: a tier counts only when every tier below
//! it is met. Tier 1 (3/10): force pushes and deletion blocked, administrators included; tier 2
//! (6/10): at least one approval, branches up to date before merging; tier 3 (8/10): status
//! checks required; tier 4 (9/10): at least two approvals; tier 5 (10/10): stale approvals
//! dismissed and code-owner review required. Settings are combined across classic protection
//! and active rulesets, as the forge enforces them; a layer that could not be read counts as
//! not met.

use crate::change::posture::{BranchPosture, Fact, Posture, Rule};

/// The tier reached, its score, and what the next tier still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// 0 to 5.
    pub tier: u8,
    /// Scorecard's points for it: 0, 3, 6, 8, 9 or 10.
    pub score: u8,
    /// What the next tier needs, when there is one.
    pub next: Option<String>,
}

#[derive(Debug, Default)]
struct Effective {
    no_force_push: bool,
    no_deletion: bool,
    admins_included: bool,
    approvals: u32,
    strict: bool,
    checks: bool,
    dismiss_stale: bool,
    code_owners: bool,
}

fn effective(b: &BranchPosture) -> Effective {
    let mut e = Effective::default();
    let mut admins = Vec::new();
    if let Fact::Known(Some(c)) = &b.classic {
        e.no_force_push |= !c.allow_force_pushes;
        e.no_deletion |= !c.allow_deletions;
        admins.push(c.enforce_admins);
        if let Some(r) = &c.reviews {
            e.approvals = e.approvals.max(r.required_approvals);
            e.dismiss_stale |= r.dismiss_stale;
            e.code_owners |= r.code_owners;
        }
        if let Some(s) = &c.status_checks {
            e.strict |= s.strict;
            e.checks |= !s.checks.is_empty();
        }
    }
    if let Fact::Known(sets) = &b.rulesets {
        for s in sets.iter().filter(|s| s.active()) {
            admins.push(match &s.bypass {
                Fact::Known(actors) => !actors.iter().any(|a| {
                    matches!(
                        a.actor_type.as_str(),
                        "OrganizationAdmin" | "RepositoryRole"
                    )
                }),
                Fact::Unknown(_) => false,
            });
            for r in &s.rules {
                match r {
                    Rule::NonFastForward => e.no_force_push = true,
                    Rule::Deletion => e.no_deletion = true,
                    Rule::PullRequest {
                        required_approvals,
                        dismiss_stale,
                        code_owners,
                        ..
                    } => {
                        e.approvals = e.approvals.max(*required_approvals);
                        e.dismiss_stale |= dismiss_stale;
                        e.code_owners |= code_owners;
                    }
                    Rule::RequiredStatusChecks { strict, checks } => {
                        e.strict |= strict;
                        e.checks |= !checks.is_empty();
                    }
                    _ => {}
                }
            }
        }
    }
    e.admins_included = !admins.is_empty() && admins.iter().all(|a| *a);
    e
}

/// The tier `posture`'s default branch reaches.
pub fn tier(posture: &Posture) -> Tier {
    let Some(b) = posture
        .branches
        .iter()
        .find(|b| b.name == posture.default_branch)
    else {
        return Tier {
            tier: 0,
            score: 0,
            next: Some("the default branch's protection was not read".into()),
        };
    };
    let e = effective(b);
    let tiers: [(u8, Vec<(bool, &str)>); 5] = [
        (
            3,
            vec![
                (e.no_force_push, "block force pushes"),
                (e.no_deletion, "block deletion"),
                (
                    e.admins_included,
                    "include administrators (no admin bypass)",
                ),
            ],
        ),
        (
            6,
            vec![
                (e.approvals >= 1, "require at least 1 approval"),
                (e.strict, "require branches to be up to date before merging"),
            ],
        ),
        (8, vec![(e.checks, "require status checks")]),
        (9, vec![(e.approvals >= 2, "require at least 2 approvals")]),
        (
            10,
            vec![
                (e.dismiss_stale, "dismiss stale approvals"),
                (e.code_owners, "require code-owner review"),
            ],
        ),
    ];
    let mut reached = Tier {
        tier: 0,
        score: 0,
        next: None,
    };
    for (i, (score, reqs)) in tiers.iter().enumerate() {
        let missing: Vec<&str> = reqs.iter().filter(|(ok, _)| !ok).map(|(_, w)| *w).collect();
        if !missing.is_empty() {
            reached.next = Some(format!("tier {}: {}", i + 1, missing.join(", ")));
            return reached;
        }
        reached.tier = i as u8 + 1;
        reached.score = *score;
    }
    reached
}

//! The fix plan: the settings to apply so the audit passes, never loosening one already
//! stricter than the policy.
//!
//! A branch's gaps are closed with a vouch-managed repository ruleset (`vouch: <branch>`):
//! rulesets stack and the strictest wins, so adding one never weakens another layer, and since
//! it has no bypass actors of its own (only the ones `push_allow` names, when it already had
//! them) it also closes every bypass of the other layers. An existing managed ruleset is
//! updated by taking the stricter of its value and the policy's for every rule. Where rulesets
//! cannot be read, classic protection is merged the same way (the applier keeps every field this
//! crate does not model, since a PUT replaces the whole protection). Permissions above a role's
//! maximum are lowered. What the API cannot change is listed with who must act.

use super::branch::{needs_for, standing, Need, Standing};
use crate::change::posture::{
    BypassActor, ClassicProtection, ClassicReviews, Fact, Posture, RequiredCheck, Rule,
    StatusChecks, MANAGED_RULESET_PREFIX,
};
use crate::finding::Finding;
use crate::policy::{Permission, Policy};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// One change to the forge's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// Create (no `existing`) or update the vouch-managed repository ruleset for a branch.
    Ruleset {
        branch: String,
        existing: Option<i64>,
        name: String,
        /// Full ref names the ruleset targets.
        include: Vec<String>,
        rules: Vec<Rule>,
        /// Bypass actors kept from the existing managed ruleset (only ones `push_allow` names).
        bypass: Vec<BypassActor>,
    },
    /// Classic protection's modelled fields after merging (the applier keeps the others).
    Classic {
        branch: String,
        protection: ClassicProtection,
    },
    /// Lower a collaborator's permission (`to: none` removes them).
    Collaborator {
        login: String,
        from: Permission,
        to: Permission,
    },
    /// Lower a team's permission (`to: none` removes the team's access).
    Team {
        team: String,
        from: Permission,
        to: Permission,
    },
    /// Something the API cannot fix: who must do what.
    Manual {
        rule: String,
        who: String,
        what: String,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Ruleset {
                branch,
                existing,
                name,
                rules,
                ..
            } => {
                let verb = match existing {
                    Some(id) => format!("update ruleset {id}"),
                    None => "create ruleset".into(),
                };
                let kinds: Vec<String> = rules.iter().map(describe_rule).collect();
                write!(f, "{verb} {name:?} on {branch}: {}", kinds.join(", "))
            }
            Action::Classic { branch, .. } => write!(
                f,
                "update classic protection of {branch} (stricter of current and required for each setting)"
            ),
            Action::Collaborator { login, from, to } if *to == Permission::None => {
                write!(f, "remove collaborator {login} (now {})", from.as_str())
            }
            Action::Collaborator { login, from, to } => write!(
                f,
                "lower collaborator {login} from {} to {}",
                from.as_str(),
                to.as_str()
            ),
            Action::Team { team, from, to } if *to == Permission::None => {
                write!(f, "remove team {team}'s access (now {})", from.as_str())
            }
            Action::Team { team, from, to } => {
                write!(f, "lower team {team} from {} to {}", from.as_str(), to.as_str())
            }
            Action::Manual { who, what, .. } => write!(f, "not fixable through the API — {who}: {what}"),
        }
    }
}

fn describe_rule(r: &Rule) -> String {
    match r {
        Rule::Deletion => "block deletion".into(),
        Rule::NonFastForward => "block force pushes".into(),
        Rule::RequiredLinearHistory => "linear history".into(),
        Rule::RequiredSignatures => "signed commits".into(),
        Rule::PullRequest {
            required_approvals,
            dismiss_stale,
            code_owners,
            last_push_approval,
        } => {
            let mut s = format!("pull request with {required_approvals} approval(s)");
            for (on, what) in [
                (*code_owners, "code owners"),
                (*dismiss_stale, "stale approvals dismissed"),
                (*last_push_approval, "last push approved"),
            ] {
                if on {
                    s.push_str(", ");
                    s.push_str(what);
                }
            }
            s
        }
        Rule::RequiredStatusChecks { checks, .. } => {
            let names: Vec<String> = checks
                .iter()
                .map(|c| match c.app_id {
                    Some(id) => format!("{:?} (app {id})", c.context),
                    None => format!("{:?}", c.context),
                })
                .collect();
            format!("status checks {}", names.join(" "))
        }
        Rule::Other { name } => name.clone(),
    }
}

/// The actions, in the order they are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub actions: Vec<Action>,
}

impl Plan {
    /// The actions the API can apply (everything but [`Action::Manual`]).
    pub fn fixable(&self) -> impl Iterator<Item = &Action> {
        self.actions
            .iter()
            .filter(|a| !matches!(a, Action::Manual { .. }))
    }
}

/// Rules after making each of `needs` hold, keeping everything already stricter.
pub fn merge_rules(
    existing: &[Rule],
    needs: &BTreeSet<Need>,
    branch: &str,
    app_id: Option<i64>,
) -> Vec<Rule> {
    let mut rules = existing.to_vec();
    let ensure = |rules: &mut Vec<Rule>, r: Rule| {
        if !rules.contains(&r) {
            rules.push(r);
        }
    };
    for need in needs {
        match need {
            Need::NoForcePush => ensure(&mut rules, Rule::NonFastForward),
            Need::NoDeletion => ensure(&mut rules, Rule::Deletion),
            Need::Signatures => ensure(&mut rules, Rule::RequiredSignatures),
            Need::LinearHistory => ensure(&mut rules, Rule::RequiredLinearHistory),
            Need::Approvals(_) | Need::CodeOwners | Need::DismissStale | Need::LastPushApproval => {
                if !rules.iter().any(|r| matches!(r, Rule::PullRequest { .. })) {
                    rules.push(Rule::PullRequest {
                        required_approvals: 0,
                        dismiss_stale: false,
                        code_owners: false,
                        last_push_approval: false,
                    });
                }
                for r in rules.iter_mut() {
                    if let Rule::PullRequest {
                        required_approvals,
                        dismiss_stale,
                        code_owners,
                        last_push_approval,
                    } = r
                    {
                        match need {
                            Need::Approvals(k) => {
                                *required_approvals = (*required_approvals).max(*k)
                            }
                            Need::CodeOwners => *code_owners = true,
                            Need::DismissStale => *dismiss_stale = true,
                            _ => *last_push_approval = true,
                        }
                    }
                }
            }
            Need::VouchCheck | Need::Check(_) => {
                let check = match need {
                    Need::VouchCheck => match app_id {
                        Some(id) => RequiredCheck {
                            context: format!("vouch: {branch}"),
                            app_id: Some(id),
                        },
                        None => continue,
                    },
                    Need::Check(c) => RequiredCheck {
                        context: c.clone(),
                        app_id: None,
                    },
                    _ => continue,
                };
                if !rules
                    .iter()
                    .any(|r| matches!(r, Rule::RequiredStatusChecks { .. }))
                {
                    rules.push(Rule::RequiredStatusChecks {
                        strict: false,
                        checks: Vec::new(),
                    });
                }
                for r in rules.iter_mut() {
                    if let Rule::RequiredStatusChecks { checks, .. } = r {
                        if !checks.contains(&check) {
                            checks.push(check.clone());
                        }
                    }
                }
            }
        }
    }
    rules
}

/// Classic protection after making each of `needs` hold, keeping everything already stricter;
/// review allowances and admin exemption outside `allowed` are removed.
pub fn merge_classic(
    current: Option<&ClassicProtection>,
    needs: &BTreeSet<Need>,
    allowed: &BTreeSet<String>,
    branch: &str,
    app_id: Option<i64>,
) -> ClassicProtection {
    let mut p = current.cloned().unwrap_or(ClassicProtection {
        allow_force_pushes: true,
        allow_deletions: true,
        ..ClassicProtection::default()
    });
    if !allowed.contains("role:admin") {
        p.enforce_admins = true;
    }
    for need in needs {
        match need {
            Need::NoForcePush => p.allow_force_pushes = false,
            Need::NoDeletion => p.allow_deletions = false,
            Need::Signatures => p.required_signatures = true,
            Need::LinearHistory => p.linear_history = true,
            Need::Approvals(_) | Need::CodeOwners | Need::DismissStale | Need::LastPushApproval => {
                let r = p.reviews.get_or_insert_with(ClassicReviews::default);
                match need {
                    Need::Approvals(k) => r.required_approvals = r.required_approvals.max(*k),
                    Need::CodeOwners => r.code_owners = true,
                    Need::DismissStale => r.dismiss_stale = true,
                    _ => r.last_push_approval = true,
                }
                r.bypass
                    .retain(|b| allowed.contains(&b.trim_start_matches('@').to_ascii_lowercase()));
            }
            Need::VouchCheck | Need::Check(_) => {
                let check = match need {
                    Need::VouchCheck => match app_id {
                        Some(id) => RequiredCheck {
                            context: format!("vouch: {branch}"),
                            app_id: Some(id),
                        },
                        None => continue,
                    },
                    Need::Check(c) => RequiredCheck {
                        context: c.clone(),
                        app_id: None,
                    },
                    _ => continue,
                };
                let s = p.status_checks.get_or_insert_with(StatusChecks::default);
                if !s.checks.contains(&check) {
                    s.checks.push(check);
                }
            }
        }
    }
    p
}

/// The plan that makes `findings` (the audit of `posture` under `policy`) go away.
pub fn plan(policy: &Policy, posture: &Posture, findings: &[Finding]) -> Plan {
    let mut actions = Vec::new();
    for b in &posture.branches {
        let Some(needs) = needs_for(policy, &b.name) else {
            continue;
        };
        let failing: Vec<&Need> = needs
            .needs
            .iter()
            .filter(|n| standing(n, b, &needs.allowed, posture.app_id) != Standing::Holds)
            .collect();
        if failing.is_empty() {
            continue;
        }
        if posture.app_id.is_none() && failing.contains(&&Need::VouchCheck) {
            actions.push(Action::Manual {
                rule: Need::VouchCheck.rule().into(),
                who: "whoever runs the audit".into(),
                what: format!(
                    "pass `--app-id` so the `vouch: {}` check can be pinned to the vouch App",
                    b.name
                ),
            });
        }
        match (&b.rulesets, &b.classic) {
            (Fact::Known(sets), _) => {
                let managed = sets.iter().find(|s| s.managed());
                let name = format!("{MANAGED_RULESET_PREFIX}{}", b.name);
                let existing_rules = managed.map(|s| s.rules.clone()).unwrap_or_default();
                let bypass = managed
                    .and_then(|s| s.bypass.known())
                    .map(|actors| {
                        actors
                            .iter()
                            .filter(|a| {
                                a.name.as_ref().is_some_and(|n| {
                                    needs.allowed.contains(&n.to_ascii_lowercase())
                                })
                            })
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                actions.push(Action::Ruleset {
                    branch: b.name.clone(),
                    existing: managed.map(|s| s.id),
                    name: managed.map_or(name, |s| s.name.clone()),
                    include: vec![format!("refs/heads/{}", b.name)],
                    rules: merge_rules(&existing_rules, &needs.needs, &b.name, posture.app_id),
                    bypass,
                });
            }
            (Fact::Unknown(_), Fact::Known(current)) => actions.push(Action::Classic {
                branch: b.name.clone(),
                protection: merge_classic(
                    current.as_ref(),
                    &needs.needs,
                    &needs.allowed,
                    &b.name,
                    posture.app_id,
                ),
            }),
            (Fact::Unknown(why), Fact::Unknown(_)) => actions.push(Action::Manual {
                rule: "posture.unreadable".into(),
                who: super::REPO_ADMIN.into(),
                what: format!(
                    "{}: neither rulesets nor classic protection can be read ({why})",
                    b.name
                ),
            }),
        }
    }
    let mut seen = BTreeSet::new();
    for f in findings {
        let prop = |k: &str| f.properties.get(k).cloned();
        let max = prop("max").and_then(|m| Permission::parse(&m));
        let from = prop("current").and_then(|m| Permission::parse(&m));
        let action = match (f.rule.as_str(), max, from) {
            ("posture.outside-collaborator" | "posture.role-permission", Some(to), Some(from)) => {
                match (prop("login"), prop("team")) {
                    (Some(login), _) => Action::Collaborator { login, from, to },
                    (None, Some(team)) => Action::Team { team, from, to },
                    _ => continue,
                }
            }
            (rule, _, _)
                if rule.starts_with("posture.")
                    && !matches!(
                        rule,
                        "posture.scorecard-tier"
                            | "posture.bypass"
                            | "posture.outside-collaborator"
                            | "posture.role-permission"
                    )
                    && !needs_rule(rule)
                    && f.severity == crate::finding::Severity::Error =>
            {
                Action::Manual {
                    rule: rule.to_string(),
                    who: prop("fix_by").unwrap_or_else(|| super::REPO_ADMIN.into()),
                    what: f.hint.clone().unwrap_or_else(|| f.message.clone()),
                }
            }
            _ => continue,
        };
        // A person both outside collaborator and over their role gets the lower target once.
        let key = match &action {
            Action::Collaborator { login, .. } => format!("user:{login}"),
            Action::Team { team, .. } => format!("team:{team}"),
            other => format!("{other}"),
        };
        if let Some(pos) = actions.iter().position(|a| match (a, &action) {
            (Action::Collaborator { login: a, .. }, Action::Collaborator { login: b, .. }) => {
                a == b
            }
            (Action::Team { team: a, .. }, Action::Team { team: b, .. }) => a == b,
            _ => false,
        }) {
            if let (
                Action::Collaborator { to: old, .. } | Action::Team { to: old, .. },
                Action::Collaborator { to: new, .. } | Action::Team { to: new, .. },
            ) = (&mut actions[pos], &action)
            {
                *old = (*old).min(*new);
            }
            continue;
        }
        if seen.insert(key) {
            actions.push(action);
        }
    }
    Plan { actions }
}

/// Branch requirement findings, which the ruleset or classic actions above close.
fn needs_rule(rule: &str) -> bool {
    matches!(
        rule,
        "posture.vouch-check"
            | "posture.required-check"
            | "posture.required-approvals"
            | "posture.code-owner-review"
            | "posture.dismiss-stale-reviews"
            | "posture.last-push-approval"
            | "posture.force-push"
            | "posture.deletion"
            | "posture.signed-commits"
            | "posture.linear-history"
    )
}

//! Effective branch protection. A requirement holds when some layer — classic protection or an
//! active ruleset — enforces it at least as strictly as the policy asks, and no one outside the
//! rule's `push_allow` can bypass that layer: admins bypass classic protection unless
//! `enforce_admins` is on, its review allowances skip its review, and a ruleset's bypass actors
//! skip all of it. Rulesets stack, so one strict layer nobody can bypass is enough.

use super::{setting, unreadable, REPO_ADMIN};
use crate::change::posture::{BranchPosture, Fact, Posture, Rule};
use crate::finding::{Finding, Location};
use crate::policy::{Involvement, Policy};
use std::collections::BTreeSet;

/// One thing the policy needs the forge to enforce on a branch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The `vouch: <branch>` status check, from the vouch App.
    VouchCheck,
    /// A check the policy's `required_checks` names, from any source.
    Check(String),
    Approvals(u32),
    CodeOwners,
    DismissStale,
    LastPushApproval,
    NoForcePush,
    NoDeletion,
    Signatures,
    LinearHistory,
}

/// What a branch's matching `[[branch]]` rules need, and who they let bypass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub needs: BTreeSet<Need>,
    /// Identities every matching rule's `push_allow` names (lower case, no `@`).
    pub allowed: BTreeSet<String>,
    /// Where the rules are, for messages.
    pub defined_at: Vec<String>,
}

fn norm(name: &str) -> String {
    name.trim().trim_start_matches('@').to_ascii_lowercase()
}

/// The needs of the `[[branch]]` rules matching `branch` (a short name); `None` when none match.
pub fn needs_for(policy: &Policy, branch: &str) -> Option<Needs> {
    let full = format!("refs/heads/{branch}");
    let mut out = Needs::default();
    let mut first = true;
    for rule in policy.rules_for(&full) {
        let n = &mut out.needs;
        if !rule.allow_force_push {
            n.insert(Need::NoForcePush);
        }
        if !rule.allow_deletion {
            n.insert(Need::NoDeletion);
        }
        if rule.require_review {
            n.insert(Need::VouchCheck);
            let r = &policy.review;
            if r.required_approvals > 0 {
                n.insert(Need::Approvals(r.required_approvals));
            }
            if r.require_code_owners {
                n.insert(Need::CodeOwners);
            }
            if r.current_head_only {
                n.insert(Need::DismissStale);
            }
            if r.not_independent.contains(&Involvement::LastPusher) {
                n.insert(Need::LastPushApproval);
            }
        }
        for c in &rule.required_checks {
            n.insert(Need::Check(c.clone()));
        }
        if policy.signatures.required {
            n.insert(Need::Signatures);
        }
        if rule.linear_history {
            n.insert(Need::LinearHistory);
        }
        let allowed: BTreeSet<String> = rule.push_allow.iter().map(|p| norm(p)).collect();
        out.allowed = if first {
            allowed
        } else {
            out.allowed.intersection(&allowed).cloned().collect()
        };
        out.defined_at.push(rule.defined_at.clone());
        first = false;
    }
    // Only the largest approval count matters.
    let max = out
        .needs
        .iter()
        .filter_map(|n| match n {
            Need::Approvals(k) => Some(*k),
            _ => None,
        })
        .max();
    out.needs
        .retain(|n| !matches!(n, Need::Approvals(k) if Some(*k) != max));
    (!first).then_some(out)
}

impl Need {
    /// The finding's rule id.
    pub fn rule(&self) -> &'static str {
        match self {
            Need::VouchCheck => "posture.vouch-check",
            Need::Check(_) => "posture.required-check",
            Need::Approvals(_) => "posture.required-approvals",
            Need::CodeOwners => "posture.code-owner-review",
            Need::DismissStale => "posture.dismiss-stale-reviews",
            Need::LastPushApproval => "posture.last-push-approval",
            Need::NoForcePush => "posture.force-push",
            Need::NoDeletion => "posture.deletion",
            Need::Signatures => "posture.signed-commits",
            Need::LinearHistory => "posture.linear-history",
        }
    }

    /// The forge setting, as GitHub's ruleset API names it.
    pub fn setting(&self, branch: &str) -> String {
        match self {
            Need::VouchCheck => format!("required_status_checks: \"vouch: {branch}\""),
            Need::Check(c) => format!("required_status_checks: {c:?}"),
            Need::Approvals(_) => "pull_request.required_approving_review_count".into(),
            Need::CodeOwners => "pull_request.require_code_owner_review".into(),
            Need::DismissStale => "pull_request.dismiss_stale_reviews_on_push".into(),
            Need::LastPushApproval => "pull_request.require_last_push_approval".into(),
            Need::NoForcePush => "non_fast_forward".into(),
            Need::NoDeletion => "deletion".into(),
            Need::Signatures => "required_signatures".into(),
            Need::LinearHistory => "required_linear_history".into(),
        }
    }

    pub fn required(&self, app_id: Option<i64>) -> String {
        match self {
            Need::VouchCheck => match app_id {
                Some(id) => format!("required, from the vouch App (app id {id})"),
                None => "required, from the vouch App".into(),
            },
            Need::Check(_) => "required".into(),
            Need::Approvals(k) => format!("at least {k}"),
            Need::NoForcePush => "force pushes blocked".into(),
            Need::NoDeletion => "deletion blocked".into(),
            _ => "on".into(),
        }
    }

    /// Whether classic protection enforces it.
    fn in_classic(&self, c: &crate::change::posture::ClassicProtection, ctx: &Ctx) -> bool {
        let reviews = c.reviews.as_ref();
        match self {
            Need::VouchCheck | Need::Check(_) => c
                .status_checks
                .as_ref()
                .is_some_and(|s| s.checks.iter().any(|k| self.check_ok(k, ctx))),
            Need::Approvals(k) => reviews.is_some_and(|r| r.required_approvals >= *k),
            Need::CodeOwners => reviews.is_some_and(|r| r.code_owners),
            Need::DismissStale => reviews.is_some_and(|r| r.dismiss_stale),
            Need::LastPushApproval => reviews.is_some_and(|r| r.last_push_approval),
            Need::NoForcePush => !c.allow_force_pushes,
            Need::NoDeletion => !c.allow_deletions,
            Need::Signatures => c.required_signatures,
            Need::LinearHistory => c.linear_history,
        }
    }

    /// Whether a ruleset's rules enforce it.
    fn in_rules(&self, rules: &[Rule], ctx: &Ctx) -> bool {
        rules.iter().any(|r| match (self, r) {
            (Need::VouchCheck | Need::Check(_), Rule::RequiredStatusChecks { checks, .. }) => {
                checks.iter().any(|k| self.check_ok(k, ctx))
            }
            (
                Need::Approvals(k),
                Rule::PullRequest {
                    required_approvals, ..
                },
            ) => required_approvals >= k,
            (Need::CodeOwners, Rule::PullRequest { code_owners, .. }) => *code_owners,
            (Need::DismissStale, Rule::PullRequest { dismiss_stale, .. }) => *dismiss_stale,
            (
                Need::LastPushApproval,
                Rule::PullRequest {
                    last_push_approval, ..
                },
            ) => *last_push_approval,
            (Need::NoForcePush, Rule::NonFastForward) => true,
            (Need::NoDeletion, Rule::Deletion) => true,
            (Need::Signatures, Rule::RequiredSignatures) => true,
            (Need::LinearHistory, Rule::RequiredLinearHistory) => true,
            _ => false,
        })
    }

    fn check_ok(&self, k: &crate::change::posture::RequiredCheck, ctx: &Ctx) -> bool {
        match self {
            Need::VouchCheck => {
                k.context == format!("vouch: {}", ctx.branch)
                    && ctx.app_id.is_some()
                    && k.app_id == ctx.app_id
            }
            Need::Check(c) => k.context == *c,
            _ => false,
        }
    }

    /// Whether a review allowance skips it (the pull request requirements).
    fn is_review(&self) -> bool {
        matches!(
            self,
            Need::Approvals(_) | Need::CodeOwners | Need::DismissStale | Need::LastPushApproval
        )
    }
}

struct Ctx<'a> {
    branch: &'a str,
    app_id: Option<i64>,
}

/// How a requirement stands on one branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    Holds,
    /// Enforced only by layers someone outside `push_allow` can bypass: (layer, who).
    Bypassable(Vec<(String, Vec<String>, &'static str)>),
    /// Enforced by no layer; the current value.
    Missing(String),
    /// A layer that might enforce it could not be read.
    Unknown(String),
}

/// A layer's bypassers outside `allowed`, or why they are unknown.
fn outsiders(bypass: &Fact<Vec<String>>, allowed: &BTreeSet<String>) -> Fact<Vec<String>> {
    match bypass {
        Fact::Known(who) => Fact::Known(
            who.iter()
                .filter(|w| !allowed.contains(&norm(w)))
                .cloned()
                .collect(),
        ),
        Fact::Unknown(why) => Fact::Unknown(why.clone()),
    }
}

pub(crate) fn standing(
    need: &Need,
    b: &BranchPosture,
    allowed: &BTreeSet<String>,
    app_id: Option<i64>,
) -> Standing {
    let ctx = Ctx {
        branch: &b.name,
        app_id,
    };
    if *need == Need::VouchCheck && app_id.is_none() {
        return Standing::Unknown(
            "the vouch App's id is not known (pass `--app-id`, or set `app_id` in the bot's configuration)".into(),
        );
    }
    let mut bypassable = Vec::new();
    let mut unknown = Vec::new();
    match &b.classic {
        Fact::Known(Some(c)) if need.in_classic(c, &ctx) => {
            let mut who = Vec::new();
            if !c.enforce_admins {
                who.push("role:admin".to_string());
            }
            if need.is_review() {
                if let Some(r) = &c.reviews {
                    who.extend(r.bypass.iter().cloned());
                }
            }
            match outsiders(&Fact::Known(who), allowed) {
                Fact::Known(w) if w.is_empty() => return Standing::Holds,
                Fact::Known(w) => {
                    bypassable.push(("classic branch protection".to_string(), w, REPO_ADMIN))
                }
                Fact::Unknown(why) => unknown.push(why),
            }
        }
        Fact::Known(_) => {}
        Fact::Unknown(why) => unknown.push(why.clone()),
    }
    match &b.rulesets {
        Fact::Known(sets) => {
            for s in sets
                .iter()
                .filter(|s| s.active() && need.in_rules(&s.rules, &ctx))
            {
                let names = match &s.bypass {
                    Fact::Known(actors) => Fact::Known(
                        actors
                            .iter()
                            .map(|a| {
                                a.name.clone().unwrap_or_else(|| match a.actor_id {
                                    Some(id) => format!("{} #{id}", a.actor_type),
                                    None => a.actor_type.clone(),
                                })
                            })
                            .collect(),
                    ),
                    Fact::Unknown(why) => Fact::Unknown(why.clone()),
                };
                let fix_by = if s.source_type == "Organization" {
                    super::ORG_OWNER
                } else {
                    REPO_ADMIN
                };
                match outsiders(&names, allowed) {
                    Fact::Known(w) if w.is_empty() => return Standing::Holds,
                    Fact::Known(w) => bypassable.push((
                        format!("ruleset {:?} ({} {})", s.name, s.source_type, s.source),
                        w,
                        fix_by,
                    )),
                    Fact::Unknown(why) => unknown.push(why),
                }
            }
        }
        Fact::Unknown(why) => unknown.push(why.clone()),
    }
    if !unknown.is_empty() {
        return Standing::Unknown(unknown.join("; "));
    }
    if !bypassable.is_empty() {
        return Standing::Bypassable(bypassable);
    }
    Standing::Missing(current(need, b, &ctx))
}

/// The nearest thing to `need` the branch has now, in words.
fn current(need: &Need, b: &BranchPosture, ctx: &Ctx) -> String {
    let classic = b.classic.known().and_then(Option::as_ref);
    let rules: Vec<&Rule> = b
        .rulesets
        .known()
        .into_iter()
        .flatten()
        .filter(|s| s.active())
        .flat_map(|s| s.rules.iter())
        .collect();
    match need {
        Need::Approvals(_) => {
            let most = classic
                .and_then(|c| c.reviews.as_ref().map(|r| r.required_approvals))
                .into_iter()
                .chain(rules.iter().filter_map(|r| match r {
                    Rule::PullRequest {
                        required_approvals, ..
                    } => Some(*required_approvals),
                    _ => None,
                }))
                .max();
            match most {
                Some(k) => k.to_string(),
                None => "no review required".into(),
            }
        }
        Need::VouchCheck => {
            let name = format!("vouch: {}", ctx.branch);
            let from: Vec<String> = classic
                .and_then(|c| c.status_checks.as_ref())
                .map(|s| s.checks.clone())
                .unwrap_or_default()
                .into_iter()
                .chain(rules.iter().flat_map(|r| match r {
                    Rule::RequiredStatusChecks { checks, .. } => checks.clone(),
                    _ => Vec::new(),
                }))
                .filter(|k| k.context == name)
                .map(|k| match k.app_id {
                    Some(id) => format!("app id {id}"),
                    None => "any source".into(),
                })
                .collect();
            if from.is_empty() {
                "not required".into()
            } else {
                format!("required from {} (not the vouch App)", from.join(", "))
            }
        }
        Need::NoForcePush => "force pushes allowed".into(),
        Need::NoDeletion => "deletion allowed".into(),
        Need::Check(_) => "not required".into(),
        _ => "off".into(),
    }
}

/// The findings for every protected branch.
/// Requirements one set of bypasses lets someone skip.
struct Bypassed {
    /// The bypasses, as the finding names them.
    key: String,
    /// (layer, who, who can fix it), as [`Standing::Bypassable`] has them.
    layers: Vec<(String, Vec<String>, &'static str)>,
    skipped: Vec<Need>,
    /// The first requirement's required value.
    required: String,
}

pub(crate) fn judge(policy: &Policy, posture: &Posture) -> Vec<Finding> {
    let mut findings = Vec::new();
    let default_ref = format!("refs/heads/{}", posture.default_branch);
    if policy.rules_for(&default_ref).next().is_some()
        && !posture
            .branches
            .iter()
            .any(|b| b.name == posture.default_branch)
    {
        findings.push(
            unreadable(
                &format!("the default branch {} is protected", posture.default_branch),
                "the audit gathered no facts about it",
                REPO_ADMIN,
            )
            .at(Location::reference(default_ref)),
        );
    }
    for b in &posture.branches {
        let Some(needs) = needs_for(policy, &b.name) else {
            continue;
        };
        let at = Location::reference(format!("refs/heads/{}", b.name));
        let mut bypassed: Vec<Bypassed> = Vec::new();
        for need in &needs.needs {
            let what = need.setting(&b.name);
            let required = need.required(posture.app_id);
            let finding = match standing(need, b, &needs.allowed, posture.app_id) {
                Standing::Holds => continue,
                Standing::Missing(current) => setting(
                    need.rule(),
                    format!(
                        "{}: `{what}` is {current}; the policy needs {required}",
                        b.name
                    ),
                    &what,
                    &current,
                    &required,
                    REPO_ADMIN,
                )
                .hint("add it to a ruleset on the branch (`vouch audit --fix` adds vouch's own)"),
                Standing::Bypassable(layers) => {
                    // One finding per set of bypasses, naming every requirement it lets
                    // someone skip: one screen, not one line per setting.
                    let all: Vec<String> = layers
                        .iter()
                        .map(|(l, w, _)| format!("{l} by {}", w.join(", ")))
                        .collect();
                    let key = all.join("; ");
                    match bypassed.iter_mut().find(|g| g.key == key) {
                        Some(g) => g.skipped.push(need.clone()),
                        None => bypassed.push(Bypassed {
                            key,
                            layers,
                            skipped: vec![need.clone()],
                            required,
                        }),
                    }
                    continue;
                }
                Standing::Unknown(why) => unreadable(
                    &format!("{}: `{what}` is enforced", b.name),
                    &why,
                    REPO_ADMIN,
                )
                .property("requirement", need.rule()),
            };
            findings.push(
                finding
                    .at(at.clone())
                    .property("policy", needs.defined_at.join(", ")),
            );
        }
        for Bypassed {
            key: all,
            layers,
            skipped,
            required,
        } in bypassed
        {
            let (layer, who, fix_by) = &layers[0];
            let settings: Vec<String> = skipped.iter().map(|n| n.setting(&b.name)).collect();
            let rules: Vec<&str> = skipped.iter().map(Need::rule).collect();
            let (what, verb) = match &settings[..] {
                [one] => (format!("`{one}`"), "is enforced only where it"),
                many => (
                    many.iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    "are enforced only where they",
                ),
            };
            let required = if skipped.len() == 1 {
                format!("{required}, bypassable only by push_allow")
            } else {
                "each enforced, bypassable only by push_allow".to_string()
            };
            findings.push(
                setting(
                    "posture.bypass",
                    format!(
                        "{}: {what} {verb} can be bypassed ({all})",
                        b.name
                    ),
                    &settings.join(", "),
                    &format!("bypassable: {all}"),
                    &required,
                    fix_by,
                )
                .hint(if who.iter().any(|w| w == "role:admin") && layer.starts_with("classic") {
                    "turn on `enforce_admins` (Include administrators), or enforce it in a ruleset without bypass actors (`vouch audit --fix`)"
                } else {
                    "remove the bypass actors not in the rule's push_allow, or enforce it in a ruleset without them (`vouch audit --fix`)"
                })
                .property("requirement", rules.join(", "))
                .property("layer", layer.clone())
                .at(at.clone())
                .property("policy", needs.defined_at.join(", ")),
            );
        }
    }
    findings
}

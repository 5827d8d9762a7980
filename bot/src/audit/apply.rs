//! Carrying out the rules engine's fix plan through the REST API, one action at a time; the
//! plan already took the stricter of every current and required value.

use crate::github::api::{repo_path, segment};
use crate::github::{As, GitHub, GithubError};
use reqwest::Method;
use serde_json::{json, Value};
use vouch_rules::change::posture::{ClassicProtection, Rule};
use vouch_rules::policy::Permission;
use vouch_rules::posture::Action;

/// GitHub's ruleset rule for one of ours.
pub fn rule_json(r: &Rule) -> Value {
    match r {
        Rule::Deletion => json!({"type": "deletion"}),
        Rule::NonFastForward => json!({"type": "non_fast_forward"}),
        Rule::RequiredLinearHistory => json!({"type": "required_linear_history"}),
        Rule::RequiredSignatures => json!({"type": "required_signatures"}),
        Rule::PullRequest {
            required_approvals,
            dismiss_stale,
            code_owners,
            last_push_approval,
        } => json!({"type": "pull_request", "parameters": {
            "required_approving_review_count": required_approvals,
            "dismiss_stale_reviews_on_push": dismiss_stale,
            "require_code_owner_review": code_owners,
            "require_last_push_approval": last_push_approval,
            "required_review_thread_resolution": false,
        }}),
        Rule::RequiredStatusChecks { strict, checks } => {
            json!({"type": "required_status_checks", "parameters": {
                "strict_required_status_checks_policy": strict,
                "required_status_checks": checks.iter().map(|c| match c.app_id {
                    Some(id) => json!({"context": c.context, "integration_id": id}),
                    None => json!({"context": c.context}),
                }).collect::<Vec<_>>(),
            }})
        }
        Rule::Other { name } => json!({"type": name}),
    }
}

/// The PUT body for classic protection: the merged settings, with the push restrictions,
/// conversation resolution and lock of `current` (fields vouch does not model) kept.
pub fn classic_json(p: &ClassicProtection, current: Option<&Value>) -> Value {
    let keep = |pointer: &str| {
        current
            .and_then(|c| c.pointer(pointer))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let restrictions = current
        .and_then(|c| c.get("restrictions"))
        .filter(|r| !r.is_null())
        .map(|r| {
            let names = |k: &str, field: &str| -> Vec<Value> {
                r.get(k)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|x| x.get(field).cloned()).collect())
                    .unwrap_or_default()
            };
            json!({"users": names("users", "login"), "teams": names("teams", "slug"), "apps": names("apps", "slug")})
        })
        .unwrap_or(Value::Null);
    let reviews = p.reviews.as_ref().map_or(Value::Null, |r| {
        let users: Vec<&str> = r
            .bypass
            .iter()
            .filter(|b| !b.contains('/') && !b.starts_with("app:"))
            .map(String::as_str)
            .collect();
        let teams: Vec<&str> = r
            .bypass
            .iter()
            .filter_map(|b| b.split_once('/').map(|(_, s)| s))
            .collect();
        json!({
            "required_approving_review_count": r.required_approvals,
            "dismiss_stale_reviews": r.dismiss_stale,
            "require_code_owner_reviews": r.code_owners,
            "require_last_push_approval": r.last_push_approval,
            "bypass_pull_request_allowances": {"users": users, "teams": teams, "apps": []},
        })
    });
    let checks = p.status_checks.as_ref().map_or(Value::Null, |s| {
        json!({
            "strict": s.strict,
            "checks": s.checks.iter().map(|c| match c.app_id {
                Some(id) => json!({"context": c.context, "app_id": id}),
                None => json!({"context": c.context}),
            }).collect::<Vec<_>>(),
        })
    });
    json!({
        "required_status_checks": checks,
        "enforce_admins": p.enforce_admins,
        "required_pull_request_reviews": reviews,
        "restrictions": restrictions,
        "required_linear_history": p.linear_history,
        "allow_force_pushes": p.allow_force_pushes,
        "allow_deletions": p.allow_deletions,
        "required_conversation_resolution": keep("/required_conversation_resolution/enabled"),
        "lock_branch": keep("/lock_branch/enabled"),
        "block_creations": keep("/block_creations/enabled"),
    })
}

/// GitHub's name for a repository permission in collaborator and team grants.
fn grant_name(p: Permission) -> &'static str {
    match p {
        Permission::Read | Permission::None => "pull",
        Permission::Triage => "triage",
        Permission::Write => "push",
        Permission::Maintain => "maintain",
        Permission::Admin => "admin",
    }
}

/// Apply one fixable action to `repo` (`owner/name`); `Manual` actions do nothing.
pub async fn apply(gh: &GitHub, who: As, repo: &str, action: &Action) -> Result<(), GithubError> {
    let rp = repo_path(repo);
    match action {
        Action::Ruleset {
            existing,
            name,
            include,
            rules,
            bypass,
            ..
        } => {
            let body = json!({
                "name": name,
                "target": "branch",
                "enforcement": "active",
                "bypass_actors": bypass.iter().map(|a| json!({
                    "actor_id": a.actor_id, "actor_type": a.actor_type, "bypass_mode": a.mode,
                })).collect::<Vec<_>>(),
                "conditions": {"ref_name": {"include": include, "exclude": []}},
                "rules": rules.iter().map(rule_json).collect::<Vec<_>>(),
            });
            match existing {
                Some(id) => {
                    gh.request(
                        Method::PUT,
                        &format!("/repos/{rp}/rulesets/{id}"),
                        who,
                        Some(&body),
                    )
                    .await?
                }
                None => {
                    gh.request(
                        Method::POST,
                        &format!("/repos/{rp}/rulesets"),
                        who,
                        Some(&body),
                    )
                    .await?
                }
            };
        }
        Action::Classic { branch, protection } => {
            let path = format!("/repos/{rp}/branches/{}/protection", segment(branch));
            let current = gh.get(&path, who).await.ok();
            let body = classic_json(protection, current.as_ref());
            gh.request(Method::PUT, &path, who, Some(&body)).await?;
        }
        Action::Collaborator { login, to, .. } => {
            let path = format!("/repos/{rp}/collaborators/{}", segment(login));
            if *to == Permission::None {
                gh.request(Method::DELETE, &path, who, None).await?;
            } else {
                let body = json!({"permission": grant_name(*to)});
                gh.request(Method::PUT, &path, who, Some(&body)).await?;
            }
        }
        Action::Team { team, to, .. } => {
            let (org, slug) = team.split_once('/').unwrap_or(("", team.as_str()));
            let path = format!("/orgs/{}/teams/{}/repos/{rp}", segment(org), segment(slug));
            if *to == Permission::None {
                gh.request(Method::DELETE, &path, who, None).await?;
            } else {
                let body = json!({"permission": grant_name(*to)});
                gh.request(Method::PUT, &path, who, Some(&body)).await?;
            }
        }
        Action::Manual { .. } => {}
    }
    Ok(())
}

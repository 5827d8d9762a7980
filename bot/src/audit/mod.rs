//! The posture audit's edges: [`gather`] reads a repository's forge settings into
//! [`Posture`] facts for the rules engine, [`judge`] hands them to it, and [`apply`] carries
//! out its fix plan. [`job`] is the bot's audit (on a schedule and on settings events), which
//! publishes the verdict as a check run and a self-updating [`issue`]. Nothing here decides
//! anything: what holds and what to change come from `vouch_rules`.
//!
//! A fact the token may not read (403, or a 404 GitHub gives instead of 403) becomes
//! [`Fact::Unknown`] naming the permission it needs, so the audit fails closed on it.

pub mod apply;
pub mod issue;
pub mod job;

use crate::github::api::{repo_path, segment};
use crate::github::{As, GitHub, GithubError};
use serde_json::Value;
use std::collections::BTreeMap;
use vouch_rules::change::posture::*;
use vouch_rules::change::{Change, Stage};
use vouch_rules::policy::{Member, Permission, Policy};
use vouch_rules::{Engine, Verdict};

/// The posture verdict on `posture` under `policy` at `now` (Unix seconds): the rules engine's
/// posture check alone, as `vouch audit` and the bot both judge it.
pub fn judge(policy: &Policy, posture: Posture, now: i64) -> Verdict {
    let mut change = Change::new(Stage::Push, now);
    change.posture = Some(posture);
    Engine::new(policy.clone())
        .only(&["posture"])
        .evaluate(&change)
}

/// What to audit.
#[derive(Debug, Clone)]
pub struct Target {
    /// `owner/name`.
    pub repo: String,
    /// The organisation whose settings apply; default: the owner, when it is an organisation.
    pub org: Option<String>,
    /// The vouch App's id.
    pub app_id: Option<i64>,
}

fn unknown(e: &GithubError, permission: &str) -> String {
    format!("needs {permission} ({e})")
}

/// `Known` on success; `Unknown` naming `permission` when GitHub refused; `Err` otherwise.
fn fact<T>(r: Result<T, GithubError>, permission: &str) -> Result<Fact<T>, GithubError> {
    match r {
        Ok(t) => Ok(Fact::Known(t)),
        Err(e) if matches!(e.status(), Some(403 | 404 | 422)) => {
            Ok(Fact::Unknown(unknown(&e, permission)))
        }
        Err(e) => Err(e),
    }
}

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn b(v: &Value, pointer: &str) -> bool {
    v.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

fn time(v: &Value, k: &str) -> Option<i64> {
    v.get(k)
        .and_then(Value::as_str)
        .and_then(vouch_rules::time::parse_rfc3339)
}

/// A permission as GitHub spells it in roles (`role_name`) or team grants (`pull`, `push`).
fn permission(text: &str) -> Permission {
    Permission::parse(text).unwrap_or(Permission::Read)
}

/// The permission of a collaborator entry: `role_name`, else the highest `permissions` flag.
fn collaborator_permission(v: &Value) -> Permission {
    if let Some(role) = v.get("role_name").and_then(Value::as_str) {
        if let Some(p) = Permission::parse(role) {
            return p;
        }
    }
    let flags = [
        ("admin", Permission::Admin),
        ("maintain", Permission::Maintain),
        ("push", Permission::Write),
        ("triage", Permission::Triage),
        ("pull", Permission::Read),
    ];
    flags
        .iter()
        .find(|(k, _)| b(v, &format!("/permissions/{k}")))
        .map_or(Permission::None, |(_, p)| *p)
}

fn check(v: &Value, id_key: &str) -> RequiredCheck {
    RequiredCheck {
        context: s(v, "context"),
        app_id: v.get(id_key).and_then(Value::as_i64).filter(|id| *id > 0),
    }
}

/// Classic protection from `GET …/branches/{b}/protection`.
pub fn classic(v: &Value) -> ClassicProtection {
    let status_checks = v
        .get("required_status_checks")
        .filter(|c| !c.is_null())
        .map(|c| {
            let mut checks: Vec<RequiredCheck> = c
                .get("checks")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|k| check(k, "app_id")).collect())
                .unwrap_or_default();
            for ctx in c
                .get("contexts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let ctx = ctx.as_str().unwrap_or("");
                if !checks.iter().any(|k| k.context == ctx) {
                    checks.push(RequiredCheck {
                        context: ctx.to_string(),
                        app_id: None,
                    });
                }
            }
            StatusChecks {
                strict: b(c, "/strict"),
                checks,
            }
        });
    let reviews = v
        .get("required_pull_request_reviews")
        .filter(|r| !r.is_null())
        .map(|r| {
            let mut bypass = Vec::new();
            if let Some(a) = r.get("bypass_pull_request_allowances") {
                for u in a
                    .get("users")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    bypass.push(s(u, "login"));
                }
                for t in a
                    .get("teams")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let org = t
                        .get("html_url")
                        .and_then(Value::as_str)
                        .and_then(|u| u.split("/orgs/").nth(1))
                        .and_then(|u| u.split('/').next())
                        .unwrap_or("");
                    bypass.push(format!("{org}/{}", s(t, "slug")));
                }
                for app in a
                    .get("apps")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    bypass.push(format!(
                        "app:{}",
                        app.get("id").and_then(Value::as_i64).unwrap_or(0)
                    ));
                }
            }
            ClassicReviews {
                required_approvals: r
                    .get("required_approving_review_count")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as u32,
                dismiss_stale: b(r, "/dismiss_stale_reviews"),
                code_owners: b(r, "/require_code_owner_reviews"),
                last_push_approval: b(r, "/require_last_push_approval"),
                bypass,
            }
        });
    ClassicProtection {
        status_checks,
        enforce_admins: b(v, "/enforce_admins/enabled"),
        reviews,
        allow_force_pushes: b(v, "/allow_force_pushes/enabled"),
        allow_deletions: b(v, "/allow_deletions/enabled"),
        required_signatures: b(v, "/required_signatures/enabled"),
        linear_history: b(v, "/required_linear_history/enabled"),
    }
}

/// One rule of `GET …/rules/branches/{b}` or of a ruleset.
pub fn rule(v: &Value) -> Rule {
    let p = v.get("parameters").cloned().unwrap_or(Value::Null);
    match s(v, "type").as_str() {
        "deletion" => Rule::Deletion,
        "non_fast_forward" => Rule::NonFastForward,
        "required_linear_history" => Rule::RequiredLinearHistory,
        "required_signatures" => Rule::RequiredSignatures,
        "pull_request" => Rule::PullRequest {
            required_approvals: p
                .get("required_approving_review_count")
                .and_then(Value::as_u64)
                .unwrap_or(0) as u32,
            dismiss_stale: b(&p, "/dismiss_stale_reviews_on_push"),
            code_owners: b(&p, "/require_code_owner_review"),
            last_push_approval: b(&p, "/require_last_push_approval"),
        },
        "required_status_checks" => Rule::RequiredStatusChecks {
            strict: b(&p, "/strict_required_status_checks_policy"),
            checks: p
                .get("required_status_checks")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|k| check(k, "integration_id")).collect())
                .unwrap_or_default(),
        },
        other => Rule::Other {
            name: other.to_string(),
        },
    }
}

/// A bypass actor in the policy's terms, where it can be told.
fn actor(v: &Value, teams: &BTreeMap<i64, String>) -> BypassActor {
    let actor_type = s(v, "actor_type");
    let actor_id = v.get("actor_id").and_then(Value::as_i64);
    let name = match (actor_type.as_str(), actor_id) {
        ("Team", Some(id)) => teams.get(&id).cloned(),
        ("Integration", Some(id)) => Some(format!("app:{id}")),
        // GitHub's built-in repository roles: 1 read, 2 triage, 3 write, 4 maintain, 5 admin.
        ("RepositoryRole", Some(5)) => Some("role:admin".into()),
        ("RepositoryRole", Some(4)) => Some("role:maintain".into()),
        ("RepositoryRole", Some(3)) => Some("role:write".into()),
        ("OrganizationAdmin", _) => Some("role:org-admin".into()),
        ("DeployKey", _) => Some("deploy-key".into()),
        _ => None,
    };
    BypassActor {
        actor_type,
        actor_id,
        mode: s(v, "bypass_mode"),
        name,
    }
}

fn ruleset(v: &Value, teams: &BTreeMap<i64, String>, rules: Vec<Rule>) -> Ruleset {
    Ruleset {
        id: v.get("id").and_then(Value::as_i64).unwrap_or(0),
        name: s(v, "name"),
        source_type: s(v, "source_type"),
        source: s(v, "source"),
        enforcement: s(v, "enforcement"),
        // GitHub leaves `bypass_actors` out for a reader who may not edit the ruleset.
        bypass: match v.get("bypass_actors").and_then(Value::as_array) {
            Some(a) => Fact::Known(a.iter().map(|x| actor(x, teams)).collect()),
            None => Fact::Unknown(
                "needs permission to edit the ruleset to see its bypass actors (repository `Administration: read`, or organisation owner for an organisation ruleset)".into(),
            ),
        },
        rules,
    }
}

/// Read every fact the posture check judges.
pub async fn gather(
    gh: &GitHub,
    who: As,
    policy: &Policy,
    target: &Target,
) -> Result<Posture, GithubError> {
    let rp = repo_path(&target.repo);
    let repo = gh.get(&format!("/repos/{rp}"), who).await?;
    let default_branch = s(&repo, "default_branch");
    let owner = repo
        .pointer("/owner/login")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let owner_is_org = repo.pointer("/owner/type").and_then(Value::as_str) == Some("Organization")
        || target.org.is_some();
    let org = target.org.clone().unwrap_or(owner);
    const ADMIN_READ: &str = "the repository `Administration: read` permission";
    const MEMBERS_READ: &str = "the organisation `Members: read` permission";
    const ORG_ADMIN_READ: &str =
        "the organisation `Administration: read` permission (an organisation owner's token)";

    let teams = fact(
        gh.get_all(&format!("/repos/{rp}/teams"), who, None).await,
        ADMIN_READ,
    )?;
    let team_ids: BTreeMap<i64, String> = teams
        .known()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.get("id")?.as_i64()?, format!("{org}/{}", s(t, "slug")))))
        .collect();

    let names: Vec<String> = match gh
        .get_all(&format!("/repos/{rp}/branches"), who, None)
        .await
    {
        Ok(list) => list.iter().map(|b| s(b, "name")).collect(),
        Err(e) if e.retryable() => return Err(e),
        Err(_) => vec![default_branch.clone()],
    };
    let mut protected: Vec<String> = names
        .into_iter()
        .filter(|n| {
            policy
                .rules_for(&format!("refs/heads/{n}"))
                .next()
                .is_some()
        })
        .collect();
    protected.sort_by_key(|n| (*n != default_branch, n.clone()));
    let repo_rulesets = fact(
        gh.get_all(&format!("/repos/{rp}/rulesets"), who, None)
            .await,
        ADMIN_READ,
    )?;

    let mut branches = Vec::new();
    for name in protected {
        let bp = format!("/repos/{rp}/branches/{}/protection", segment(&name));
        let classic_fact = match gh.get(&bp, who).await {
            Ok(v) => Fact::Known(Some(classic(&v))),
            Err(e) if e.status() == Some(404) && e.to_string().contains("Branch not protected") => {
                Fact::Known(None)
            }
            Err(e) => fact::<Option<ClassicProtection>>(Err(e), ADMIN_READ)?,
        };
        let rules_path = format!("/repos/{rp}/rules/branches/{}", segment(&name));
        let rulesets = match gh.get_all(&rules_path, who, None).await {
            Ok(entries) => {
                let mut by_id: BTreeMap<i64, (String, String, Vec<Rule>)> = BTreeMap::new();
                for e in &entries {
                    let id = e.get("ruleset_id").and_then(Value::as_i64).unwrap_or(0);
                    let entry = by_id.entry(id).or_insert_with(|| {
                        (
                            s(e, "ruleset_source_type"),
                            s(e, "ruleset_source"),
                            Vec::new(),
                        )
                    });
                    entry.2.push(rule(e));
                }
                let managed_name = format!("{MANAGED_RULESET_PREFIX}{name}");
                if let Some(list) = repo_rulesets.known() {
                    for r in list.iter().filter(|r| s(r, "name") == managed_name) {
                        let id = r.get("id").and_then(Value::as_i64).unwrap_or(0);
                        by_id.entry(id).or_insert_with(|| {
                            ("Repository".into(), target.repo.clone(), Vec::new())
                        });
                    }
                }
                let mut sets = Vec::new();
                for (id, (source_type, source, rules)) in by_id {
                    let path = if source_type == "Organization" {
                        format!("/orgs/{}/rulesets/{id}", segment(&source))
                    } else {
                        format!("/repos/{rp}/rulesets/{id}")
                    };
                    match gh.get(&path, who).await {
                        Ok(v) => {
                            // The branch's merged rules are what applies; a managed ruleset the
                            // merge left out (disabled) keeps its own rules for the plan.
                            let rules = if rules.is_empty() {
                                v.get("rules")
                                    .and_then(Value::as_array)
                                    .map(|a| a.iter().map(rule).collect())
                                    .unwrap_or_default()
                            } else {
                                rules
                            };
                            sets.push(ruleset(&v, &team_ids, rules));
                        }
                        Err(e) if matches!(e.status(), Some(403 | 404)) => sets.push(Ruleset {
                            id,
                            name: format!("ruleset {id}"),
                            source_type,
                            source,
                            enforcement: "active".into(),
                            bypass: Fact::Unknown(unknown(&e, "permission to read the ruleset")),
                            rules,
                        }),
                        Err(e) => return Err(e),
                    }
                }
                Fact::Known(sets)
            }
            Err(e) => fact(
                Err(e),
                "the repository `Metadata: read` permission and rulesets on this plan",
            )?,
        };
        branches.push(BranchPosture {
            name,
            classic: classic_fact,
            rulesets,
        });
    }

    let collaborators = fact(
        gh.get_all(
            &format!("/repos/{rp}/collaborators?affiliation=all"),
            who,
            None,
        )
        .await
        .map(|list| {
            list.iter()
                .map(|c| Grant {
                    name: s(c, "login"),
                    permission: collaborator_permission(c),
                })
                .collect::<Vec<_>>()
        }),
        "the repository `Metadata: read` permission and push access",
    )?;
    let team_grants = match &teams {
        Fact::Known(list) => Fact::Known(
            list.iter()
                .map(|t| Grant {
                    name: format!("{org}/{}", s(t, "slug")),
                    permission: permission(&s(t, "permission")),
                })
                .collect(),
        ),
        Fact::Unknown(w) => Fact::Unknown(w.clone()),
    };
    let mut team_members = BTreeMap::new();
    if let Some(roles) = &policy.roles {
        for (_, members) in &roles.members {
            for m in members {
                let Member::Team(t) = m else { continue };
                let Some((o, slug)) = t.split_once('/') else {
                    continue;
                };
                let path = format!("/orgs/{}/teams/{}/members", segment(o), segment(slug));
                let got = gh
                    .get_all(&path, who, None)
                    .await
                    .map(|l| l.iter().map(|u| s(u, "login")).collect::<Vec<_>>());
                team_members.insert(t.clone(), fact(got, MEMBERS_READ)?);
            }
        }
    }
    let deploy_keys = fact(
        gh.get_all(&format!("/repos/{rp}/keys"), who, None)
            .await
            .map(|l| {
                l.iter()
                    .map(|k| DeployKey {
                        id: k.get("id").and_then(Value::as_i64).unwrap_or(0),
                        title: s(k, "title"),
                        created_at: time(k, "created_at").unwrap_or(0),
                        read_only: k.get("read_only").and_then(Value::as_bool).unwrap_or(false),
                    })
                    .collect::<Vec<_>>()
            }),
        ADMIN_READ,
    )?;

    let (mut org_requires_2fa, mut members_without_2fa, mut outside, mut grants) =
        (None, None, None, None);
    if owner_is_org {
        let o = segment(&org);
        org_requires_2fa = Some(match gh.get(&format!("/orgs/{o}"), who).await {
            Ok(v) => match v.get("two_factor_requirement_enabled").and_then(Value::as_bool) {
                Some(on) => Fact::Known(on),
                None => Fact::Unknown(format!("needs {ORG_ADMIN_READ} (GitHub shows two_factor_requirement_enabled to owners only)")),
            },
            Err(e) => fact(Err(e), ORG_ADMIN_READ)?,
        });
        members_without_2fa = Some(fact(
            gh.get_all(&format!("/orgs/{o}/members?filter=2fa_disabled"), who, None)
                .await
                .map(|l| l.iter().map(|u| s(u, "login")).collect::<Vec<_>>()),
            ORG_ADMIN_READ,
        )?);
        outside = Some(
            match gh
                .get_all(&format!("/orgs/{o}/outside_collaborators"), who, None)
                .await
            {
                Ok(list) => match &collaborators {
                    Fact::Known(all) => Fact::Known(
                        list.iter()
                            .filter_map(|u| {
                                let login = s(u, "login");
                                all.iter()
                                    .find(|g| g.name.eq_ignore_ascii_case(&login))
                                    .cloned()
                            })
                            .collect(),
                    ),
                    Fact::Unknown(w) => Fact::Unknown(w.clone()),
                },
                Err(e) => fact(Err(e), MEMBERS_READ)?,
            },
        );
        if policy.access.max_pat_lifetime_days.is_some() {
            grants = Some(fact(
                gh.get_all(&format!("/orgs/{o}/personal-access-tokens"), who, None)
                    .await
                    .map(|l| {
                        l.iter()
                            .map(|g| TokenGrant {
                                id: g.get("id").and_then(Value::as_i64).unwrap_or(0),
                                owner: g.pointer("/owner/login").and_then(Value::as_str).unwrap_or("").into(),
                                granted_at: time(g, "access_granted_at").unwrap_or(0),
                                expires_at: time(g, "token_expires_at"),
                            })
                            .collect::<Vec<_>>()
                    }),
                "the organisation `Personal access tokens: read` permission (a GitHub App's, as an organisation owner installs it)",
            )?);
        }
    }

    Ok(Posture {
        repo: target.repo.clone(),
        default_branch,
        owner_is_org,
        app_id: target.app_id,
        branches,
        org_requires_2fa,
        members_without_2fa,
        outside_collaborators: outside,
        collaborators,
        teams: team_grants,
        team_members,
        deploy_keys,
        token_grants: grants,
    })
}

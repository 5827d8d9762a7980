//! The settings a posture audit reads and repairs: branches, classic branch protection,
//! repository and organisation rulesets (and the merged `rules/branches` view), collaborators,
//! teams' grants, the organisation's 2FA setting, members and outside collaborators, deploy
//! keys. Answers start from GitHub's published examples where there is one (`repos/…`,
//! `orgs/…`, `teams/…`); deploy keys follow the documented shape, for which the published
//! examples hold no file. Writes GitHub would refuse are violations.

use crate::endpoints::Ctx;
use crate::http::Reply;
use crate::state::repo_key;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A ruleset in a scenario (repository or organisation).
#[derive(Debug, Clone, PartialEq)]
pub struct FakeRuleset {
    pub id: i64,
    pub name: String,
    /// `active`, `evaluate` or `disabled`.
    pub enforcement: String,
    /// GitHub's `bypass_actors` entries.
    pub bypass_actors: Vec<Value>,
    /// Full ref names (`refs/heads/main`), `~DEFAULT_BRANCH` or `~ALL`; `*` globs.
    pub include: Vec<String>,
    /// GitHub's rule objects (`{"type": …, "parameters": …}`).
    pub rules: Vec<Value>,
}

/// A deploy key in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeDeployKey {
    pub id: i64,
    pub title: String,
    pub created_at: String,
    pub read_only: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Settings {
    /// repo key → branch names.
    pub(crate) branches: HashMap<String, Vec<String>>,
    /// (repo key, branch) → GitHub's protection answer.
    pub(crate) protection: HashMap<(String, String), Value>,
    /// repo key → rulesets.
    pub(crate) repo_rulesets: HashMap<String, Vec<FakeRuleset>>,
    /// org lower case → rulesets.
    pub(crate) org_rulesets: HashMap<String, Vec<FakeRuleset>>,
    /// (repo key) → (org, slug, id, permission).
    pub(crate) team_grants: HashMap<String, Vec<(String, String, i64, String)>>,
    /// org lower case → two_factor_requirement_enabled.
    pub(crate) org_2fa: HashMap<String, bool>,
    /// org lower case → (login, has 2FA).
    pub(crate) members: HashMap<String, Vec<(String, bool)>>,
    /// org lower case → logins.
    pub(crate) outside: HashMap<String, Vec<String>>,
    pub(crate) keys: HashMap<String, Vec<FakeDeployKey>>,
    /// Ruleset writes, in order: (method, repo key, body).
    pub(crate) ruleset_writes: Vec<(String, String, Value)>,
}

/// A posture route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Branches(String, String),
    Protection(String, String, String),
    PutProtection(String, String, String),
    BranchRules(String, String, String),
    RepoRulesets(String, String),
    RepoRuleset(String, String, i64),
    CreateRuleset(String, String),
    UpdateRuleset(String, String, i64),
    OrgRuleset(String, i64),
    RepoTeams(String, String),
    Collaborators(String, String),
    SetCollaborator(String, String, String),
    RemoveCollaborator(String, String, String),
    SetTeamRepo(String, String, String, String),
    Org(String),
    Members(String),
    Outside(String),
    Keys(String, String),
}

impl Route {
    pub(crate) fn parse(method: &str, s: &[&str]) -> Option<Route> {
        let t = |x: &str| x.to_string();
        let id = |x: &str| x.parse::<i64>().ok().filter(|n| *n > 0);
        Some(match (method, s) {
            ("GET", ["repos", o, r, "branches"]) => Route::Branches(t(o), t(r)),
            ("GET", ["repos", o, r, "branches", b, "protection"]) => {
                Route::Protection(t(o), t(r), t(b))
            }
            ("PUT", ["repos", o, r, "branches", b, "protection"]) => {
                Route::PutProtection(t(o), t(r), t(b))
            }
            ("GET", ["repos", o, r, "rules", "branches", b]) => {
                Route::BranchRules(t(o), t(r), t(b))
            }
            ("GET", ["repos", o, r, "rulesets"]) => Route::RepoRulesets(t(o), t(r)),
            ("POST", ["repos", o, r, "rulesets"]) => Route::CreateRuleset(t(o), t(r)),
            ("GET", ["repos", o, r, "rulesets", i]) => Route::RepoRuleset(t(o), t(r), id(i)?),
            ("PUT", ["repos", o, r, "rulesets", i]) => Route::UpdateRuleset(t(o), t(r), id(i)?),
            ("GET", ["orgs", o, "rulesets", i]) => Route::OrgRuleset(t(o), id(i)?),
            ("GET", ["repos", o, r, "teams"]) => Route::RepoTeams(t(o), t(r)),
            ("GET", ["repos", o, r, "collaborators"]) => Route::Collaborators(t(o), t(r)),
            ("PUT", ["repos", o, r, "collaborators", u]) => {
                Route::SetCollaborator(t(o), t(r), t(u))
            }
            ("DELETE", ["repos", o, r, "collaborators", u]) => {
                Route::RemoveCollaborator(t(o), t(r), t(u))
            }
            ("PUT", ["orgs", org, "teams", slug, "repos", o, r]) => {
                Route::SetTeamRepo(t(org), t(slug), t(o), t(r))
            }
            ("GET", ["orgs", o]) => Route::Org(t(o)),
            ("GET", ["orgs", o, "members"]) => Route::Members(t(o)),
            ("GET", ["orgs", o, "outside_collaborators"]) => Route::Outside(t(o)),
            ("GET", ["repos", o, r, "keys"]) => Route::Keys(t(o), t(r)),
            _ => return None,
        })
    }

    pub(crate) fn operation(&self) -> &'static str {
        match self {
            Route::Branches(..) => "repos/list-branches",
            Route::Protection(..) => "repos/get-branch-protection",
            Route::PutProtection(..) => "repos/update-branch-protection",
            Route::BranchRules(..) => "repos/get-branch-rules",
            Route::RepoRulesets(..) => "repos/get-repo-rulesets",
            Route::RepoRuleset(..) => "repos/get-repo-ruleset",
            Route::CreateRuleset(..) => "repos/create-repo-ruleset",
            Route::UpdateRuleset(..) => "repos/update-repo-ruleset",
            Route::OrgRuleset(..) => "repos/get-org-ruleset",
            Route::RepoTeams(..) => "repos/list-teams",
            Route::Collaborators(..) => "repos/list-collaborators",
            Route::SetCollaborator(..) => "repos/add-collaborator",
            Route::RemoveCollaborator(..) => "repos/remove-collaborator",
            Route::SetTeamRepo(..) => "teams/add-or-update-repo-permissions-in-org",
            Route::Org(..) => "orgs/get",
            Route::Members(..) => "orgs/list-members",
            Route::Outside(..) => "orgs/list-outside-collaborators",
            Route::Keys(..) => "repos/list-deploy-keys",
        }
    }
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.starts_with(pre) && name[pre.len()..].ends_with(post.trim_start_matches('*'))
        }
    }
}

fn applies(rs: &FakeRuleset, branch: &str, default_branch: &str) -> bool {
    let full = format!("refs/heads/{branch}");
    rs.include.iter().any(|p| match p.as_str() {
        "~ALL" => true,
        "~DEFAULT_BRANCH" => branch == default_branch,
        p => glob(p, &full),
    })
}

fn permission_flags(role: &str) -> Value {
    let have = match role {
        "admin" => 5,
        "maintain" => 4,
        "write" | "push" => 3,
        "triage" => 2,
        _ => 1,
    };
    json!({"admin": have >= 5, "maintain": have >= 4, "push": have >= 3, "triage": have >= 2, "pull": have >= 1})
}

/// GitHub answers team permissions with the legacy names.
fn legacy(role: &str) -> &str {
    match role {
        "write" => "push",
        "read" => "pull",
        r => r,
    }
}

fn ruleset_json(ctx: &Ctx<'_>, rs: &FakeRuleset, source_type: &str, source: &str) -> Value {
    let mut v = ctx.shared.fixtures.get("repos/get-repo-ruleset.json");
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(rs.id));
        m.insert("name".into(), json!(rs.name));
        m.insert("source_type".into(), json!(source_type));
        m.insert("source".into(), json!(source));
        m.insert("enforcement".into(), json!(rs.enforcement));
        m.insert("bypass_actors".into(), json!(rs.bypass_actors));
        m.insert(
            "conditions".into(),
            json!({"ref_name": {"include": rs.include, "exclude": []}}),
        );
        m.insert("rules".into(), json!(rs.rules));
    }
    v
}

/// Check a ruleset body as GitHub validates it; the problems found.
fn ruleset_problems(body: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if body
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        p.push("name is missing".into());
    }
    if !matches!(
        body.get("enforcement").and_then(Value::as_str),
        Some("active" | "evaluate" | "disabled")
    ) {
        p.push("enforcement must be active, evaluate or disabled".into());
    }
    if body
        .pointer("/conditions/ref_name/include")
        .and_then(Value::as_array)
        .is_none()
    {
        p.push("conditions.ref_name.include is missing".into());
    }
    let known = [
        "deletion",
        "non_fast_forward",
        "required_linear_history",
        "required_signatures",
        "pull_request",
        "required_status_checks",
        "creation",
        "update",
    ];
    for r in body
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let t = r.get("type").and_then(Value::as_str).unwrap_or("");
        if !known.contains(&t) {
            p.push(format!("unknown rule type {t:?}"));
        }
        if t == "pull_request"
            && r.pointer("/parameters/required_approving_review_count")
                .is_none()
        {
            p.push("pull_request rule without parameters.required_approving_review_count".into());
        }
        if t == "required_status_checks"
            && r.pointer("/parameters/required_status_checks").is_none()
        {
            p.push("required_status_checks rule without parameters.required_status_checks".into());
        }
    }
    p
}

fn ruleset_from(id: i64, body: &Value) -> FakeRuleset {
    FakeRuleset {
        id,
        name: body["name"].as_str().unwrap_or("").into(),
        enforcement: body["enforcement"].as_str().unwrap_or("").into(),
        bypass_actors: body
            .get("bypass_actors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        include: body
            .pointer("/conditions/ref_name/include")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        rules: body
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    }
}

/// GitHub's protection answer from a PUT body (`null` sections are off).
pub(crate) fn protection_from_put(
    fx: &crate::fixtures::Fixtures,
    body: &Value,
    base: &str,
) -> Value {
    let enabled =
        |k: &str| json!({"enabled": body.get(k).and_then(Value::as_bool).unwrap_or(false)});
    let mut v = json!({
        "url": format!("{base}/protection"),
        "enforce_admins": enabled("enforce_admins"),
        "required_linear_history": enabled("required_linear_history"),
        "allow_force_pushes": enabled("allow_force_pushes"),
        "allow_deletions": enabled("allow_deletions"),
        "required_conversation_resolution": enabled("required_conversation_resolution"),
        "lock_branch": enabled("lock_branch"),
        "block_creations": enabled("block_creations"),
        "required_signatures": {"enabled": false},
    });
    if let Some(c) = body.get("required_status_checks").filter(|c| !c.is_null()) {
        let checks = c.get("checks").cloned().unwrap_or(json!([]));
        let contexts: Vec<Value> = checks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.get("context").cloned())
            .collect();
        v["required_status_checks"] = json!({"strict": c.get("strict").cloned().unwrap_or(json!(false)), "checks": checks, "contexts": contexts});
    }
    if let Some(r) = body
        .get("required_pull_request_reviews")
        .filter(|r| !r.is_null())
    {
        let mut reviews =
            fx.get("repos/get-branch-protection.json")["required_pull_request_reviews"].clone();
        for k in [
            "required_approving_review_count",
            "dismiss_stale_reviews",
            "require_code_owner_reviews",
            "require_last_push_approval",
        ] {
            reviews[k] = r.get(k).cloned().unwrap_or(json!(false));
        }
        if let Value::Object(m) = &mut reviews {
            m.remove("dismissal_restrictions");
            m.insert(
                "bypass_pull_request_allowances".into(),
                json!({"users": [], "teams": [], "apps": []}),
            );
        }
        v["required_pull_request_reviews"] = reviews;
    }
    v
}

pub(crate) fn answer(ctx: &Ctx<'_>, route: &Route, body: Option<&Value>) -> Reply {
    let fx = &ctx.shared.fixtures;
    let base = ctx.shared.base_url.clone();
    let repo_ok = |o: &str, r: &str| {
        let state = ctx.shared.state();
        state
            .repo(o, r)
            .filter(|x| Some(x.installation) == ctx.installation)
            .cloned()
    };
    let org_ok = |o: &str| {
        let state = ctx.shared.state();
        ctx.installation
            .and_then(|i| state.installations.get(&i))
            .is_some_and(|i| i.account.eq_ignore_ascii_case(o))
    };
    let list = |items: Vec<Value>| Reply::json(200, Value::Array(items));
    match route {
        Route::Branches(o, r) => {
            let Some(repo) = repo_ok(o, r) else {
                return Reply::not_found(ctx.docs);
            };
            let names = ctx
                .shared
                .state()
                .posture
                .branches
                .get(&repo_key(o, r))
                .cloned()
                .unwrap_or_else(|| vec![repo.default_branch.clone()]);
            let shape = fx
                .get("repos/list-branches.json")
                .get(0)
                .cloned()
                .unwrap_or(json!({}));
            list(
                names
                    .iter()
                    .map(|n| {
                        let mut b = shape.clone();
                        b["name"] = json!(n);
                        let protected = ctx
                            .shared
                            .state()
                            .posture
                            .protection
                            .contains_key(&(repo_key(o, r), n.clone()));
                        b["protected"] = json!(protected);
                        b
                    })
                    .collect(),
            )
        }
        Route::Protection(o, r, b) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            match ctx
                .shared
                .state()
                .posture
                .protection
                .get(&(repo_key(o, r), b.clone()))
            {
                Some(p) => Reply::json(200, p.clone()),
                None => Reply::error(404, "Branch not protected", ctx.docs),
            }
        }
        Route::PutProtection(o, r, b) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            let Some(body) = body else {
                return Reply::invalid(ctx.docs, "Branch", &["a body is required".into()]);
            };
            let missing: Vec<String> = [
                "required_status_checks",
                "enforce_admins",
                "required_pull_request_reviews",
                "restrictions",
            ]
            .iter()
            .filter(|k| body.get(**k).is_none())
            .map(|k| format!("{k} is required (use null to turn it off)"))
            .collect();
            if !missing.is_empty() {
                for m in &missing {
                    ctx.shared.state().violation(format!("{}: {m}", ctx.what));
                }
                return Reply::invalid(ctx.docs, "Branch", &missing);
            }
            let url = format!("{base}/repos/{o}/{r}/branches/{b}");
            let v = protection_from_put(fx, body, &url);
            ctx.shared
                .state()
                .posture
                .protection
                .insert((repo_key(o, r), b.clone()), v.clone());
            Reply::json(200, v)
        }
        Route::BranchRules(o, r, b) => {
            let Some(repo) = repo_ok(o, r) else {
                return Reply::not_found(ctx.docs);
            };
            let state = ctx.shared.state();
            let mut out = Vec::new();
            let layers = [
                (
                    "Repository",
                    repo.full_name(),
                    state.posture.repo_rulesets.get(&repo_key(o, r)),
                ),
                (
                    "Organization",
                    repo.owner.clone(),
                    state
                        .posture
                        .org_rulesets
                        .get(&repo.owner.to_ascii_lowercase()),
                ),
            ];
            for (source_type, source, sets) in layers {
                for rs in sets
                    .into_iter()
                    .flatten()
                    .filter(|rs| rs.enforcement == "active" && applies(rs, b, &repo.default_branch))
                {
                    for rule in &rs.rules {
                        let mut e = rule.clone();
                        e["ruleset_source_type"] = json!(source_type);
                        e["ruleset_source"] = json!(source);
                        e["ruleset_id"] = json!(rs.id);
                        out.push(e);
                    }
                }
            }
            list(out)
        }
        Route::RepoRulesets(o, r) => {
            let Some(repo) = repo_ok(o, r) else {
                return Reply::not_found(ctx.docs);
            };
            let sets = ctx
                .shared
                .state()
                .posture
                .repo_rulesets
                .get(&repo_key(o, r))
                .cloned()
                .unwrap_or_default();
            list(
                sets.iter()
                    .map(|rs| {
                        let mut v = ruleset_json(ctx, rs, "Repository", &repo.full_name());
                        if let Value::Object(m) = &mut v {
                            m.remove("rules");
                            m.remove("conditions");
                            m.remove("bypass_actors");
                        }
                        v
                    })
                    .collect(),
            )
        }
        Route::RepoRuleset(o, r, id) => {
            let Some(repo) = repo_ok(o, r) else {
                return Reply::not_found(ctx.docs);
            };
            let found = ctx
                .shared
                .state()
                .posture
                .repo_rulesets
                .get(&repo_key(o, r))
                .and_then(|s| s.iter().find(|x| x.id == *id).cloned());
            match found {
                Some(rs) => {
                    Reply::json(200, ruleset_json(ctx, &rs, "Repository", &repo.full_name()))
                }
                None => Reply::not_found(ctx.docs),
            }
        }
        Route::OrgRuleset(o, id) => {
            if !org_ok(o) {
                return Reply::not_found(ctx.docs);
            }
            let found = ctx
                .shared
                .state()
                .posture
                .org_rulesets
                .get(&o.to_ascii_lowercase())
                .and_then(|s| s.iter().find(|x| x.id == *id).cloned());
            match found {
                Some(rs) => Reply::json(200, ruleset_json(ctx, &rs, "Organization", o)),
                None => Reply::not_found(ctx.docs),
            }
        }
        Route::CreateRuleset(o, r) | Route::UpdateRuleset(o, r, _) => {
            let Some(repo) = repo_ok(o, r) else {
                return Reply::not_found(ctx.docs);
            };
            let body = body.cloned().unwrap_or(Value::Null);
            let problems = ruleset_problems(&body);
            if !problems.is_empty() {
                for p in &problems {
                    ctx.shared.state().violation(format!("{}: {p}", ctx.what));
                }
                return Reply::invalid(ctx.docs, "Ruleset", &problems);
            }
            let mut state = ctx.shared.state();
            let id = match route {
                Route::UpdateRuleset(_, _, id) => *id,
                _ => state.next_id(),
            };
            let rs = ruleset_from(id, &body);
            let key = repo_key(o, r);
            let method = if matches!(route, Route::CreateRuleset(..)) {
                "POST"
            } else {
                "PUT"
            };
            state
                .posture
                .ruleset_writes
                .push((method.into(), key.clone(), body.clone()));
            let sets = state.posture.repo_rulesets.entry(key).or_default();
            match sets.iter_mut().find(|x| x.id == id) {
                Some(x) => *x = rs.clone(),
                None if method == "PUT" => return Reply::not_found(ctx.docs),
                None => sets.push(rs.clone()),
            }
            drop(state);
            Reply::json(
                if method == "POST" { 201 } else { 200 },
                ruleset_json(ctx, &rs, "Repository", &repo.full_name()),
            )
        }
        Route::RepoTeams(o, r) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            let grants = ctx
                .shared
                .state()
                .posture
                .team_grants
                .get(&repo_key(o, r))
                .cloned()
                .unwrap_or_default();
            let shape = fx.first("teams/list.json", None);
            list(
                grants
                    .iter()
                    .map(|(org, slug, id, perm)| {
                        let mut t = shape.clone();
                        t["id"] = json!(id);
                        t["slug"] = json!(slug);
                        t["name"] = json!(slug);
                        t["permission"] = json!(legacy(perm));
                        t["html_url"] =
                            json!(format!("https://github.com/orgs/{org}/teams/{slug}"));
                        t
                    })
                    .collect(),
            )
        }
        Route::Collaborators(o, r) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            let key = repo_key(o, r);
            let mut people: Vec<(String, String)> = ctx
                .shared
                .state()
                .permissions
                .iter()
                .filter(|((k, _), _)| *k == key)
                .map(|((_, l), p)| (l.clone(), p.clone()))
                .collect();
            people.sort();
            let shape = fx.first("repos/list-collaborators.json", None);
            let sh = crate::shape::Shapes {
                fx,
                base: &base,
                app_id: ctx.shared.app_id,
            };
            list(
                people
                    .iter()
                    .map(|(login, role)| {
                        let mut c = shape.clone();
                        if let (Value::Object(into), Value::Object(from)) = (&mut c, sh.user(login))
                        {
                            into.extend(from);
                        }
                        c["permissions"] = permission_flags(role);
                        c["role_name"] = json!(role);
                        c
                    })
                    .collect(),
            )
        }
        Route::SetCollaborator(o, r, u) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            let p = body
                .and_then(|b| b.get("permission"))
                .and_then(Value::as_str)
                .unwrap_or("push");
            let role = match p {
                "pull" | "read" => "read",
                "push" | "write" => "write",
                "triage" | "maintain" | "admin" => p,
                other => {
                    ctx.shared.state().violation(format!(
                        "{}: permission {other:?} is not one GitHub takes",
                        ctx.what
                    ));
                    return Reply::invalid(
                        ctx.docs,
                        "Collaborator",
                        &[format!("permission {other:?}")],
                    );
                }
            };
            ctx.shared.state().set_permission(o, r, u, role);
            Reply {
                status: 204,
                headers: Vec::new(),
                body: crate::http::Body::Empty,
            }
        }
        Route::RemoveCollaborator(o, r, u) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            ctx.shared
                .state()
                .permissions
                .remove(&(repo_key(o, r), u.to_ascii_lowercase()));
            Reply {
                status: 204,
                headers: Vec::new(),
                body: crate::http::Body::Empty,
            }
        }
        Route::SetTeamRepo(org, slug, o, r) => {
            if repo_ok(o, r).is_none() || !org_ok(org) {
                return Reply::not_found(ctx.docs);
            }
            let p = body
                .and_then(|b| b.get("permission"))
                .and_then(Value::as_str)
                .unwrap_or("push");
            let role = match p {
                "pull" => "read",
                "push" => "write",
                other => other,
            }
            .to_string();
            let mut state = ctx.shared.state();
            let id = state.next_id();
            let grants = state.posture.team_grants.entry(repo_key(o, r)).or_default();
            match grants.iter_mut().find(|g| g.1.eq_ignore_ascii_case(slug)) {
                Some(g) => g.3 = role,
                None => grants.push((org.clone(), slug.clone(), id, role)),
            }
            Reply {
                status: 204,
                headers: Vec::new(),
                body: crate::http::Body::Empty,
            }
        }
        Route::Org(o) => {
            if !org_ok(o) {
                return Reply::not_found(ctx.docs);
            }
            let mut v = fx.get("orgs/get.json");
            v["login"] = json!(o);
            match ctx
                .shared
                .state()
                .posture
                .org_2fa
                .get(&o.to_ascii_lowercase())
            {
                Some(on) => v["two_factor_requirement_enabled"] = json!(on),
                // GitHub shows the setting to owners only.
                None => {
                    if let Value::Object(m) = &mut v {
                        m.remove("two_factor_requirement_enabled");
                    }
                }
            }
            Reply::json(200, v)
        }
        Route::Members(o) => {
            if !org_ok(o) {
                return Reply::not_found(ctx.docs);
            }
            let filter = ctx.query.get("filter").unwrap_or("all").to_string();
            if !matches!(filter.as_str(), "all" | "2fa_disabled" | "2fa_insecure") {
                ctx.shared
                    .state()
                    .violation(format!("{}: filter={filter:?}", ctx.what));
                return Reply::invalid(ctx.docs, "Member", &[format!("filter {filter:?}")]);
            }
            let members = ctx
                .shared
                .state()
                .posture
                .members
                .get(&o.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default();
            let sh = crate::shape::Shapes {
                fx,
                base: &base,
                app_id: ctx.shared.app_id,
            };
            list(
                members
                    .iter()
                    .filter(|(_, has)| filter == "all" || !has)
                    .map(|(l, _)| sh.user(l))
                    .collect(),
            )
        }
        Route::Outside(o) => {
            if !org_ok(o) {
                return Reply::not_found(ctx.docs);
            }
            let people = ctx
                .shared
                .state()
                .posture
                .outside
                .get(&o.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default();
            let sh = crate::shape::Shapes {
                fx,
                base: &base,
                app_id: ctx.shared.app_id,
            };
            list(people.iter().map(|l| sh.user(l)).collect())
        }
        Route::Keys(o, r) => {
            if repo_ok(o, r).is_none() {
                return Reply::not_found(ctx.docs);
            }
            let keys = ctx
                .shared
                .state()
                .posture
                .keys
                .get(&repo_key(o, r))
                .cloned()
                .unwrap_or_default();
            list(
                keys.iter()
                    .map(|k| {
                        json!({
                            "id": k.id,
                            "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheFakeGitHub",
                            "url": format!("{base}/repos/{o}/{r}/keys/{}", k.id),
                            "title": k.title,
                            "verified": true,
                            "created_at": k.created_at,
                            "read_only": k.read_only,
                            "added_by": "octocat",
                            "last_used": null,
                            "enabled": true,
                        })
                    })
                    .collect(),
            )
        }
    }
}

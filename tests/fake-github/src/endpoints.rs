//! Each REST route's answer, once the request's credentials have been accepted.

use crate::http::{paginate, Query, Reply};
use crate::rest::Route;
use crate::shape::Shapes;
use crate::state::{repo_key, Repo};
use crate::{checks, git, Shared};
use serde_json::{json, Value};

/// What a route's answer may read.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    /// The installation whose token was sent (`None` on App routes).
    pub(crate) installation: Option<i64>,
    pub(crate) query: &'a Query,
    pub(crate) path: &'a str,
    pub(crate) docs: &'a str,
    /// `METHOD /path`, for violations.
    pub(crate) what: &'a str,
}

impl Ctx<'_> {
    fn shapes(&self) -> Shapes<'_> {
        Shapes {
            fx: &self.shared.fixtures,
            base: &self.shared.base_url,
            app_id: self.shared.app_id,
        }
    }

    fn violation(&self, text: impl std::fmt::Display) {
        self.shared
            .state()
            .violation(format!("{}: {text}", self.what));
    }

    /// The repository, when the token's installation covers it (GitHub hides the others).
    fn repo(&self, owner: &str, name: &str) -> Option<Repo> {
        let state = self.shared.state();
        let repo = state.repo(owner, name)?;
        (Some(repo.installation) == self.installation).then(|| repo.clone())
    }

    fn not_found(&self) -> Reply {
        Reply::not_found(self.docs)
    }

    /// One page of a list answer, with its `Link` header.
    fn list(&self, items: Vec<Value>) -> Reply {
        let (page, link) = paginate(items, self.query, &self.shared.base_url, self.path);
        let reply = Reply::json(200, Value::Array(page));
        match link {
            Some(l) => reply.with_header("link", l),
            None => reply,
        }
    }

    /// A list wrapped in an object (`{"total_count", key: [...]}`), on top of `base`.
    fn wrapped(&self, mut base: Value, key: &str, items: Vec<Value>) -> Reply {
        let total = items.len();
        let (page, link) = paginate(items, self.query, &self.shared.base_url, self.path);
        if let Value::Object(map) = &mut base {
            map.insert("total_count".into(), json!(total));
            map.insert(key.into(), Value::Array(page));
        }
        let reply = Reply::json(200, base);
        match link {
            Some(l) => reply.with_header("link", l),
            None => reply,
        }
    }

    fn refuse(&self, problems: &[String]) -> Reply {
        for p in problems {
            self.violation(p);
        }
        Reply::invalid(self.docs, "CheckRun", problems)
    }
}

pub(crate) async fn answer(ctx: &Ctx<'_>, route: &Route, body: Option<&Value>) -> Reply {
    let sh = ctx.shapes();
    match route {
        Route::App => Reply::json(200, sh.app()),
        Route::Installations => {
            let all: Vec<_> = ctx
                .shared
                .state()
                .installations
                .clone()
                .into_iter()
                .collect();
            ctx.list(all.iter().map(|(id, i)| sh.installation(*id, i)).collect())
        }
        Route::MintToken(id) => mint(ctx, *id, body),
        Route::InstallationRepos => {
            let repos: Vec<Repo> = ctx
                .shared
                .state()
                .repos
                .values()
                .filter(|r| Some(r.installation) == ctx.installation)
                .cloned()
                .collect();
            let mut base = ctx
                .shared
                .fixtures
                .get("apps/list-repos-accessible-to-installation.json");
            if let Value::Object(map) = &mut base {
                map.insert("repository_selection".into(), json!("selected"));
            }
            ctx.wrapped(
                base,
                "repositories",
                repos.iter().map(|r| sh.repo(r)).collect(),
            )
        }
        Route::Repo { owner, name } => match ctx.repo(owner, name) {
            Some(r) => Reply::json(200, sh.repo(&r)),
            None => ctx.not_found(),
        },
        Route::Pulls { owner, name } => {
            let Some(r) = ctx.repo(owner, name) else {
                return ctx.not_found();
            };
            let wanted = ctx.query.get("state").unwrap_or("open").to_string();
            if !matches!(wanted.as_str(), "open" | "closed" | "all") {
                ctx.violation(format!("state={wanted:?} is not open, closed or all"));
                return Reply::invalid(
                    ctx.docs,
                    "PullRequest",
                    &[format!("state {wanted:?} is invalid")],
                );
            }
            let base = ctx.query.get("base").map(str::to_string);
            let key = repo_key(owner, name);
            let mut pulls: Vec<_> = ctx
                .shared
                .state()
                .pulls
                .iter()
                .filter(|((k, _), p)| {
                    *k == key
                        && (wanted == "all" || (p.state == "closed") == (wanted == "closed"))
                        && base.as_ref().is_none_or(|b| *b == p.base)
                })
                .map(|(_, p)| p.clone())
                .collect();
            // GitHub's default order: newest first.
            pulls.sort_by_key(|p| std::cmp::Reverse(p.number));
            ctx.list(pulls.iter().map(|p| sh.pull(&r, p, false)).collect())
        }
        Route::Pull {
            owner,
            name,
            number,
        } => {
            let Some(r) = ctx.repo(owner, name) else {
                return ctx.not_found();
            };
            let pull = ctx
                .shared
                .state()
                .pulls
                .get(&(repo_key(owner, name), *number))
                .cloned();
            match pull {
                Some(p) => Reply::json(200, sh.pull(&r, &p, true)),
                None => ctx.not_found(),
            }
        }
        Route::Reviews {
            owner,
            name,
            number,
        } => {
            let Some((r, _)) = pull_of(ctx, owner, name, *number) else {
                return ctx.not_found();
            };
            let reviews = ctx
                .shared
                .state()
                .reviews
                .get(&(repo_key(owner, name), *number))
                .cloned()
                .unwrap_or_default();
            ctx.list(
                reviews
                    .iter()
                    .map(|rev| sh.review(&r, *number, rev))
                    .collect(),
            )
        }
        Route::PullCommits {
            owner,
            name,
            number,
        } => {
            let Some((r, p)) = pull_of(ctx, owner, name, *number) else {
                return ctx.not_found();
            };
            ctx.list(p.commits.iter().map(|c| sh.commit(&r, c)).collect())
        }
        Route::Permission { owner, name, login } => {
            if ctx.repo(owner, name).is_none() {
                return ctx.not_found();
            }
            let role = ctx
                .shared
                .state()
                .permissions
                .get(&(repo_key(owner, name), login.to_ascii_lowercase()))
                .cloned();
            match role {
                Some(role) => Reply::json(200, sh.permission(login, &role)),
                None => ctx.not_found(),
            }
        }
        Route::TeamMembers { org, slug } => {
            let (account, members) = {
                let state = ctx.shared.state();
                let account = ctx
                    .installation
                    .and_then(|i| state.installations.get(&i))
                    .map(|i| i.account.to_ascii_lowercase());
                let members = state
                    .teams
                    .get(&(org.to_ascii_lowercase(), slug.to_ascii_lowercase()))
                    .cloned();
                (account, members)
            };
            if account.as_deref() != Some(org.to_ascii_lowercase().as_str()) {
                return Reply::error(403, "Resource not accessible by integration", ctx.docs);
            }
            match members {
                Some(m) => ctx.list(m.iter().map(|l| sh.team_member(l)).collect()),
                None => ctx.not_found(),
            }
        }
        Route::Timeline {
            owner,
            name,
            number,
        } => {
            let Some((r, p)) = pull_of(ctx, owner, name, *number) else {
                return ctx.not_found();
            };
            let key = (repo_key(owner, name), *number);
            let (reviews, pushes) = {
                let state = ctx.shared.state();
                (
                    state.reviews.get(&key).cloned().unwrap_or_default(),
                    state.force_pushes.get(&key).cloned().unwrap_or_default(),
                )
            };
            let mut events: Vec<Value> = p
                .commits
                .iter()
                .map(|c| sh.committed_event(&r, c))
                .collect();
            events.extend(pushes.iter().map(|f| sh.force_push_event(&r, f)));
            events.extend(
                reviews
                    .iter()
                    .map(|rev| sh.reviewed_event(&r, *number, rev)),
            );
            ctx.list(events)
        }
        Route::CreateCheckRun { owner, name } => create_check_run(ctx, owner, name, body).await,
        Route::UpdateCheckRun { owner, name, id } => update_check_run(ctx, owner, name, *id, body),
        Route::GetCheckRun { owner, name, id } => {
            let Some(r) = ctx.repo(owner, name) else {
                return ctx.not_found();
            };
            match find_run(ctx, &r, *id) {
                Some(run) => Reply::json(200, check_run_json(ctx, &r, &run)),
                None => ctx.not_found(),
            }
        }
        Route::Annotations { owner, name, id } => {
            let Some(r) = ctx.repo(owner, name) else {
                return ctx.not_found();
            };
            match find_run(ctx, &r, *id) {
                Some(run) => ctx.list(run.annotations.iter().map(|a| sh.annotation(a)).collect()),
                None => ctx.not_found(),
            }
        }
        Route::CheckRunsForRef {
            owner,
            name,
            git_ref,
        } => check_runs_for_ref(ctx, owner, name, git_ref).await,
    }
}

fn pull_of(ctx: &Ctx<'_>, owner: &str, name: &str, number: u64) -> Option<(Repo, crate::Pull)> {
    let r = ctx.repo(owner, name)?;
    let p = ctx
        .shared
        .state()
        .pulls
        .get(&(repo_key(owner, name), number))
        .cloned()?;
    Some((r, p))
}

fn mint(ctx: &Ctx<'_>, id: i64, body: Option<&Value>) -> Reply {
    if let Some(body) = body {
        match body.as_object() {
            Some(map) => {
                for key in map.keys() {
                    if !matches!(
                        key.as_str(),
                        "repositories" | "repository_ids" | "permissions"
                    ) {
                        ctx.violation(format!("unknown field {key:?}"));
                    }
                }
            }
            None => {
                ctx.violation("the body is not a JSON object");
                return Reply::invalid(
                    ctx.docs,
                    "InstallationToken",
                    &["the body is not a JSON object".into()],
                );
            }
        }
    }
    let mut state = ctx.shared.state();
    if !state.installations.contains_key(&id) {
        return ctx.not_found();
    }
    let (token, expires) = state.mint(id);
    drop(state);
    Reply::json(
        201,
        ctx.shapes().token(&token, &vouch_rules::time::iso(expires)),
    )
}

fn find_run(ctx: &Ctx<'_>, r: &Repo, id: i64) -> Option<crate::CheckRun> {
    let key = repo_key(&r.owner, &r.name);
    ctx.shared
        .state()
        .check_runs
        .iter()
        .find(|c| c.id == id && repo_key(&c.owner, &c.repo) == key)
        .cloned()
}

fn check_run_json(ctx: &Ctx<'_>, r: &Repo, run: &crate::CheckRun) -> Value {
    let key = repo_key(&r.owner, &r.name);
    let pulls: Vec<crate::Pull> = ctx
        .shared
        .state()
        .pulls
        .iter()
        .filter(|((k, _), p)| *k == key && p.head_sha == run.head_sha && p.state != "closed")
        .map(|(_, p)| p.clone())
        .collect();
    let refs: Vec<&crate::Pull> = pulls.iter().collect();
    ctx.shapes().check_run(r, run, &refs)
}

async fn create_check_run(ctx: &Ctx<'_>, owner: &str, name: &str, body: Option<&Value>) -> Reply {
    let Some(r) = ctx.repo(owner, name) else {
        return ctx.not_found();
    };
    let Some(body) = body else {
        return ctx.refuse(&["no body: a check run needs name and head_sha".into()]);
    };
    let problems = checks::judge(body, None);
    for p in &problems.ignored {
        ctx.violation(p);
    }
    if !problems.refused.is_empty() {
        return ctx.refuse(&problems.refused);
    }
    let sha = body["head_sha"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !git::has_commit(&r.bare_dir, &sha).await {
        ctx.violation(format!(
            "head_sha {sha} is not a commit of {}",
            r.full_name()
        ));
        return Reply::error(422, &format!("No commit found for SHA: {sha}"), ctx.docs);
    }
    let now = vouch_rules::time::iso(vouch_rules::time::unix_now());
    let run = {
        let mut state = ctx.shared.state();
        let id = state.next_id();
        let mut run = checks::create(id, &r.owner, &r.name, body, &now);
        run.head_sha = sha;
        state.check_runs.push(run.clone());
        run
    };
    Reply::json(201, check_run_json(ctx, &r, &run))
}

fn update_check_run(
    ctx: &Ctx<'_>,
    owner: &str,
    name: &str,
    id: i64,
    body: Option<&Value>,
) -> Reply {
    let Some(r) = ctx.repo(owner, name) else {
        return ctx.not_found();
    };
    let Some(existing) = find_run(ctx, &r, id) else {
        return ctx.not_found();
    };
    let Some(body) = body else {
        return ctx.refuse(&["no body".into()]);
    };
    let problems = checks::judge(body, Some(&existing));
    for p in &problems.ignored {
        ctx.violation(p);
    }
    if !problems.refused.is_empty() {
        return ctx.refuse(&problems.refused);
    }
    let now = vouch_rules::time::iso(vouch_rules::time::unix_now());
    let run = {
        let mut state = ctx.shared.state();
        let Some(run) = state.check_runs.iter_mut().find(|c| c.id == id) else {
            return ctx.not_found();
        };
        checks::apply(run, body, &now);
        run.patches += 1;
        run.clone()
    };
    Reply::json(200, check_run_json(ctx, &r, &run))
}

async fn check_runs_for_ref(ctx: &Ctx<'_>, owner: &str, name: &str, git_ref: &str) -> Reply {
    let Some(r) = ctx.repo(owner, name) else {
        return ctx.not_found();
    };
    let sha = match git::resolve(&r.bare_dir, git_ref).await {
        Some(sha) => sha,
        None => {
            return Reply::error(
                422,
                &format!("No commit found for SHA: {git_ref}"),
                ctx.docs,
            )
        }
    };
    let filter = ctx.query.get("filter").unwrap_or("latest");
    if !matches!(filter, "latest" | "all") {
        ctx.violation(format!("filter={filter:?} is not latest or all"));
    }
    let check_name = ctx.query.get("check_name").map(str::to_string);
    let status = ctx.query.get("status").map(str::to_string);
    let key = repo_key(owner, name);
    let mut runs: Vec<crate::CheckRun> = ctx
        .shared
        .state()
        .check_runs
        .iter()
        .filter(|c| repo_key(&c.owner, &c.repo) == key && c.head_sha == sha)
        .filter(|c| check_name.as_ref().is_none_or(|n| *n == c.name))
        .filter(|c| status.as_ref().is_none_or(|s| *s == c.status))
        .cloned()
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.id));
    if filter != "all" {
        let mut seen = std::collections::HashSet::new();
        runs.retain(|c| seen.insert(c.name.clone()));
    }
    let items = runs.iter().map(|c| check_run_json(ctx, &r, c)).collect();
    let base = ctx.shared.fixtures.get("checks/list-for-ref.json");
    ctx.wrapped(base, "check_runs", items)
}

//! Issues, as far as the posture audit's self-updating issue uses them: list a repository's
//! issues (`state`, `creator`), open one, edit one (title, body, state, state_reason). The
//! published examples hold no issue answer, so answers follow GitHub's documented issue shape;
//! a body GitHub would refuse (no title, an unknown state or state_reason, a field the endpoint
//! does not take) is a violation. Issues the App opens are authored by its bot user,
//! `<slug>[bot]`.

use crate::endpoints::Ctx;
use crate::http::Reply;
use crate::state::repo_key;
use serde_json::{json, Value};

/// An issue in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    pub state_reason: Option<String>,
    pub author: String,
    /// How many times it was edited after it was opened.
    pub edits: usize,
}

/// An issue route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    List(String, String),
    Create(String, String),
    Update(String, String, u64),
}

impl Route {
    pub(crate) fn parse(method: &str, s: &[&str]) -> Option<Route> {
        let t = |x: &str| x.to_string();
        Some(match (method, s) {
            ("GET", ["repos", o, r, "issues"]) => Route::List(t(o), t(r)),
            ("POST", ["repos", o, r, "issues"]) => Route::Create(t(o), t(r)),
            ("PATCH", ["repos", o, r, "issues", n]) => {
                Route::Update(t(o), t(r), n.parse().ok().filter(|n| *n > 0)?)
            }
            _ => return None,
        })
    }

    pub(crate) fn operation(&self) -> &'static str {
        match self {
            Route::List(..) => "issues/list-for-repo",
            Route::Create(..) => "issues/create",
            Route::Update(..) => "issues/update",
        }
    }
}

/// The App's bot user, as GitHub names it from the App's slug.
pub(crate) fn bot_login(ctx: &Ctx<'_>) -> String {
    let slug = ctx.shared.fixtures.get("apps/get-authenticated.json")["slug"]
        .as_str()
        .unwrap_or("app")
        .to_string();
    format!("{slug}[bot]")
}

fn issue_json(ctx: &Ctx<'_>, full_name: &str, i: &FakeIssue) -> Value {
    let base = &ctx.shared.base_url;
    let sh = crate::shape::Shapes {
        fx: &ctx.shared.fixtures,
        base,
        app_id: ctx.shared.app_id,
    };
    let mut user = sh.user(&i.author);
    if i.author.ends_with("[bot]") {
        user["type"] = json!("Bot");
    }
    json!({
        "id": 7_000_000 + i.number,
        "node_id": format!("I_fake{}", i.number),
        "url": format!("{base}/repos/{full_name}/issues/{}", i.number),
        "repository_url": format!("{base}/repos/{full_name}"),
        "html_url": format!("https://github.com/{full_name}/issues/{}", i.number),
        "number": i.number,
        "state": i.state,
        "state_reason": i.state_reason,
        "title": i.title,
        "body": i.body,
        "user": user,
        "labels": [],
        "assignee": null,
        "assignees": [],
        "milestone": null,
        "locked": false,
        "comments": 0,
        "closed_at": if i.state == "closed" { json!("2026-12-01T10:00:00Z") } else { Value::Null },
        "created_at": "2026-12-01T09:00:00Z",
        "updated_at": "2026-12-01T10:00:00Z",
        "author_association": "NONE",
    })
}

/// Fields the endpoint does not take, each a violation.
fn unknown_fields(body: &Value, allowed: &[&str]) -> Vec<String> {
    body.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !allowed.contains(&k.as_str()))
        .map(|(k, _)| format!("{k:?} is not a field of this endpoint"))
        .collect()
}

pub(crate) fn answer(ctx: &Ctx<'_>, route: &Route, body: Option<&Value>) -> Reply {
    let (o, r) = match route {
        Route::List(o, r) | Route::Create(o, r) | Route::Update(o, r, _) => (o, r),
    };
    let repo = {
        let state = ctx.shared.state();
        state
            .repo(o, r)
            .filter(|x| Some(x.installation) == ctx.installation)
            .cloned()
    };
    let Some(repo) = repo else {
        return Reply::not_found(ctx.docs);
    };
    let key = repo_key(o, r);
    let full = repo.full_name();
    let refuse = |problems: Vec<String>| {
        for p in &problems {
            ctx.shared.state().violation(format!("{}: {p}", ctx.what));
        }
        Reply::invalid(ctx.docs, "Issue", &problems)
    };
    match route {
        Route::List(..) => {
            let wanted = ctx.query.get("state").unwrap_or("open").to_string();
            if !matches!(wanted.as_str(), "open" | "closed" | "all") {
                return refuse(vec![format!("state={wanted:?} is not open, closed or all")]);
            }
            let creator = ctx.query.get("creator").map(str::to_ascii_lowercase);
            let mut issues: Vec<FakeIssue> = ctx
                .shared
                .state()
                .issues
                .get(&key)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|i| wanted == "all" || i.state == wanted)
                .filter(|i| {
                    creator
                        .as_ref()
                        .is_none_or(|c| *c == i.author.to_ascii_lowercase())
                })
                .collect();
            // GitHub's default order: newest first.
            issues.sort_by_key(|i| std::cmp::Reverse(i.number));
            Reply::json(
                200,
                Value::Array(issues.iter().map(|i| issue_json(ctx, &full, i)).collect()),
            )
        }
        Route::Create(..) => {
            let body = body.cloned().unwrap_or(Value::Null);
            let mut problems = unknown_fields(
                &body,
                &[
                    "title",
                    "body",
                    "assignee",
                    "milestone",
                    "labels",
                    "assignees",
                    "type",
                ],
            );
            let title = body.get("title").and_then(Value::as_str).unwrap_or("");
            if title.trim().is_empty() {
                problems.push("title wasn't supplied".into());
            }
            if !problems.is_empty() {
                return refuse(problems);
            }
            let author = bot_login(ctx);
            let mut state = ctx.shared.state();
            // Issues and pull requests share one sequence of numbers per repository.
            let number = 1 + state
                .issues
                .get(&key)
                .into_iter()
                .flatten()
                .map(|i| i.number)
                .chain(
                    state
                        .pulls
                        .keys()
                        .filter(|(k, _)| *k == key)
                        .map(|(_, n)| *n),
                )
                .max()
                .unwrap_or(0);
            let issue = FakeIssue {
                number,
                title: title.to_string(),
                body: body
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                state: "open".into(),
                state_reason: None,
                author,
                edits: 0,
            };
            state.issues.entry(key).or_default().push(issue.clone());
            drop(state);
            Reply::json(201, issue_json(ctx, &full, &issue))
        }
        Route::Update(_, _, number) => {
            let body = body.cloned().unwrap_or(Value::Null);
            let mut problems = unknown_fields(
                &body,
                &[
                    "title",
                    "body",
                    "assignee",
                    "state",
                    "state_reason",
                    "milestone",
                    "labels",
                    "assignees",
                    "type",
                ],
            );
            let new_state = body.get("state").and_then(Value::as_str);
            if new_state.is_some_and(|s| !matches!(s, "open" | "closed")) {
                problems.push(format!("state {new_state:?} is not open or closed"));
            }
            let reason = body.get("state_reason").and_then(Value::as_str);
            if reason.is_some_and(|s| !matches!(s, "completed" | "not_planned" | "reopened")) {
                problems.push(format!("state_reason {reason:?} is not one GitHub takes"));
            }
            if body
                .get("title")
                .is_some_and(|t| t.as_str().is_none_or(|t| t.trim().is_empty()))
            {
                problems.push("title cannot be empty".into());
            }
            if !problems.is_empty() {
                return refuse(problems);
            }
            let mut state = ctx.shared.state();
            let Some(issue) = state
                .issues
                .get_mut(&key)
                .and_then(|l| l.iter_mut().find(|i| i.number == *number))
            else {
                drop(state);
                return Reply::not_found(ctx.docs);
            };
            if let Some(t) = body.get("title").and_then(Value::as_str) {
                issue.title = t.to_string();
            }
            if let Some(b) = body.get("body").and_then(Value::as_str) {
                issue.body = b.to_string();
            }
            if let Some(s) = new_state {
                issue.state_reason = match (s, reason) {
                    ("closed", r) => Some(r.unwrap_or("completed").to_string()),
                    ("open", _) if issue.state == "closed" => Some("reopened".into()),
                    _ => issue.state_reason.clone(),
                };
                issue.state = s.to_string();
            }
            issue.edits += 1;
            let issue = issue.clone();
            drop(state);
            Reply::json(200, issue_json(ctx, &full, &issue))
        }
    }
}

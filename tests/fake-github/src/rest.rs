//! The one handler every request passes through: credentials judged, planned failures
//! answered, GitHub's request rules enforced, then the route's answer, GitHub's common headers
//! and the record of the request.

use crate::auth::{self, Auth};
use crate::http::{Body, Query, Reply};
use crate::{endpoints, git, RecordedRequest, Shared};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

/// The largest JSON body read (GitHub's own limit is far larger than a check run needs).
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// A REST route and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    App,
    Installations,
    MintToken(i64),
    InstallationRepos,
    Repo {
        owner: String,
        name: String,
    },
    Pulls {
        owner: String,
        name: String,
    },
    Pull {
        owner: String,
        name: String,
        number: u64,
    },
    Reviews {
        owner: String,
        name: String,
        number: u64,
    },
    PullCommits {
        owner: String,
        name: String,
        number: u64,
    },
    Permission {
        owner: String,
        name: String,
        login: String,
    },
    TeamMembers {
        org: String,
        slug: String,
    },
    Timeline {
        owner: String,
        name: String,
        number: u64,
    },
    CreateCheckRun {
        owner: String,
        name: String,
    },
    UpdateCheckRun {
        owner: String,
        name: String,
        id: i64,
    },
    GetCheckRun {
        owner: String,
        name: String,
        id: i64,
    },
    Annotations {
        owner: String,
        name: String,
        id: i64,
    },
    CheckRunsForRef {
        owner: String,
        name: String,
        git_ref: String,
    },
}

impl Route {
    /// The route for a method and decoded path segments; `None` when GitHub has no such route
    /// (or the fake does not serve it).
    pub(crate) fn parse(method: &str, segments: &[String]) -> Option<Route> {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let num = |t: &str| t.parse::<u64>().ok().filter(|n| *n > 0);
        let id = |t: &str| t.parse::<i64>().ok().filter(|n| *n > 0);
        Some(match (method, s.as_slice()) {
            ("GET", ["app"]) => Route::App,
            ("GET", ["app", "installations"]) => Route::Installations,
            ("POST", ["app", "installations", i, "access_tokens"]) => Route::MintToken(id(i)?),
            ("GET", ["installation", "repositories"]) => Route::InstallationRepos,
            ("GET", ["repos", owner, name]) => Route::Repo {
                owner: owner.to_string(),
                name: name.to_string(),
            },
            ("GET", ["repos", owner, name, "pulls"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::Pulls { owner, name }
            }
            ("GET", ["repos", owner, name, "pulls", number]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::Pull {
                    owner,
                    name,
                    number: num(number)?,
                }
            }
            ("GET", ["repos", owner, name, "pulls", number, "reviews"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::Reviews {
                    owner,
                    name,
                    number: num(number)?,
                }
            }
            ("GET", ["repos", owner, name, "pulls", number, "commits"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::PullCommits {
                    owner,
                    name,
                    number: num(number)?,
                }
            }
            ("GET", ["repos", owner, name, "collaborators", login, "permission"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::Permission {
                    owner,
                    name,
                    login: login.to_string(),
                }
            }
            ("GET", ["orgs", org, "teams", slug, "members"]) => Route::TeamMembers {
                org: org.to_string(),
                slug: slug.to_string(),
            },
            ("GET", ["repos", owner, name, "issues", number, "timeline"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::Timeline {
                    owner,
                    name,
                    number: num(number)?,
                }
            }
            ("POST", ["repos", owner, name, "check-runs"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::CreateCheckRun { owner, name }
            }
            ("PATCH", ["repos", owner, name, "check-runs", i]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::UpdateCheckRun {
                    owner,
                    name,
                    id: id(i)?,
                }
            }
            ("GET", ["repos", owner, name, "check-runs", i]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::GetCheckRun {
                    owner,
                    name,
                    id: id(i)?,
                }
            }
            ("GET", ["repos", owner, name, "check-runs", i, "annotations"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::Annotations {
                    owner,
                    name,
                    id: id(i)?,
                }
            }
            ("GET", ["repos", owner, name, "commits", git_ref, "check-runs"]) => {
                let (owner, name) = (owner.to_string(), name.to_string());
                Route::CheckRunsForRef {
                    owner,
                    name,
                    git_ref: git_ref.to_string(),
                }
            }
            _ => return None,
        })
    }

    /// GitHub's operation id, for the documentation URL in error bodies.
    pub(crate) fn operation(&self) -> &'static str {
        match self {
            Route::App => "apps/get-authenticated",
            Route::Installations => "apps/list-installations",
            Route::MintToken(_) => "apps/create-installation-access-token",
            Route::InstallationRepos => "apps/list-repos-accessible-to-installation",
            Route::Repo { .. } => "repos/get",
            Route::Pulls { .. } => "pulls/list",
            Route::Pull { .. } => "pulls/get",
            Route::Reviews { .. } => "pulls/list-reviews",
            Route::PullCommits { .. } => "pulls/list-commits",
            Route::Permission { .. } => "repos/get-collaborator-permission-level",
            Route::TeamMembers { .. } => "teams/list-members-in-org",
            Route::Timeline { .. } => "issues/list-events-for-timeline",
            Route::CreateCheckRun { .. } => "checks/create",
            Route::UpdateCheckRun { .. } => "checks/update",
            Route::GetCheckRun { .. } => "checks/get",
            Route::Annotations { .. } => "checks/list-annotations",
            Route::CheckRunsForRef { .. } => "checks/list-for-ref",
        }
    }

    /// Whether the route takes the App's JWT (else an installation token).
    pub(crate) fn as_app(&self) -> bool {
        matches!(
            self,
            Route::App | Route::Installations | Route::MintToken(_)
        )
    }
}

/// The path split into decoded segments.
pub(crate) fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| crate::http::percent_decode(s, false))
        .collect()
}

/// Every request starts here.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().as_str().to_ascii_uppercase();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let path_and_query = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let headers = req.headers().clone();
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let auth = auth::classify(&shared, header);
    let recorded_path = redact(&shared, &method, &path_and_query);
    let planned = shared.state().take_failure(&method, &path_and_query);
    if let Some(f) = planned {
        let mut reply = match f.body {
            Some(text) => Reply {
                status: f.status,
                headers: Vec::new(),
                body: Body::Text(text),
            },
            None => Reply::error(
                f.status,
                crate::http::reason(f.status),
                "https://docs.github.com/rest",
            ),
        };
        reply.headers.extend(f.headers);
        return finish(&shared, &method, recorded_path, &auth, reply, None);
    }
    if path.starts_with("/git/") {
        let (reply, stream) = git::serve(
            &shared,
            &method,
            &path,
            query.as_deref(),
            &headers,
            &auth,
            req.into_body(),
        )
        .await;
        return finish_with(&shared, &method, recorded_path, &auth, reply, None, stream);
    }
    let bytes = match axum::body::to_bytes(req.into_body(), BODY_LIMIT).await {
        Ok(b) => b,
        Err(e) => {
            let v = format!("{method} {recorded_path}: the body could not be read: {e}");
            shared.state().violation(v);
            let reply = Reply::error(400, "Problems parsing JSON", "https://docs.github.com/rest");
            return finish(&shared, &method, recorded_path, &auth, reply, None);
        }
    };
    let (reply, body) = rest(
        &shared,
        &method,
        &path,
        query.as_deref(),
        &headers,
        &auth,
        &bytes,
        &recorded_path,
    )
    .await;
    finish(&shared, &method, recorded_path, &auth, reply, body)
}

/// The path to record, with any credential in it replaced (and reported: GitHub stopped
/// taking tokens in query strings, and URLs end up in logs).
fn redact(shared: &Shared, method: &str, path_and_query: &str) -> String {
    let mut state = shared.state();
    let mut out = path_and_query.to_string();
    let secrets: Vec<String> = state
        .tokens
        .keys()
        .filter(|t| out.contains(t.as_str()))
        .cloned()
        .collect();
    for t in &secrets {
        out = out.replace(t.as_str(), "***");
    }
    let query = Query::parse(path_and_query.split_once('?').map(|(_, q)| q));
    let in_query = ["access_token", "token", "client_secret"]
        .iter()
        .any(|k| query.get(k).is_some());
    if !secrets.is_empty() || in_query {
        let path_only = out.split('?').next().unwrap_or("").to_string();
        state.violation(format!(
            "{method} {path_only}: a credential in the URL; send it in the Authorization header"
        ));
        if in_query {
            out = path_only + "?***";
        }
    }
    out
}

#[allow(clippy::too_many_arguments)] // One request's parts, taken apart once in `handle`.
async fn rest(
    shared: &Shared,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    auth: &Auth,
    bytes: &[u8],
    recorded_path: &str,
) -> (Reply, Option<Value>) {
    let what = format!("{method} {}", recorded_path.split('?').next().unwrap_or(""));
    let violation = |text: String| shared.state().violation(format!("{what}: {text}"));
    if headers.get(axum::http::header::USER_AGENT).is_none() {
        violation("no User-Agent header (GitHub refuses such requests)".into());
        let reply = Reply::error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.",
            "https://docs.github.com/rest",
        );
        return (reply, None);
    }
    if let Some(version) = headers.get("x-github-api-version") {
        let version = version.to_str().unwrap_or("");
        if !matches!(version, "2022-11-28" | "2026-03-10") {
            violation(format!(
                "X-GitHub-Api-Version {version:?} is not a version GitHub serves"
            ));
            let reply = Reply::error(
                400,
                &format!("API version {version} is not supported."),
                "https://docs.github.com/rest/about-the-rest-api/api-versions",
            );
            return (reply, None);
        }
    }
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                violation(format!("the body is not JSON: {e}"));
                return (
                    Reply::error(400, "Problems parsing JSON", "https://docs.github.com/rest"),
                    None,
                );
            }
        }
    };
    let Some(route) = Route::parse(method, &segments(path)) else {
        violation("no such route on GitHub (or not one the fake serves)".into());
        return (Reply::not_found("https://docs.github.com/rest"), body);
    };
    let docs = shared.fixtures.docs(route.operation());
    if body.is_some() && method == "GET" {
        violation("a body on a GET".into());
    }
    let installation = match (route.as_app(), auth) {
        (true, Auth::Jwt) => None,
        (false, Auth::Token(i) | Auth::Basic(i)) => Some(*i),
        (_, Auth::Expired(_)) => {
            return (
                Reply::error(401, "Bad credentials", "https://docs.github.com/rest"),
                body,
            )
        }
        (_, Auth::Bad { message, why }) => {
            violation(why.clone());
            return (
                Reply::error(401, message, "https://docs.github.com/rest"),
                body,
            );
        }
        (_, Auth::Absent) => {
            violation("no Authorization header".into());
            return (Reply::error(401, "Requires authentication", &docs), body);
        }
        (true, _) => {
            violation("an installation token on a route that takes the App's JWT".into());
            return (
                Reply::error(401, "A JSON web token could not be decoded", &docs),
                body,
            );
        }
        (false, _) => {
            violation("the App's JWT on a route that takes an installation token".into());
            return (
                Reply::error(403, "Resource not accessible by integration", &docs),
                body,
            );
        }
    };
    let query = Query::parse(query);
    let ctx = endpoints::Ctx {
        shared,
        installation,
        query: &query,
        path,
        docs: &docs,
        what: &what,
    };
    let reply = endpoints::answer(&ctx, &route, body.as_ref()).await;
    (reply, body)
}

fn finish(
    shared: &Shared,
    method: &str,
    path: String,
    auth: &Auth,
    reply: Reply,
    body: Option<Value>,
) -> Response {
    finish_with(shared, method, path, auth, reply, body, None)
}

/// GitHub's common headers, the record, and the response.
fn finish_with(
    shared: &Shared,
    method: &str,
    path: String,
    auth: &Auth,
    reply: Reply,
    body: Option<Value>,
    stream: Option<axum::body::Body>,
) -> Response {
    let (remaining, reset, request_id) = {
        let mut state = shared.state();
        let remaining = state.count_request(&auth.limit_key());
        state.requests.push(RecordedRequest {
            method: method.to_string(),
            path,
            auth: auth.label(),
            status: reply.status,
            body,
        });
        (remaining, state.started + 3600, state.requests.len())
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(n, v);
        }
    };
    let (bytes, content_type) = match reply.body {
        Body::Json(v) => (
            v.to_string().into_bytes(),
            Some("application/json; charset=utf-8"),
        ),
        Body::Text(t) => {
            let json = serde_json::from_str::<Value>(&t).is_ok();
            (
                t.into_bytes(),
                Some(if json {
                    "application/json; charset=utf-8"
                } else {
                    "text/plain; charset=utf-8"
                }),
            )
        }
        Body::Empty => (Vec::new(), None),
    };
    let given: Vec<String> = reply
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let defaults = [
        ("x-ratelimit-limit", "5000".to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-used", (5000 - remaining).to_string()),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-media-type", "github.v3; format=json".to_string()),
        ("x-github-api-version-selected", "2022-11-28".to_string()),
        ("x-github-request-id", format!("FAKE:{request_id:08X}")),
    ];
    for (name, value) in &defaults {
        if !given.iter().any(|g| g == name) {
            put(name, value);
        }
    }
    if stream.is_none() && !given.iter().any(|g| g == "content-type") {
        if let Some(ct) = content_type {
            put("content-type", ct);
        }
    }
    for (name, value) in &reply.headers {
        put(name, value);
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = stream.unwrap_or_else(|| axum::body::Body::from(bytes));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

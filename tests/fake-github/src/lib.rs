//! A stand-in for GitHub on loopback, for the bot's end-to-end tests: the REST calls a GitHub
//! App makes (App JWT, installation tokens, repositories, pull requests, reviews, permissions,
//! teams, timelines, check runs) and git's smart HTTP, served by `git http-backend` over bare
//! repositories the test made.
//!
//! Every answer is built from GitHub's own published examples (`tests/fixtures/github/rest`)
//! with the scenario's fields written over them, so a client parses the shapes GitHub sends.
//! The fake is also a judge: each request it finds wrong (an unknown route, the wrong kind of
//! credentials, a check-run body GitHub would refuse, a token in a URL, …) is answered as GitHub
//! would and kept in [`FakeGitHub::violations`], which a test asserts is empty.
//!
//! ```no_run
//! # async fn demo(public_pem: String, bare: &std::path::Path) {
//! use vouch_fake_github::{FakeGitHub, Options, Pull};
//! use std::time::Duration;
//!
//! let gh = FakeGitHub::start(Options {
//!     app_id: 42,
//!     app_public_key_pem: public_pem,
//!     token_ttl: Duration::from_secs(3600),
//! })
//! .await;
//! gh.add_installation(7, "octo");
//! gh.add_repo(7, "octo", "hello", bare, "main");
//! gh.set_pull("octo", "hello", Pull { number: 1, author: "alice".into(), ..Pull::default() });
//! // … point the bot at gh.url(), deliver a signed webhook, then:
//! assert!(gh.violations().is_empty());
//! # }
//! ```

mod auth;
mod checks;
mod endpoints;
mod fixtures;
mod git;
mod http;
mod rest;
mod shape;
mod state;
mod time;

pub use fixtures::{fixtures_dir, sign_webhook, webhook_payload};

use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

/// How the fake is set up: the App it knows and how long its installation tokens live.
#[derive(Debug, Clone)]
pub struct Options {
    /// The App's id; a JWT's `iss` must be this (as a string or a number).
    pub app_id: u64,
    /// The App's RSA public key (`-----BEGIN PUBLIC KEY-----` or `BEGIN RSA PUBLIC KEY`).
    pub app_public_key_pem: String,
    /// How long a minted installation token is valid (GitHub: one hour).
    pub token_ttl: Duration,
}

/// A pull request in a scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    /// The author's login.
    pub author: String,
    /// The base branch (`base.ref`).
    pub base: String,
    pub base_sha: String,
    pub head_ref: String,
    pub head_sha: String,
    pub draft: bool,
    /// `open` or `closed`.
    pub state: String,
    /// The commits GitHub lists for the pull request, oldest first.
    pub commits: Vec<PullCommit>,
}

/// One commit of a pull request, with the accounts GitHub matched its e-mails to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullCommit {
    pub sha: String,
    /// `None`: GitHub matched no account to the author e-mail (`"author": null`).
    pub author_login: Option<String>,
    pub author_email: String,
    pub committer_login: Option<String>,
    pub committer_email: String,
}

/// A submitted review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    pub id: i64,
    pub login: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` (or `PENDING`).
    pub state: String,
    pub commit_id: String,
    /// RFC 3339, e.g. `2026-01-02T03:04:05Z`.
    pub submitted_at: String,
}

/// A check run as the bot left it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    pub id: i64,
    /// The repository's owner.
    pub owner: String,
    /// The repository's name.
    pub repo: String,
    pub head_sha: String,
    /// The check's name.
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub output_title: Option<String>,
    pub output_summary: Option<String>,
    pub output_text: Option<String>,
    pub external_id: Option<String>,
    pub details_url: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    /// Every annotation sent, across the create and all updates (GitHub appends them).
    pub annotations: Vec<Value>,
    /// The last `actions` sent.
    pub actions: Vec<Value>,
    /// How many PATCHes updated it.
    pub patches: usize,
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query as sent (any credential found in it replaced by `***`).
    pub path: String,
    /// The kind of credentials, never the credentials: `None` when there was no
    /// `Authorization` header, else `jwt`, `token:<installation>`, `basic:<installation>`,
    /// `expired:<installation>` (a token that was valid once) or `bad`.
    pub auth: Option<String>,
    pub status: u16,
    /// The JSON body, when the request had one that parsed.
    pub body: Option<Value>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeGitHub {
    url: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeGitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGitHub")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What the server task and the test's handle share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<state::State>,
    pub(crate) fixtures: fixtures::Fixtures,
    pub(crate) key: jsonwebtoken::DecodingKey,
    pub(crate) app_id: u64,
    pub(crate) base_url: String,
}

impl Shared {
    /// The state; a handler that panicked while holding it left nothing half-written that
    /// matters to a test, so a poisoned lock is taken as is.
    pub(crate) fn state(&self) -> MutexGuard<'_, state::State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl FakeGitHub {
    /// Start serving on `127.0.0.1:0` in a task of the current tokio runtime.
    ///
    /// # Panics
    /// When the App's public key does not parse, the REST fixtures cannot be read or no port
    /// can be bound: a broken test setup. [`FakeGitHub::try_start`] returns these instead.
    pub async fn start(options: Options) -> FakeGitHub {
        match FakeGitHub::try_start(options).await {
            Ok(gh) => gh,
            Err(e) => panic!("the fake GitHub cannot start: {e}"),
        }
    }

    /// [`FakeGitHub::start`], with its setup errors returned.
    pub async fn try_start(options: Options) -> std::io::Result<FakeGitHub> {
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(options.app_public_key_pem.as_bytes())
            .map_err(|e| std::io::Error::other(format!("app_public_key_pem: {e}")))?;
        let fixtures = fixtures::Fixtures::load(&fixtures_dir())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            state: Mutex::new(state::State::new(options.token_ttl)),
            fixtures,
            key,
            app_id: options.app_id,
            base_url: url.clone(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(rest::handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("fake GitHub: server stopped: {e}");
            }
        });
        Ok(FakeGitHub {
            url,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The API's base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). Git is served
    /// under `<url>/git/<owner>/<name>.git`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Stop serving and wait until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// An installation of the App on `account` (a user or organisation login).
    pub fn add_installation(&self, id: i64, account: &str) {
        self.shared.state().add_installation(id, account);
    }

    /// A repository the installation covers, served from the bare repository `bare_dir`.
    pub fn add_repo(
        &self,
        installation: i64,
        owner: &str,
        name: &str,
        bare_dir: &Path,
        default_branch: &str,
    ) {
        self.shared
            .state()
            .add_repo(installation, owner, name, bare_dir, default_branch);
    }

    /// Create or replace a pull request. Like GitHub, the bare repository gets
    /// `refs/pull/<number>/head` at `head_sha` (when that commit is in it).
    pub fn set_pull(&self, owner: &str, name: &str, pull: Pull) {
        let bare = self.shared.state().set_pull(owner, name, pull.clone());
        if let Some(bare) = bare {
            git::set_pull_ref(&bare, pull.number, &pull.head_sha);
        }
    }

    pub fn add_review(&self, owner: &str, name: &str, number: u64, review: Review) {
        self.shared.state().add_review(owner, name, number, review);
    }

    /// A collaborator's role: `admin`, `maintain`, `write`, `triage` or `read`. GitHub answers
    /// `permission` as `admin`, `write` or `read` (maintain → write, triage → read) and the role
    /// itself as `role_name`.
    pub fn set_permission(&self, owner: &str, name: &str, login: &str, permission: &str) {
        self.shared
            .state()
            .set_permission(owner, name, login, permission);
    }

    /// A team of organisation `org` with these members (replacing any earlier ones).
    pub fn set_team(&self, org: &str, slug: &str, members: &[&str]) {
        self.shared.state().set_team(org, slug, members);
    }

    /// A `head_ref_force_pushed` event on the pull request's timeline.
    pub fn add_timeline_force_push(
        &self,
        owner: &str,
        name: &str,
        number: u64,
        actor_login: &str,
        sha: &str,
    ) {
        self.shared
            .state()
            .add_force_push(owner, name, number, actor_login, sha);
    }

    /// The next `count` requests whose method is `method` (or `*`) and whose path and query
    /// start with `path_prefix` are answered with `status`, these headers and `body` (default:
    /// GitHub's JSON error for that status) instead of being served.
    pub fn fail_next(
        &self,
        method: &str,
        path_prefix: &str,
        count: usize,
        status: u16,
        headers: Vec<(String, String)>,
        body: Option<String>,
    ) {
        self.shared
            .state()
            .fail_next(method, path_prefix, count, status, headers, body);
    }

    /// The lifetime of tokens minted from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.shared.state().token_ttl = ttl;
    }

    /// Every installation token minted so far stops working (401 `Bad credentials`).
    pub fn expire_tokens(&self) {
        self.shared.state().expire_tokens();
    }

    /// The check runs, in the order they were created.
    pub fn check_runs(&self) -> Vec<CheckRun> {
        self.shared.state().check_runs.clone()
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Every request the fake judged wrong, one sentence each.
    pub fn violations(&self) -> Vec<String> {
        self.shared.state().violations.clone()
    }

    /// How many installation tokens were minted.
    pub fn tokens_minted(&self) -> usize {
        self.shared.state().tokens_minted
    }
}

/// The body GitHub sends with a 403 for a secondary rate limit; pass it to
/// [`FakeGitHub::fail_next`] (with a `retry-after` header, or without one to make the client
/// fall back to its own wait).
pub fn secondary_rate_limit_body() -> String {
    http::secondary_rate_limit_body()
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

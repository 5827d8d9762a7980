//! The fake against a real HTTP client and the real git CLI, with an RSA key made by openssl.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use vouch_fake_github::{FakeGitHub, Options, Pull, PullCommit, Review};

const APP_ID: u64 = 4242;

struct Env {
    gh: FakeGitHub,
    key: EncodingKey,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A private key and its public half, made by openssl as a developer would.
fn keys(dir: &Path) -> (String, String) {
    let private = dir.join("app.pem");
    let public = dir.join("app.pub.pem");
    run(Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&private)
        .arg("2048"));
    run(Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public));
    (
        std::fs::read_to_string(private).unwrap(),
        std::fs::read_to_string(public).unwrap(),
    )
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = keys(dir.path());
    let gh = FakeGitHub::start(Options {
        app_id: APP_ID,
        app_public_key_pem: public,
        token_ttl: Duration::from_secs(3600),
    })
    .await;
    gh.add_installation(7, "octo");
    Env {
        gh,
        key: EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
        http: reqwest::Client::new(),
        dir,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Env {
    fn jwt_with(&self, claims: Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key).unwrap()
    }

    /// The bot's JWT: issued a minute ago, nine minutes left, iss as a string.
    fn jwt(&self) -> String {
        let now = now();
        self.jwt_with(json!({"iat": now - 60, "exp": now + 540, "iss": APP_ID.to_string()}))
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<String>,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.gh.url()))
            .header("accept", "application/vnd.github+json")
            .header("user-agent", "vouch-fake-github-tests")
            .header("x-github-api-version", "2022-11-28");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn mint(&self, installation: i64) -> String {
        let (status, _, body) = self
            .send(
                "POST",
                &format!("/app/installations/{installation}/access_tokens"),
                Some(format!("Bearer {}", self.jwt())),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// A bare repository with two commits on `main` and one on `feature`; (bare, main, feature).
    fn repo(&self, name: &str) -> (PathBuf, String, String) {
        let work = self.dir.path().join(format!("{name}-work"));
        let bare = self.dir.path().join(format!("{name}.git"));
        let git = |args: &[&str]| {
            run(Command::new("git")
                .args([
                    "-c",
                    "user.name=T",
                    "-c",
                    "user.email=t@example.com",
                    "-c",
                    "init.defaultBranch=main",
                ])
                .args(args)
                .current_dir(self.dir.path()))
        };
        git(&["init", "--quiet", "--bare", bare.to_str().unwrap()]);
        git(&["init", "--quiet", work.to_str().unwrap()]);
        let w = work.to_str().unwrap();
        std::fs::write(work.join("a.txt"), "one\n").unwrap();
        git(&["-C", w, "add", "a.txt"]);
        git(&["-C", w, "commit", "--quiet", "-m", "one"]);
        let main = git(&["-C", w, "rev-parse", "HEAD"]);
        git(&["-C", w, "checkout", "--quiet", "-b", "feature"]);
        std::fs::write(work.join("b.txt"), "two\n").unwrap();
        git(&["-C", w, "add", "b.txt"]);
        git(&["-C", w, "commit", "--quiet", "-m", "two"]);
        let feature = git(&["-C", w, "rev-parse", "HEAD"]);
        git(&[
            "-C",
            w,
            "push",
            "--quiet",
            bare.to_str().unwrap(),
            "main",
            "feature",
        ]);
        (bare, main, feature)
    }
}

#[tokio::test]
async fn a_real_key_mints_a_token_that_lists_the_installations_repositories() {
    let e = env().await;
    let (bare, _, _) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    let (status, headers, installs) = e
        .send(
            "GET",
            "/app/installations?per_page=100&page=1",
            Some(format!("Bearer {}", e.jwt())),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(installs[0]["id"], 7);
    assert_eq!(installs[0]["account"]["login"], "octo");
    assert!(
        headers.contains_key("x-ratelimit-remaining") && headers.contains_key("x-ratelimit-reset")
    );

    let (status, _, minted) = e
        .send(
            "POST",
            "/app/installations/7/access_tokens",
            Some(format!("Bearer {}", e.jwt())),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201);
    let token = minted["token"].as_str().unwrap();
    assert!(token.starts_with("ghs_"));
    let expires = minted["expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 20, "{expires}");
    assert_eq!(e.gh.tokens_minted(), 1);

    for auth in [format!("token {token}"), format!("Bearer {token}")] {
        let (status, _, body) = e
            .send(
                "GET",
                "/installation/repositories?per_page=100&page=1",
                Some(auth),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total_count"], 1);
        let repo = &body["repositories"][0];
        assert_eq!(repo["full_name"], "octo/hello");
        assert_eq!(repo["default_branch"], "main");
        assert_eq!(
            repo["clone_url"],
            format!("{}/git/octo/hello.git", e.gh.url())
        );
        assert_eq!(repo["owner"]["login"], "octo");
    }
    // A numeric iss is fine too.
    let n = now();
    let numeric = e.jwt_with(json!({"iat": n - 30, "exp": n + 300, "iss": APP_ID}));
    assert_eq!(
        e.send("GET", "/app", Some(format!("Bearer {numeric}")), None)
            .await
            .0,
        200
    );

    let kinds: Vec<Option<String>> = e.gh.requests().into_iter().map(|r| r.auth).collect();
    assert_eq!(
        kinds[..4],
        [
            Some("jwt".into()),
            Some("jwt".into()),
            Some("token:7".into()),
            Some("token:7".into())
        ]
    );
    assert_eq!(e.gh.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn jwts_github_would_refuse_are_refused_and_reported() {
    let e = env().await;
    let n = now();
    let cases = [
        (
            "lives too long",
            json!({"iat": n - 60, "exp": n + 600, "iss": APP_ID.to_string()}),
        ),
        (
            "expired",
            json!({"iat": n - 700, "exp": n - 100, "iss": APP_ID.to_string()}),
        ),
        (
            "wrong app",
            json!({"iat": n - 60, "exp": n + 500, "iss": "1"}),
        ),
        ("no iat", json!({"exp": n + 500, "iss": APP_ID.to_string()})),
        (
            "issued in the future",
            json!({"iat": n + 300, "exp": n + 500, "iss": APP_ID.to_string()}),
        ),
    ];
    for (case, claims) in &cases {
        let jwt = e.jwt_with(claims.clone());
        let (status, _, body) = e
            .send(
                "POST",
                "/app/installations/7/access_tokens",
                Some(format!("Bearer {jwt}")),
                None,
            )
            .await;
        assert_eq!(status, 401, "{case}: {body}");
        assert!(body["message"].is_string(), "{case}");
    }
    // Another key's signature.
    let other = tempfile::tempdir().unwrap();
    let (other_private, _) = keys(other.path());
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &json!({"iat": n - 60, "exp": n + 500, "iss": APP_ID}),
        &EncodingKey::from_rsa_pem(other_private.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        e.send(
            "GET",
            "/app/installations",
            Some(format!("Bearer {forged}")),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        e.gh.violations().len(),
        cases.len() + 1,
        "{:#?}",
        e.gh.violations()
    );
    assert_eq!(e.gh.tokens_minted(), 0);

    // An installation token where the JWT belongs, and the reverse.
    let token = e.mint(7).await;
    assert_eq!(
        e.send(
            "GET",
            "/app/installations",
            Some(format!("token {token}")),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(
        e.send(
            "GET",
            "/installation/repositories",
            Some(format!("Bearer {}", e.jwt())),
            None
        )
        .await
        .0,
        403
    );
    let v = e.gh.violations();
    assert!(
        v.iter()
            .any(|v| v.contains("installation token on a route that takes the App's JWT")),
        "{v:#?}"
    );
    assert!(
        v.iter().any(|v| v.contains("the App's JWT on a route")),
        "{v:#?}"
    );
    // An unknown installation.
    let (status, _, body) = e
        .send(
            "POST",
            "/app/installations/99/access_tokens",
            Some(format!("Bearer {}", e.jwt())),
            None,
        )
        .await;
    assert_eq!((status, body["message"].as_str()), (404, Some("Not Found")));
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_bad_credentials() {
    let e = env().await;
    let (bare, _, _) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    e.gh.set_token_ttl(Duration::from_millis(1500));
    let short = e.mint(7).await;
    assert_eq!(
        e.send(
            "GET",
            "/repos/octo/hello",
            Some(format!("token {short}")),
            None
        )
        .await
        .0,
        200
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (status, _, body) = e
        .send(
            "GET",
            "/repos/octo/hello",
            Some(format!("token {short}")),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Bad credentials");
    assert!(body["documentation_url"].is_string());

    e.gh.set_token_ttl(Duration::from_secs(3600));
    let long = e.mint(7).await;
    assert_eq!(
        e.send(
            "GET",
            "/repos/octo/hello",
            Some(format!("token {long}")),
            None
        )
        .await
        .0,
        200
    );
    e.gh.expire_tokens();
    assert_eq!(
        e.send(
            "GET",
            "/repos/octo/hello",
            Some(format!("token {long}")),
            None
        )
        .await
        .0,
        401
    );
    let last = e.gh.requests().pop().unwrap();
    assert_eq!(last.auth.as_deref(), Some("expired:7"));
    // A token that expires is the client's to handle, not a violation.
    assert_eq!(e.gh.violations(), Vec::<String>::new());
    let fresh = e.mint(7).await;
    assert_eq!(
        e.send(
            "GET",
            "/repos/octo/hello",
            Some(format!("token {fresh}")),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(e.gh.tokens_minted(), 3);

    // One the fake never minted is.
    assert_eq!(
        e.send(
            "GET",
            "/repos/octo/hello",
            Some("token ghs_madeup".into()),
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(e.gh.requests().pop().unwrap().auth.as_deref(), Some("bad"));
    assert_eq!(e.gh.violations().len(), 1);
}

#[tokio::test]
async fn planned_failures_come_first_then_service_resumes() {
    let e = env().await;
    let (bare, _, _) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    let token = e.mint(7).await;
    e.gh.fail_next("GET", "/repos/octo/hello", 2, 502, Vec::new(), None);
    e.gh.fail_next(
        "*",
        "/installation/",
        1,
        403,
        vec![
            ("retry-after".into(), "3".into()),
            ("x-ratelimit-remaining".into(), "0".into()),
        ],
        Some(vouch_fake_github::secondary_rate_limit_body()),
    );
    let auth = || Some(format!("token {token}"));
    assert_eq!(
        e.send("GET", "/repos/octo/hello", auth(), None).await.0,
        502
    );
    assert_eq!(
        e.send("GET", "/repos/octo/hello/pulls?state=open", auth(), None)
            .await
            .0,
        502
    );
    assert_eq!(
        e.send("GET", "/repos/octo/hello", auth(), None).await.0,
        200
    );
    let (status, headers, body) = e
        .send("GET", "/installation/repositories", auth(), None)
        .await;
    assert_eq!(status, 403);
    assert_eq!(headers["retry-after"], "3");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("secondary rate limit"));
    assert_eq!(
        e.send("GET", "/installation/repositories", auth(), None)
            .await
            .0,
        200
    );
    let statuses: Vec<u16> = e.gh.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![201, 502, 502, 200, 403, 200]);
    assert_eq!(e.gh.violations(), Vec::<String>::new());
}

fn git_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "credential.helper=", "-c", "core.askPass="]);
    cmd
}

#[tokio::test]
async fn git_clones_and_fetches_pull_heads_with_the_token_and_not_without() {
    let e = env().await;
    let (bare, main, feature) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    e.gh.set_pull(
        "octo",
        "hello",
        Pull {
            number: 5,
            author: "alice".into(),
            base: "main".into(),
            base_sha: main.clone(),
            head_ref: "feature".into(),
            head_sha: feature.clone(),
            state: "open".into(),
            ..Pull::default()
        },
    );
    let token = e.mint(7).await;
    let url = format!("{}/git/octo/hello.git", e.gh.url());
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"));
    let header = format!("http.extraHeader=Authorization: Basic {basic}");
    let dir = e.dir.path().to_path_buf();

    let clone = dir.join("clone");
    let h = header.clone();
    let (u, c) = (url.clone(), clone.clone());
    let d = dir.clone();
    tokio::task::spawn_blocking(move || {
        run(git_cmd(&d).args(["-c", &h, "clone", "--quiet", &u]).arg(&c))
    })
    .await
    .unwrap();
    assert_eq!(run(git_cmd(&clone).args(["rev-parse", "HEAD"])), main);

    // As the bot fetches: protocol v2, the header through the environment, the pull's ref.
    let mirror = dir.join("mirror.git");
    run(git_cmd(&dir)
        .args(["init", "--quiet", "--bare"])
        .arg(&mirror));
    let (u, m) = (url.clone(), mirror.clone());
    let b = basic.clone();
    let d = dir.clone();
    tokio::task::spawn_blocking(move || {
        run(git_cmd(&d)
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "http.extraHeader")
            .env("GIT_CONFIG_VALUE_0", format!("Authorization: Basic {b}"))
            .arg("--git-dir")
            .arg(&m)
            .args([
                "-c",
                "protocol.version=2",
                "fetch",
                "--quiet",
                "--no-tags",
                &u,
                "+refs/heads/main:refs/heads/main",
                "+refs/pull/5/head:refs/pull/5/head",
            ]))
    })
    .await
    .unwrap();
    assert_eq!(
        run(git_cmd(&dir)
            .arg("--git-dir")
            .arg(&mirror)
            .args(["rev-parse", "refs/pull/5/head"])),
        feature
    );

    // Without credentials, and with a token that is no longer good.
    let (u, d) = (url.clone(), dir.clone());
    let without = tokio::task::spawn_blocking(move || {
        git_cmd(&d)
            .args(["clone", "--quiet", &u, "nope"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!without.status.success());
    e.gh.expire_tokens();
    let (u, d, h) = (url.clone(), dir.clone(), header.clone());
    let expired = tokio::task::spawn_blocking(move || {
        git_cmd(&d)
            .args(["-c", &h, "clone", "--quiet", &u, "nope2"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!expired.status.success());

    let git: Vec<_> =
        e.gh.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/git/"))
            .collect();
    assert!(
        git.iter()
            .any(|r| r.status == 200 && r.auth.as_deref() == Some("basic:7")),
        "{git:#?}"
    );
    assert!(git.iter().any(|r| r.status == 401 && r.auth.is_none()));
    assert!(git
        .iter()
        .any(|r| r.status == 401 && r.auth.as_deref() == Some("expired:7")));
    assert_eq!(e.gh.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn check_runs_are_created_patched_listed_and_recorded() {
    let e = env().await;
    let (bare, _, feature) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    let token = e.mint(7).await;
    let auth = || Some(format!("token {token}"));
    let (status, _, created) = e
        .send(
            "POST",
            "/repos/octo/hello/check-runs",
            auth(),
            Some(json!({
                "name": "vouch: main", "head_sha": feature, "status": "in_progress",
                "external_id": "17", "started_at": "2026-01-02T03:04:05Z",
                "output": {"title": "Judging this change", "summary": "…"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["head_sha"], feature.as_str());
    let annotation = |line: u64| json!({"path": "src/a.rs", "start_line": line, "end_line": line, "annotation_level": "failure", "message": "m", "title": "t"});
    let first: Vec<Value> = (1..=50).map(annotation).collect();
    let (status, _, _) = e
        .send(
            "PATCH",
            &format!("/repos/octo/hello/check-runs/{id}"),
            auth(),
            Some(json!({"output": {"title": "T", "summary": "S", "annotations": first}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, done) = e
        .send(
            "PATCH",
            &format!("/repos/octo/hello/check-runs/{id}"),
            auth(),
            Some(json!({"status": "completed", "conclusion": "failure", "completed_at": "2026-01-02T03:05:00Z",
                        "output": {"title": "T", "summary": "S", "text": "x", "annotations": [annotation(51)]}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(done["conclusion"], "failure");
    assert_eq!(done["output"]["annotations_count"], 51);

    let runs = e.gh.check_runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(
        (run.owner.as_str(), run.repo.as_str(), run.name.as_str()),
        ("octo", "hello", "vouch: main")
    );
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert_eq!((run.annotations.len(), run.patches), (51, 2));
    assert_eq!(run.output_title.as_deref(), Some("T"));
    assert_eq!(run.external_id.as_deref(), Some("17"));

    let path = format!("/repos/octo/hello/commits/{feature}/check-runs?check_name=vouch%3A%20main&per_page=100&page=1");
    let (status, _, listed) = e.send("GET", &path, auth(), None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["check_runs"][0]["id"], id);
    let (_, _, none) = e
        .send(
            "GET",
            &format!("/repos/octo/hello/commits/{feature}/check-runs?check_name=other"),
            auth(),
            None,
        )
        .await;
    assert_eq!(none["total_count"], 0);
    let (_, _, by_branch) = e
        .send(
            "GET",
            "/repos/octo/hello/commits/feature/check-runs",
            auth(),
            None,
        )
        .await;
    assert_eq!(by_branch["total_count"], 1);
    assert_eq!(e.gh.violations(), Vec::<String>::new());
    let recorded = e.gh.requests();
    let post = recorded
        .iter()
        .find(|r| r.method == "POST" && r.path == "/repos/octo/hello/check-runs")
        .unwrap();
    assert_eq!(post.body.as_ref().unwrap()["name"], "vouch: main");
}

#[tokio::test]
async fn bad_requests_are_answered_as_github_would_and_reported() {
    let e = env().await;
    let (bare, _, feature) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    let token = e.mint(7).await;
    let auth = || Some(format!("token {token}"));
    let (er, tr) = (&e, &token);
    let create = |body: Value| async move {
        er.send(
            "POST",
            "/repos/octo/hello/check-runs",
            Some(format!("token {tr}")),
            Some(body),
        )
        .await
    };
    let (status, _, body) = create(json!({"head_sha": feature})).await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "Validation Failed");
    assert_eq!(
        create(json!({"name": "n", "head_sha": feature, "status": "done"}))
            .await
            .0,
        422
    );
    let many: Vec<Value> = (1..=51)
        .map(|i| json!({"path": "a", "start_line": i, "end_line": i, "annotation_level": "notice", "message": "m"}))
        .collect();
    assert_eq!(create(json!({"name": "n", "head_sha": feature, "output": {"title": "t", "summary": "s", "annotations": many}})).await.0, 422);
    let missing = "0".repeat(40);
    let (status, _, body) = create(json!({"name": "n", "head_sha": missing})).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["message"],
        format!("No commit found for SHA: {missing}")
    );
    assert_eq!(e.gh.check_runs().len(), 0);

    // Not JSON, an unknown route, a check run that is not there, a token in the URL.
    let resp = e
        .http
        .post(format!("{}/repos/octo/hello/check-runs", e.gh.url()))
        .header("user-agent", "t")
        .header("authorization", format!("token {token}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let (status, _, body) = e
        .send("GET", "/repos/octo/hello/nothing-here", auth(), None)
        .await;
    assert_eq!((status, body["message"].as_str()), (404, Some("Not Found")));
    assert_eq!(
        e.send(
            "PATCH",
            "/repos/octo/hello/check-runs/999",
            auth(),
            Some(json!({"status": "queued"}))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        e.send("GET", "/repos/octo/hello/pulls/abc", auth(), None)
            .await
            .0,
        404
    );
    let (status, _, _) = e
        .send(
            "GET",
            &format!("/repos/octo/hello?access_token={token}"),
            auth(),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(e.gh.requests().iter().all(|r| !r.path.contains(&token)));
    // No User-Agent.
    let resp = e
        .http
        .get(format!("{}/repos/octo/hello", e.gh.url()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);

    let v = e.gh.violations();
    for expected in [
        "\"name\" wasn't supplied",
        "status \"done\"",
        "51 annotations",
        "is not a commit of octo/hello",
        "not JSON",
        "no such route",
        "a credential in the URL",
        "User-Agent",
    ] {
        assert!(v.iter().any(|v| v.contains(expected)), "{expected}: {v:#?}");
    }
    // A check run that is not there and /pulls/abc: one is a missing resource, the other no route.
    assert!(
        v.iter().filter(|v| v.contains("no such route")).count() >= 2,
        "{v:#?}"
    );
}

#[tokio::test]
async fn pulls_reviews_commits_people_and_timelines_have_githubs_shapes() {
    let e = env().await;
    let (bare, main, feature) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    let pull = |number: u64, state: &str| Pull {
        number,
        author: "alice".into(),
        base: "main".into(),
        base_sha: main.clone(),
        head_ref: "feature".into(),
        head_sha: feature.clone(),
        draft: number == 2,
        state: state.into(),
        commits: vec![PullCommit {
            sha: feature.clone(),
            author_login: Some("alice".into()),
            author_email: "alice@example.com".into(),
            committer_login: None,
            committer_email: "noreply@github.com".into(),
        }],
    };
    e.gh.set_pull("octo", "hello", pull(1, "open"));
    e.gh.set_pull("octo", "hello", pull(2, "open"));
    e.gh.set_pull("octo", "hello", pull(3, "closed"));
    e.gh.add_review(
        "octo",
        "hello",
        1,
        Review {
            id: 80,
            login: "bob".into(),
            state: "APPROVED".into(),
            commit_id: feature.clone(),
            submitted_at: "2026-01-02T03:04:05Z".into(),
        },
    );
    e.gh.set_permission("octo", "hello", "bob", "maintain");
    e.gh.set_team("octo", "reviewers", &["bob", "carol"]);
    e.gh.add_timeline_force_push("octo", "hello", 1, "mallory", &feature);
    let token = e.mint(7).await;
    let get = |path: String| {
        let auth = Some(format!("token {token}"));
        let e = &e;
        async move { e.send("GET", &path, auth, None).await }
    };

    let (status, _, p) = get("/repos/octo/hello/pulls/1".into()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            p["number"].as_u64(),
            p["state"].as_str(),
            p["draft"].as_bool()
        ),
        (Some(1), Some("open"), Some(false))
    );
    assert_eq!(p["user"]["login"], "alice");
    assert_eq!(p["head"]["sha"], feature.as_str());
    assert_eq!(p["head"]["ref"], "feature");
    assert_eq!(
        (p["base"]["ref"].as_str(), p["base"]["sha"].as_str()),
        (Some("main"), Some(main.as_str()))
    );
    assert_eq!(
        p["base"]["repo"]["clone_url"],
        format!("{}/git/octo/hello.git", e.gh.url())
    );
    assert!(p["url"].as_str().unwrap().starts_with(&e.gh.url()));

    let (_, _, open) = get("/repos/octo/hello/pulls?state=open&per_page=100&page=1".into()).await;
    let numbers: Vec<u64> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![2, 1]);
    let (_, _, reviews) = get("/repos/octo/hello/pulls/1/reviews?per_page=100&page=1".into()).await;
    assert_eq!(
        (
            reviews[0]["user"]["login"].as_str(),
            reviews[0]["state"].as_str()
        ),
        (Some("bob"), Some("APPROVED"))
    );
    assert_eq!(reviews[0]["commit_id"], feature.as_str());
    let (_, _, commits) = get("/repos/octo/hello/pulls/1/commits?per_page=100&page=1".into()).await;
    assert_eq!(commits[0]["author"]["login"], "alice");
    assert_eq!(commits[0]["commit"]["author"]["email"], "alice@example.com");
    assert!(commits[0]["committer"].is_null());
    let (_, _, perm) = get("/repos/octo/hello/collaborators/bob/permission".into()).await;
    assert_eq!(
        (perm["permission"].as_str(), perm["role_name"].as_str()),
        (Some("write"), Some("maintain"))
    );
    assert_eq!(
        get("/repos/octo/hello/collaborators/eve/permission".into())
            .await
            .0,
        404
    );
    let (_, _, members) =
        get("/orgs/octo/teams/reviewers/members?per_page=100&page=1".into()).await;
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert_eq!(members[1]["login"], "carol");
    assert_eq!(
        get("/orgs/octo/teams/nobody/members?per_page=100&page=1".into())
            .await
            .0,
        404
    );
    let (_, _, timeline) =
        get("/repos/octo/hello/issues/1/timeline?per_page=100&page=1".into()).await;
    let pushers: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "head_ref_force_pushed")
        .map(|e| e["actor"]["login"].as_str().unwrap())
        .collect();
    assert_eq!(pushers, vec!["mallory"]);
    assert_eq!(get("/repos/octo/hello/pulls/9".into()).await.0, 404);
    assert_eq!(get("/repos/other/repo".into()).await.0, 404);
    assert_eq!(e.gh.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn lists_are_paginated_with_link_headers() {
    let e = env().await;
    let (bare, _, feature) = e.repo("hello");
    e.gh.add_repo(7, "octo", "hello", &bare, "main");
    let members: Vec<String> = (0..130).map(|i| format!("user{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    e.gh.set_team("octo", "big", &refs);
    for n in 0..3 {
        e.gh.add_review(
            "octo",
            "hello",
            1,
            Review {
                id: n,
                login: "x".into(),
                state: "COMMENTED".into(),
                commit_id: feature.clone(),
                submitted_at: "2026-01-02T03:04:05Z".into(),
            },
        );
    }
    let token = e.mint(7).await;
    let (_, headers, page1) = e
        .send(
            "GET",
            "/orgs/octo/teams/big/members?per_page=100&page=1",
            Some(format!("token {token}")),
            None,
        )
        .await;
    assert_eq!(page1.as_array().unwrap().len(), 100);
    assert!(headers["link"]
        .to_str()
        .unwrap()
        .contains("page=2>; rel=\"next\""));
    let (_, _, page2) = e
        .send(
            "GET",
            "/orgs/octo/teams/big/members?per_page=100&page=2",
            Some(format!("token {token}")),
            None,
        )
        .await;
    assert_eq!(page2.as_array().unwrap().len(), 30);
    assert_eq!(page2[0]["login"], "user100");
    assert_eq!(e.gh.violations(), Vec::<String>::new());
}

#[test]
fn webhooks_are_signed_and_loaded() {
    let body = br#"{"zen":"x"}"#;
    let sig = vouch_fake_github::sign_webhook(b"secret", body);
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
    let payload = vouch_fake_github::webhook_payload("pull_request", "opened.payload.json");
    assert_eq!(payload["action"], "opened");
    assert!(vouch_fake_github::fixtures_dir()
        .join("rest/index.json")
        .exists());
}

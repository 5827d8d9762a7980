//! Git's smart HTTP at `/git/<owner>/<name>.git/…`, served by `git http-backend` as a CGI over
//! the scenario's bare repositories, behind GitHub's rule for an App: Basic credentials
//! `x-access-token:<installation token>`. Also the few git look-ups the REST side needs.

use crate::auth::Auth;
use crate::http::{Body, Reply};
use crate::state::Repo;
use crate::Shared;
use axum::body::Bytes;
use axum::http::HeaderMap;
use futures_util::StreamExt as _;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdout, Command};

fn challenge(message: &str) -> Reply {
    Reply {
        status: 401,
        headers: vec![("www-authenticate".into(), "Basic realm=\"GitHub\"".into())],
        body: Body::Text(format!("{message}\n")),
    }
}

fn not_found() -> Reply {
    Reply {
        status: 404,
        headers: Vec::new(),
        body: Body::Text("Repository not found.\n".into()),
    }
}

/// Answer one git request: the reply's status and headers, and the stream of its body when
/// `git http-backend` produced one.
pub(crate) async fn serve(
    shared: &Shared,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    auth: &Auth,
    body: axum::body::Body,
) -> (Reply, Option<axum::body::Body>) {
    let violation = |text: String| shared.state().violation(format!("{method} {path}: {text}"));
    let mut parts = path.trim_start_matches("/git/").splitn(3, '/');
    let (owner, name, rest) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let name = name.strip_suffix(".git").unwrap_or(name);
    let installation = match auth {
        Auth::Basic(i) => *i,
        Auth::Absent => return (challenge("Authentication required"), None),
        Auth::Expired(_) => return (challenge("Invalid username or token. Password authentication is not supported for Git operations."), None),
        Auth::Bad { why, .. } => {
            violation(why.clone());
            return (challenge("Invalid username or token. Password authentication is not supported for Git operations."), None);
        }
        Auth::Jwt | Auth::Token(_) => {
            violation("git over HTTP takes an installation token as Basic x-access-token:<token>".into());
            return (challenge("Authentication required"), None);
        }
    };
    let repo: Option<Repo> = {
        let state = shared.state();
        state
            .repo(owner, name)
            .filter(|r| r.installation == installation)
            .cloned()
    };
    let Some(repo) = repo else {
        return (not_found(), None);
    };
    let allowed = matches!(
        rest,
        "info/refs" | "git-upload-pack" | "git-receive-pack" | "HEAD"
    ) || rest.starts_with("objects/");
    if !allowed || rest.split('/').any(|s| s == ".." || s.is_empty()) {
        violation(format!("{rest:?} is not a git smart-HTTP path"));
        return (not_found(), None);
    }
    match cgi(&repo.bare_dir, method, rest, query, headers, body).await {
        Ok(answer) => answer,
        Err(e) => {
            violation(format!("git http-backend failed: {e}"));
            (
                Reply {
                    status: 500,
                    headers: Vec::new(),
                    body: Body::Text(format!("git http-backend: {e}\n")),
                },
                None,
            )
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Run `git http-backend` for one request: the request body streamed to its stdin, its CGI
/// headers parsed, the rest of its stdout streamed back.
async fn cgi(
    bare: &Path,
    method: &str,
    rest: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> std::io::Result<(Reply, Option<axum::body::Body>)> {
    let bare = std::fs::canonicalize(bare)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", bare.display())))?;
    let (root, dir) = match (bare.parent(), bare.file_name()) {
        (Some(root), Some(dir)) => (root.to_path_buf(), dir.to_string_lossy().into_owned()),
        _ => {
            return Err(std::io::Error::other(format!(
                "{} cannot be a project root",
                bare.display()
            )))
        }
    };
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &root)
        .env("PATH_INFO", format!("/{dir}/{rest}"))
        .env("QUERY_STRING", query.unwrap_or(""))
        .env("REQUEST_METHOD", method)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        // An authenticated user, so receive-pack is served too (GitHub lets a token with
        // contents: write push).
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // GitHub serves any reachable commit by id, and the test's repositories may belong to
        // another user.
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "uploadpack.allowReachableSHA1InWant")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GIT_CONFIG_KEY_1", "safe.directory")
        .env("GIT_CONFIG_VALUE_1", "*")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (var, name) in [
        ("CONTENT_TYPE", "content-type"),
        ("CONTENT_LENGTH", "content-length"),
        ("HTTP_CONTENT_ENCODING", "content-encoding"),
        ("GIT_PROTOCOL", "git-protocol"),
        ("HTTP_GIT_PROTOCOL", "git-protocol"),
    ] {
        if let Some(v) = header(headers, name) {
            cmd.env(var, v);
        }
    }
    let mut child = cmd.spawn()?;
    let stdin = child.stdin.take();
    tokio::spawn(async move {
        let Some(mut stdin) = stdin else { return };
        let mut chunks = body.into_data_stream();
        while let Some(Ok(chunk)) = chunks.next().await {
            if stdin.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = stdin.shutdown().await;
    });
    let stderr = child.stderr.take();
    tokio::spawn(async move {
        let Some(mut stderr) = stderr else { return };
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        if !text.trim().is_empty() {
            eprintln!("fake GitHub: git http-backend: {}", text.trim());
        }
    });
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let (head, leftover) = read_head(&mut stdout).await?;
    let mut reply = Reply {
        status: 200,
        headers: Vec::new(),
        body: Body::Empty,
    };
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            reply.status = value
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else {
            reply
                .headers
                .push((name.trim().to_string(), value.to_string()));
        }
    }
    Ok((reply, Some(stream(leftover, stdout, child))))
}

/// The CGI header block (up to the blank line) and the body bytes read past it.
async fn read_head(stdout: &mut ChildStdout) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some((end, skip)) = find_blank_line(&buf) {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Ok((head, buf[end + skip..].to_vec()));
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("CGI headers longer than 64 KiB"));
        }
        let n = stdout.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other(format!(
                "git http-backend ended before its headers ({} bytes)",
                buf.len()
            )));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The rest of git's stdout as a response body; the child is reaped when it ends.
fn stream(leftover: Vec<u8>, stdout: ChildStdout, child: Child) -> axum::body::Body {
    let start = (leftover, stdout, child);
    let s = futures_util::stream::unfold(Some(start), |st| async move {
        let (leftover, mut stdout, mut child) = st?;
        if !leftover.is_empty() {
            return Some((
                Ok::<Bytes, std::io::Error>(Bytes::from(leftover)),
                Some((Vec::new(), stdout, child)),
            ));
        }
        let mut buf = vec![0u8; 64 * 1024];
        match stdout.read(&mut buf).await {
            Ok(0) => {
                let _ = child.wait().await;
                None
            }
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some((Vec::new(), stdout, child))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    axum::body::Body::from_stream(s)
}

fn git(bare: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir")
        .arg(bare)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*")
        .env_remove("GIT_DIR")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Whether `sha` names a commit in the bare repository.
pub(crate) async fn has_commit(bare: &Path, sha: &str) -> bool {
    if sha.is_empty() || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    git(bare)
        .args(["cat-file", "-e", &format!("{sha}^{{commit}}")])
        .stdout(Stdio::null())
        .status()
        .await
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The commit a ref or commit id names, as GitHub resolves `{ref}` in a path.
pub(crate) async fn resolve(bare: &Path, git_ref: &str) -> Option<String> {
    if git_ref.starts_with('-') || git_ref.is_empty() {
        return None;
    }
    let out = git(bare)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{git_ref}^{{commit}}"),
        ])
        .stdout(Stdio::piped())
        .output()
        .await
        .ok()?;
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !sha.is_empty()).then_some(sha)
}

/// Point `refs/pull/<number>/head` at `sha`, as GitHub does for every pull request. Quietly
/// nothing when the commit is not in the repository (the test may push it later and call
/// `set_pull` again).
pub(crate) fn set_pull_ref(bare: &Path, number: u64, sha: &str) {
    if sha.is_empty() || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return;
    }
    let status = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*")
        .env_remove("GIT_DIR")
        .args(["update-ref", &format!("refs/pull/{number}/head"), sha])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!(
            "fake GitHub: refs/pull/{number}/head not set in {}: {sha} is not there",
            bare.display()
        );
    }
}

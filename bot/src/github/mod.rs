//! The GitHub REST client the bot uses: the App's JWT, installation tokens minted per
//! installation and cached until shortly before they expire, and one request path that retries
//! what is worth retrying (5xx, network errors, secondary rate limits with `Retry-After` or
//! `x-ratelimit-reset`) and counts every answer for `/metrics`.
//!
//! Tokens are held in `secrecy` and never logged; a request's description in an error or a
//! log line is its method and path only.

pub mod api;

use crate::metrics::Metrics;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::Rng;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, USER_AGENT};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The longest the client itself waits before a retry; longer waits go back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(30);
const TRIES: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("{method} {path}: cannot reach GitHub: {message}")]
    Network {
        method: String,
        path: String,
        message: String,
    },
    #[error("{method} {path}: GitHub answered {status}: {message}")]
    Status {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    #[error("{method} {path}: rate limited by GitHub; retry in {} s", wait.as_secs())]
    RateLimited {
        method: String,
        path: String,
        wait: Duration,
    },
    #[error("{method} {path}: unexpected answer: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    #[error("the App's private key cannot sign a JWT: {0}")]
    Key(String),
}

impl GithubError {
    /// Whether trying again later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            GithubError::Network { .. } | GithubError::RateLimited { .. } => true,
            GithubError::Status { status, .. } => {
                *status >= 500 || *status == 429 || *status == 401
            }
            GithubError::Decode { .. } | GithubError::Key(_) => false,
        }
    }

    /// How long to wait before retrying, when GitHub said.
    pub fn wait(&self) -> Option<Duration> {
        match self {
            GithubError::RateLimited { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Who a request is made as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As {
    /// The App itself (JWT): installations and their tokens.
    App,
    /// An installation, with its access token.
    Installation(i64),
}

struct Cached {
    token: SecretString,
    /// Unix seconds.
    expires_at: i64,
    /// Renew when fewer than this many seconds are left.
    margin: i64,
}

/// The App's client. Cheap to clone.
#[derive(Clone)]
pub struct GitHub {
    inner: Arc<Inner>,
}

struct Inner {
    api_url: String,
    app_id: u64,
    key: EncodingKey,
    http: reqwest::Client,
    tokens: Mutex<HashMap<i64, Cached>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api_url", &self.inner.api_url)
            .field("app_id", &self.inner.app_id)
            .finish_non_exhaustive()
    }
}

/// The answer to a request that succeeded.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl GitHub {
    pub fn new(
        api_url: &str,
        app_id: u64,
        private_key: &SecretString,
        metrics: Arc<Metrics>,
    ) -> Result<GitHub, GithubError> {
        let key = EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
            .map_err(|e| GithubError::Key(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| GithubError::Key(format!("HTTP client: {e}")))?;
        Ok(GitHub {
            inner: Arc::new(Inner {
                api_url: api_url.trim_end_matches('/').to_string(),
                app_id,
                key,
                http,
                tokens: Mutex::new(HashMap::new()),
                metrics,
            }),
        })
    }

    pub fn api_url(&self) -> &str {
        &self.inner.api_url
    }

    pub fn app_id(&self) -> u64 {
        self.inner.app_id
    }

    /// A JWT for the App, valid for nine minutes (GitHub allows ten), issued a minute in the
    /// past to absorb clock drift.
    fn jwt(&self) -> Result<SecretString, GithubError> {
        #[derive(serde::Serialize)]
        struct Claims {
            iat: i64,
            exp: i64,
            iss: String,
        }
        let now = vouch_rules::time::unix_now();
        let claims = Claims {
            iat: now - 60,
            exp: now + 540,
            iss: self.inner.app_id.to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.inner.key)
            .map(SecretString::from)
            .map_err(|e| GithubError::Key(e.to_string()))
    }

    /// The installation's access token: the cached one while it has time left, else a new one.
    pub async fn installation_token(&self, installation: i64) -> Result<SecretString, GithubError> {
        let now = vouch_rules::time::unix_now();
        {
            let tokens = self.inner.tokens.lock().await;
            if let Some(c) = tokens.get(&installation) {
                if c.expires_at - now > c.margin {
                    return Ok(c.token.clone());
                }
            }
        }
        let path = format!("/app/installations/{installation}/access_tokens");
        // Boxed: `request` mints tokens through here for installation calls (never for this
        // App call, so the recursion ends).
        let body = serde_json::json!({});
        let answer = Box::pin(self.request(Method::POST, &path, As::App, Some(&body))).await?;
        let decode = |message: &str| GithubError::Decode {
            method: "POST".into(),
            path: path.clone(),
            message: message.into(),
        };
        let token = answer
            .body
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| decode("no token in the answer"))?;
        let expires_at = answer
            .body
            .get("expires_at")
            .and_then(Value::as_str)
            .and_then(vouch_rules::time::parse_rfc3339)
            .ok_or_else(|| decode("no expires_at in the answer"))?;
        let lifetime = (expires_at - now).max(0);
        let cached = Cached {
            token: SecretString::from(token.to_string()),
            expires_at,
            margin: (lifetime / 2).min(300),
        };
        self.inner.metrics.tokens_minted.inc();
        tracing::debug!(installation, expires_at, "minted an installation token");
        let out = cached.token.clone();
        self.inner.tokens.lock().await.insert(installation, cached);
        Ok(out)
    }

    async fn forget_token(&self, installation: i64) {
        self.inner.tokens.lock().await.remove(&installation);
    }

    /// One API request with retries. `path` starts with `/` and may carry a query.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        who: As,
        body: Option<&Value>,
    ) -> Result<Answer, GithubError> {
        let url = format!("{}{path}", self.inner.api_url);
        let mut reauthed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let auth = match who {
                As::App => format!("Bearer {}", self.jwt()?.expose_secret()),
                As::Installation(id) => {
                    format!(
                        "token {}",
                        self.installation_token(id).await?.expose_secret()
                    )
                }
            };
            let mut req = self
                .inner
                .http
                .request(method.clone(), &url)
                .header(ACCEPT, "application/vnd.github+json")
                .header(USER_AGENT, concat!("vouch-bot/", env!("CARGO_PKG_VERSION")))
                .header("X-GitHub-Api-Version", "2022-11-28")
                .header(AUTHORIZATION, auth);
            if let Some(body) = body {
                req = req.json(body);
            }
            let sent = req.send().await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.inner.metrics.github(0);
                    let err = GithubError::Network {
                        method: method.to_string(),
                        path: path_only(path),
                        message: without_url(&e),
                    };
                    if attempt < TRIES {
                        tracing::warn!(%err, attempt, "GitHub request failed; retrying");
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = response.status();
            self.inner.metrics.github(status.as_u16());
            let headers = response.headers().clone();
            if let Some(left) = header_i64(&headers, "x-ratelimit-remaining") {
                self.inner.metrics.rate_limit_remaining.set(left);
            }
            let text = response.text().await.unwrap_or_default();
            if status.is_success() {
                let body = if text.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).map_err(|e| GithubError::Decode {
                        method: method.to_string(),
                        path: path_only(path),
                        message: e.to_string(),
                    })?
                };
                return Ok(Answer {
                    status: status.as_u16(),
                    body,
                });
            }
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
            if let Some(wait) = rate_limit_wait(status, &headers, &message) {
                if wait <= MAX_INLINE_WAIT && attempt < TRIES {
                    tracing::warn!(method = %method, path = %path_only(path), wait_s = wait.as_secs_f64(), "rate limited by GitHub; waiting as asked");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(GithubError::RateLimited {
                    method: method.to_string(),
                    path: path_only(path),
                    wait,
                });
            }
            if status == StatusCode::UNAUTHORIZED {
                if let (As::Installation(id), false) = (who, reauthed) {
                    // The token expired early or was revoked: mint a new one, once.
                    self.forget_token(id).await;
                    reauthed = true;
                    continue;
                }
            }
            if status.is_server_error() && attempt < TRIES {
                tracing::warn!(method = %method, path = %path_only(path), status = status.as_u16(), attempt, "GitHub server error; retrying");
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            return Err(GithubError::Status {
                method: method.to_string(),
                path: path_only(path),
                status: status.as_u16(),
                message,
            });
        }
    }
}

/// How long GitHub asks us to wait, if this answer is a rate limit.
fn rate_limit_wait(status: StatusCode, headers: &HeaderMap, message: &str) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(after) = header_i64(headers, "retry-after") {
        return Some(Duration::from_secs(after.clamp(0, 3600) as u64));
    }
    let exhausted = header_i64(headers, "x-ratelimit-remaining") == Some(0);
    let secondary = message.to_ascii_lowercase().contains("rate limit");
    if exhausted || secondary || status == StatusCode::TOO_MANY_REQUESTS {
        if let Some(reset) = header_i64(headers, "x-ratelimit-reset") {
            let wait = (reset - vouch_rules::time::unix_now()).clamp(1, 3600);
            return Some(Duration::from_secs(wait as u64));
        }
        // GitHub's advice for a secondary limit without headers: wait at least a minute.
        return Some(Duration::from_secs(60));
    }
    None
}

/// Exponential backoff with jitter: about 0.5 s, 1 s, 2 s, … capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let capped = base.min(30_000);
    let jitter = rand::thread_rng().gen_range(0..=capped / 2);
    Duration::from_millis(capped / 2 + jitter)
}

/// A path without its query, for messages.
fn path_only(path: &str) -> String {
    path.split('?').next().unwrap_or(path).to_string()
}

/// A reqwest error's text without the URL (which is ours, but may be long).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "");
    }
    let source = std::error::Error::source(e).map(|s| s.to_string());
    match source {
        Some(src) if !s.contains(&src) => format!("{} ({src})", s.trim()),
        _ => s.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_honoured_and_rate_limit_messages_recognised() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(
            rate_limit_wait(
                StatusCode::FORBIDDEN,
                &h,
                "You have exceeded a secondary rate limit"
            ),
            Some(Duration::from_secs(3))
        );
        let none = HeaderMap::new();
        assert_eq!(
            rate_limit_wait(
                StatusCode::FORBIDDEN,
                &none,
                "Resource not accessible by integration"
            ),
            None
        );
        assert_eq!(
            rate_limit_wait(
                StatusCode::FORBIDDEN,
                &none,
                "You have exceeded a secondary rate limit"
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(rate_limit_wait(StatusCode::BAD_GATEWAY, &h, ""), None);
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_secs(30), "{attempt}: {d:?}");
        }
        assert!(backoff(1) <= Duration::from_millis(500));
        assert!(backoff(5) >= Duration::from_secs(4));
    }
}

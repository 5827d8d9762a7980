//! The HTTP side: `POST /webhook` verifies the delivery's HMAC before reading a byte of it as
//! JSON, records it and queues its jobs, and answers at once; the judging happens in the
//! workers. `GET /healthz`, `/readyz` and `/metrics` are for the platform running the bot.

use crate::events::{self, Plan};
use crate::worker::Bot;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::sync::Arc;
use tracing::{debug, info, warn};

/// GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub bot: Arc<Bot>,
    pub secret: Arc<SecretString>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Whether `signature` (`sha256=<hex>`, the `X-Hub-Signature-256` header) is the HMAC-SHA256 of
/// `body` under `secret`. The comparison is constant time.
pub fn signature_valid(secret: &[u8], body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex_sig) = signature.and_then(|s| s.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    let mut text = text.into();
    text.push('\n');
    (status, text).into_response()
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let metrics = &state.bot.metrics;
    // Event names are a closed set; anything else is counted as "other" to keep labels bounded.
    let event = header_text(&headers, "x-github-event").unwrap_or("");
    let label = match event {
        "pull_request"
        | "pull_request_review"
        | "check_run"
        | "check_suite"
        | "merge_group"
        | "installation"
        | "installation_repositories"
        | "ping" => event,
        _ => "other",
    };
    if !signature_valid(
        state.secret.expose_secret().as_bytes(),
        &body,
        header_text(&headers, "x-hub-signature-256"),
    ) {
        metrics.delivery(label, "unauthorized");
        warn!(
            event = label,
            "webhook delivery with a missing or wrong signature refused"
        );
        return answer(
            StatusCode::UNAUTHORIZED,
            "bad or missing X-Hub-Signature-256",
        );
    }
    let Some(delivery) =
        header_text(&headers, "x-github-delivery").filter(|d| !d.is_empty() && d.len() <= 200)
    else {
        metrics.delivery(label, "bad_request");
        return answer(StatusCode::BAD_REQUEST, "missing X-GitHub-Delivery");
    };
    if event.is_empty() {
        metrics.delivery(label, "bad_request");
        return answer(StatusCode::BAD_REQUEST, "missing X-GitHub-Event");
    }
    let payload: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            metrics.delivery(label, "bad_request");
            return answer(
                StatusCode::BAD_REQUEST,
                format!("the payload is not JSON: {e}"),
            );
        }
    };
    let plan = match events::plan(event, &payload) {
        Ok(p) => p,
        Err(e) => {
            metrics.delivery(label, "bad_request");
            warn!(delivery, error = %e, "webhook payload refused");
            return answer(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    match plan {
        Plan::Ignore(why) => {
            metrics.delivery(label, "ignored");
            debug!(delivery, %why, "delivery ignored");
            answer(StatusCode::ACCEPTED, format!("ignored: {why}"))
        }
        Plan::Queue {
            action,
            jobs,
            pusher,
        } => {
            let pusher = pusher.as_ref().map(|(repo, pull, login, head)| {
                (repo.as_str(), *pull, login.as_str(), head.as_str())
            });
            match state
                .bot
                .queue
                .accept(delivery, event, &action, &jobs, pusher)
                .await
            {
                Ok(a) if a.duplicate => {
                    metrics.delivery(label, "duplicate");
                    answer(StatusCode::OK, "duplicate delivery: already taken")
                }
                Ok(a) => {
                    metrics.delivery(label, "queued");
                    info!(delivery, event, action, queued = a.queued, "delivery taken");
                    state.bot.wake.notify_waiters();
                    answer(StatusCode::ACCEPTED, format!("queued {} job(s)", a.queued))
                }
                Err(e) => {
                    metrics.delivery(label, "error");
                    warn!(delivery, error = %e, "cannot record a delivery");
                    answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "cannot record the delivery now; redeliver it, or wait for reconciliation",
                    )
                }
            }
        }
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    // The key was parsed when the bot started (it does not start without one).
    if state.bot.queue.ping().await {
        answer(StatusCode::OK, "ready")
    } else {
        answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer",
        )
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(depth) = state.bot.queue.depth().await {
        state.bot.metrics.queue_depth.set(depth);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.bot.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn only_the_right_hmac_passes() {
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        let good = sign(b"s3cret", body);
        assert!(signature_valid(b"s3cret", body, Some(&good)));
        assert!(!signature_valid(b"other", body, Some(&good)));
        assert!(!signature_valid(b"s3cret", b"{}", Some(&good)));
        assert!(!signature_valid(b"s3cret", body, None));
        assert!(!signature_valid(b"s3cret", body, Some("sha1=abcd")));
        assert!(!signature_valid(b"s3cret", body, Some("sha256=zz")));
        assert!(!signature_valid(
            b"s3cret",
            body,
            Some(&good[..good.len() - 2])
        ));
    }

    /// GitHub's documented example: secret "It's a Secret to Everybody", payload
    /// "Hello, World!".
    #[test]
    fn githubs_published_test_vector() {
        assert!(signature_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
        ));
    }
}

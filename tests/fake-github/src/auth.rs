//! Who a request is from: the App (an RS256 JWT checked as GitHub checks it), an installation
//! (a token the fake minted, as `token X`, `Bearer X` or git's Basic `x-access-token:X`), or
//! nobody; and the answer GitHub gives when that is not good enough.

use crate::Shared;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;
use std::collections::HashSet;
use std::time::SystemTime;

/// The credentials of one request, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    Absent,
    Jwt,
    Token(i64),
    Basic(i64),
    /// A token the fake minted that has expired or was revoked.
    Expired(i64),
    /// Credentials GitHub would refuse: `message` is GitHub's answer, `why` the violation.
    Bad {
        message: String,
        why: String,
    },
}

impl Auth {
    /// The kind recorded for a request (never the secret).
    pub(crate) fn label(&self) -> Option<String> {
        match self {
            Auth::Absent => None,
            Auth::Jwt => Some("jwt".into()),
            Auth::Token(i) => Some(format!("token:{i}")),
            Auth::Basic(i) => Some(format!("basic:{i}")),
            Auth::Expired(i) => Some(format!("expired:{i}")),
            Auth::Bad { .. } => Some("bad".into()),
        }
    }

    /// Whose hourly limit the request counts against.
    pub(crate) fn limit_key(&self) -> String {
        match self {
            Auth::Jwt => "app".into(),
            Auth::Token(i) | Auth::Basic(i) | Auth::Expired(i) => format!("installation:{i}"),
            Auth::Absent | Auth::Bad { .. } => "anonymous".into(),
        }
    }
}

fn bad(message: &str, why: impl Into<String>) -> Auth {
    Auth::Bad {
        message: message.into(),
        why: why.into(),
    }
}

const BAD_JWT: &str = "A JSON web token could not be decoded";

/// Judge an `Authorization` header.
pub(crate) fn classify(shared: &Shared, header: Option<&str>) -> Auth {
    let Some(header) = header else {
        return Auth::Absent;
    };
    let (scheme, value) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let value = value.trim();
    let looks_like_jwt = value.split('.').count() == 3;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" if looks_like_jwt => match verify_jwt(shared, value) {
            Ok(()) => Auth::Jwt,
            Err((message, why)) => bad(message, why),
        },
        "bearer" | "token" if !looks_like_jwt => token(shared, value, false),
        "token" => bad(
            BAD_JWT,
            "a JWT sent as `token`: GitHub takes the App's JWT only as `Bearer`",
        ),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some(("x-access-token", secret)) => token(shared, secret, true),
                Some((user, _)) => bad(
                    "Bad credentials",
                    format!("Basic credentials for user {user:?}: an installation token goes with the user x-access-token"),
                ),
                None => bad("Bad credentials", "Basic credentials that are not base64 of user:password"),
            }
        }
        other => bad(
            "Bad credentials",
            format!("unknown Authorization scheme {other:?}"),
        ),
    }
}

fn token(shared: &Shared, secret: &str, basic: bool) -> Auth {
    let state = shared.state();
    match state.tokens.get(secret) {
        Some(t) if !t.revoked && SystemTime::now() < t.expires => {
            if basic {
                Auth::Basic(t.installation)
            } else {
                Auth::Token(t.installation)
            }
        }
        Some(t) => Auth::Expired(t.installation),
        None => bad("Bad credentials", "a token the fake never minted"),
    }
}

fn verify_jwt(shared: &Shared, jwt: &str) -> Result<(), (&'static str, String)> {
    let header =
        jsonwebtoken::decode_header(jwt).map_err(|e| (BAD_JWT, format!("JWT header: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err((
            BAD_JWT,
            format!("JWT signed with {:?}; GitHub takes only RS256", header.alg),
        ));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = jsonwebtoken::decode::<Value>(jwt, &shared.key, &validation)
        .map_err(|e| {
            (
                BAD_JWT,
                format!("JWT does not verify with the App's public key: {e}"),
            )
        })?
        .claims;
    let app_id = shared.app_id;
    let iss_ok = match claims.get("iss") {
        Some(Value::String(s)) => s.trim() == app_id.to_string(),
        Some(Value::Number(n)) => n.as_u64() == Some(app_id),
        _ => false,
    };
    if !iss_ok {
        return Err((
            "'Issuer' claim ('iss') must be an Integer",
            format!(
                "JWT iss is {:?}, not the App id {app_id}",
                claims.get("iss")
            ),
        ));
    }
    let now = vouch_rules::time::unix_now();
    let Some(iat) = claims.get("iat").and_then(Value::as_i64) else {
        return Err((
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
            "JWT without an integer iat".into(),
        ));
    };
    if iat > now + 60 {
        return Err((
            "'Issued at' claim ('iat') must be an Integer representing a time in the past.",
            format!("JWT iat is {} s in the future", iat - now),
        ));
    }
    let Some(exp) = claims.get("exp").and_then(Value::as_i64) else {
        return Err((
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
            "JWT without an integer exp".into(),
        ));
    };
    if exp <= now {
        return Err((
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
            format!("JWT expired {} s ago", now - exp),
        ));
    }
    if exp - iat > 600 || exp > now + 600 {
        return Err((
            "'Expiration time' claim ('exp') is too far in the future.",
            format!(
                "JWT lives {} s (exp - iat); GitHub allows at most 600",
                exp - iat
            ),
        ));
    }
    Ok(())
}

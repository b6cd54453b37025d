//! What every API request goes through: `Accept` negotiation (any `version=3[.variant]`),
//! authentication (Bearer, or Basic with the token as password and any user name) into an
//! [`Actor`], and the headers Heroku sends on every answer (`Request-Id`,
//! `RateLimit-Remaining`).

use super::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use doppel_control::logic::Actor;
use doppel_control::state::AppState;

/// What `GET /account/rate-limits` and the `RateLimit-Remaining` header report: doppel does
/// not limit API calls (one installation, its own users), so the pool is always full.
pub const RATE_LIMIT_REMAINING: u64 = 4500;

/// The token a request carries: `Authorization: Bearer <t>` or Basic with `<t>` as password.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(rest.trim().to_string()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (_user, password) = text.split_once(':')?;
            Some(password.to_string())
        }
        _ => None,
    }
    .filter(|t| !t.is_empty())
}

/// Which client sent the request, from its User-Agent (kept in the audit log).
fn client_of(headers: &HeaderMap) -> String {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if agent.starts_with("doppel") {
        "doppel-cli"
    } else if agent.starts_with("heroku-cli") || agent.contains("heroku-cli") {
        "heroku-cli"
    } else if agent.contains("heroku3") || agent.contains("python-requests") {
        "heroku3"
    } else {
        "api"
    }
    .to_string()
}

/// Rejects requests without a valid API token; puts the [`Actor`] in the extensions.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = token_from_headers(request.headers()) else {
        return Err(ApiError::unauthorized());
    };
    let user = state
        .store()
        .authenticate(&token)
        .await
        .map_err(doppel_control::logic::LogicError::from)?
        .ok_or_else(ApiError::unauthorized)?;
    let address = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let actor = Actor {
        user,
        client: client_of(request.headers()),
        address,
    };
    request.extensions_mut().insert(actor);
    Ok(next.run(request).await)
}

/// Heroku answers 406 to an Accept header naming another API version. A missing Accept, or
/// a generic one, is treated as version 3 so curl and browsers work; `version=3.sdk` and
/// other variants are version 3.
pub async fn check_accept(request: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(accept) = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    {
        if accept.contains("application/vnd.heroku+json") && !names_version_3(accept) {
            return Err(ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                "doppel speaks the Heroku Platform API version 3: send `Accept: application/vnd.heroku+json; version=3`.",
            ));
        }
    }
    Ok(next.run(request).await)
}

/// Whether an Accept value asks for version 3 (`version=3` or `version=3.<variant>`).
fn names_version_3(accept: &str) -> bool {
    accept.split([';', ',']).any(|part| {
        let part = part.trim();
        part.strip_prefix("version=")
            .is_some_and(|v| v == "3" || v.starts_with("3."))
    })
}

/// Adds `Request-Id` (the client's, else a new one) and `RateLimit-Remaining` to every answer.
pub async fn heroku_headers(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("request-id", v);
    }
    h.insert(
        "ratelimit-remaining",
        HeaderValue::from(RATE_LIMIT_REMAINING),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_basic_password() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("anyone:tok");
        if let Ok(value) = HeaderValue::from_str(&format!("Basic {basic}")) {
            h.insert(header::AUTHORIZATION, value);
        }
        assert_eq!(token_from_headers(&h).as_deref(), Some("tok"));
        let empty = base64::engine::general_purpose::STANDARD.encode(":");
        if let Ok(value) = HeaderValue::from_str(&format!("Basic {empty}")) {
            h.insert(header::AUTHORIZATION, value);
        }
        assert_eq!(token_from_headers(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(token_from_headers(&h), None);
    }

    #[test]
    fn accepts_version_3_and_its_variants() {
        assert!(names_version_3("application/vnd.heroku+json; version=3"));
        assert!(names_version_3(
            "application/vnd.heroku+json; version=3.sdk"
        ));
        assert!(names_version_3(
            "application/vnd.heroku+json; version=3.cedar-acm"
        ));
        assert!(!names_version_3("application/vnd.heroku+json; version=2"));
        assert!(!names_version_3("application/vnd.heroku+json; version=30"));
    }
}

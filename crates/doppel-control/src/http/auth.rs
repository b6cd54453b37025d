//! API authentication (Bearer, or Basic with the token as password) and Accept negotiation.

use super::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;

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
}

/// Rejects requests without a valid API token; puts the [`doppel_store::User`] in extensions.
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
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    request.extensions_mut().insert(user);
    Ok(next.run(request).await)
}

/// Heroku answers 406 to an Accept header naming another API version. A missing Accept, or
/// a generic one, is treated as version 3 so curl and browsers work.
pub async fn check_accept(request: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(accept) = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    {
        if accept.contains("application/vnd.heroku+json") && !accept.contains("version=3") {
            return Err(ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                "doppel speaks the Heroku Platform API version 3: send `Accept: application/vnd.heroku+json; version=3`.",
            ));
        }
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_bearer_and_basic_password() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("anyone:tok");
        let value = HeaderValue::from_str(&format!("Basic {basic}")).ok();
        if let Some(value) = value {
            h.insert(header::AUTHORIZATION, value);
        }
        assert_eq!(token_from_headers(&h).as_deref(), Some("tok"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(token_from_headers(&h), None);
    }
}

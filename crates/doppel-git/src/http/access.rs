//! Basic-auth extraction, authorization and the plain-text error responses git shows its user.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{header, HeaderMap, StatusCode};

use crate::{GitAccessError, GitService};

/// The Basic-auth password (any username), if present and well-formed.
pub(crate) fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

/// Asks the handler; the error is a ready response.
pub(crate) async fn authorize(
    svc: &GitService,
    repo: &str,
    headers: &HeaderMap,
    write: bool,
) -> Result<Option<String>, Response> {
    let password = basic_password(headers);
    svc.handler
        .authorize(repo, password.as_deref(), write)
        .await
        .map_err(|e| access_denied(repo, e))
}

/// A text/plain response; git prints text/plain bodies of failed requests as `remote:` lines.
pub(crate) fn plain(status: StatusCode, msg: impl Into<String>) -> Response {
    let mut body = msg.into();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn access_denied(repo: &str, e: GitAccessError) -> Response {
    match e {
        GitAccessError::NotFound => plain(
            StatusCode::NOT_FOUND,
            format!("App not found: {repo}. Check the name with `doppel apps`."),
        ),
        GitAccessError::Unauthorized => {
            let mut resp = plain(StatusCode::UNAUTHORIZED, "Authentication required.");
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Basic realm=\"doppel\""),
            );
            resp
        }
        GitAccessError::Forbidden(msg) => plain(StatusCode::FORBIDDEN, msg),
    }
}

/// 404 for paths that do not name a repository.
pub(crate) fn not_a_repo() -> Response {
    plain(StatusCode::NOT_FOUND, "Not found.")
}

/// 500 for server-side failures (details go to the log, not the client).
pub(crate) fn internal(repo: &str, what: &str, err: &dyn std::fmt::Display) -> Response {
    tracing::error!(repo, error = %err, "{what}");
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("Internal error ({what}). Try again later."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic() {
        let mut h = HeaderMap::new();
        assert_eq!(basic_password(&h), None);
        let v = base64::engine::general_purpose::STANDARD.encode("user:to:ken");
        h.insert(header::AUTHORIZATION, format!("Basic {v}").parse().unwrap());
        assert_eq!(basic_password(&h).as_deref(), Some("to:ken"));
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_password(&h), None);
    }
}

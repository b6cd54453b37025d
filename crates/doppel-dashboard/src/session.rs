//! Signed-in browsers. The session cookie (`__Host-doppel_session`: Secure, HttpOnly,
//! SameSite=Strict, host-only, expiring with the session) holds a random secret whose digest
//! names the session in the store. [`guard`] runs before every handler: it finds the session,
//! refuses cross-site and token-less form posts, and hands the handler a [`Viewer`].

use crate::csrf;
use crate::error::PageError;
use crate::state::Dashboard;
use crate::viewer::{Viewer, REFRESH_HEADER};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use doppel_control::logic::passwords;
use http::request::Parts;
use http::{header, HeaderMap, Method};
use std::net::{IpAddr, SocketAddr};

/// The session cookie.
pub const SESSION_COOKIE: &str = "__Host-doppel_session";
/// The sign-in form's cookie (its CSRF token is derived from it).
pub const LOGIN_COOKIE: &str = "__Host-doppel_login";
/// Largest form body read.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// Handlers that need a signed-in person take a [`Viewer`]; without one the browser is sent
/// to the sign-in page (and back here afterwards).
impl FromRequestParts<Dashboard> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &Dashboard) -> Result<Viewer, Response> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let target = if parts.method == Method::GET && local_path(next) {
            format!("/login?next={}", urlencode(next))
        } else {
            "/login".to_string()
        };
        Err(see_other(&target))
    }
}

/// A 303 to a path of the dashboard.
pub fn see_other(path: &str) -> Response {
    let mut response = http::StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = http::HeaderValue::from_str(path) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Whether `next` is a path of this dashboard (never another site: `//evil`, `/\evil`).
pub fn local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control())
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// The value of cookie `name` among the request's cookies.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: host-only, whole site, Secure, HttpOnly, SameSite=Strict, lasting
/// `seconds` (0 removes it).
pub fn set_cookie(name: &str, value: &str, seconds: i64) -> String {
    Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(seconds))
        .build()
        .to_string()
}

fn client_address(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Finds the session, then lets a form post through only from the dashboard's own pages
/// with a valid `_csrf` token; every other method passes after the lookup.
pub async fn guard(State(dash): State<Dashboard>, mut req: Request, next: Next) -> Response {
    let address = client_address(&req);
    if let Some(secret) = cookie(req.headers(), SESSION_COOKIE) {
        match passwords::session(&dash.app, &secret).await {
            Ok(Some((session, user))) => {
                let csrf = csrf::session_token(&dash, &session.digest);
                let refresh = req.headers().contains_key(REFRESH_HEADER);
                req.extensions_mut().insert(Viewer {
                    user,
                    session,
                    csrf,
                    address,
                    refresh,
                });
            }
            Ok(None) => {}
            Err(e) => return PageError::from(e).into_response(),
        }
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    if !csrf::same_origin(req.headers(), &dash.origin) {
        tracing::warn!(path = %req.uri().path(), "dashboard form refused: it came from another site");
        return PageError::CrossSite.into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return PageError::TooLarge.into_response(),
    };
    let token = csrf::form_token(&bytes).unwrap_or_default();
    let valid = match parts.extensions.get::<Viewer>() {
        Some(viewer) => csrf::check_session(&dash, &viewer.session.digest, &token),
        None if parts.uri.path() == "/login" => cookie(&parts.headers, LOGIN_COOKIE)
            .is_some_and(|c| csrf::check_login(&dash, &c, &token)),
        None => return see_other("/login"),
    };
    if !valid {
        tracing::warn!(path = %parts.uri.path(), "dashboard form refused: missing or wrong _csrf token");
        return PageError::CrossSite.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Removes expired sessions from the store once an hour (they are refused anyway; this keeps
/// the table small).
pub async fn sweep_expired(app: doppel_control::state::AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match app.store().delete_expired_sessions().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "removed expired dashboard sessions"),
            Err(e) => tracing::warn!(error = %e, "could not remove expired dashboard sessions"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_dashboard() {
        assert!(local_path("/apps/x?y=1"));
        assert!(!local_path("//evil.example/"));
        assert!(!local_path("/\\evil.example"));
        assert!(!local_path("https://evil.example/"));
        assert!(!local_path("/a\nb"));
        assert_eq!(urlencode("/apps/x?y=1&z"), "%2Fapps%2Fx%3Fy%3D1%26z");
    }

    #[test]
    fn cookies_are_strict_and_read_back() {
        let c = set_cookie(SESSION_COOKIE, "abc", 60);
        for part in [
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Domain"), "{c}");
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            http::HeaderValue::from_static("a=1; __Host-doppel_session=abc"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }
}

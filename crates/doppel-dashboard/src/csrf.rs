//! Cross-site request protection for every form. Three locks, all required for a change:
//! the session cookie is `SameSite=Strict` (another site's form does not carry it), the
//! browser's `Origin` / `Sec-Fetch-Site` must name the dashboard itself when sent, and every
//! form carries a `_csrf` token that only the dashboard can make: a keyed hash (under the
//! master key) of the session's digest, or, on the sign-in form, of a random cookie set with
//! the form (double submit). Nothing is stored for them.

use crate::state::Dashboard;
use http::HeaderMap;

/// The form field every POST carries.
pub const FIELD: &str = "_csrf";

const PURPOSE_SESSION: &str = "dashboard-csrf";
const PURPOSE_LOGIN: &str = "dashboard-login";

/// The token of forms shown to the session whose digest is `digest`.
pub fn session_token(dash: &Dashboard, digest: &str) -> String {
    dash.app.store().capability(PURPOSE_SESSION, digest)
}

/// Whether `token` is [`session_token`] of `digest` (constant-time).
pub fn check_session(dash: &Dashboard, digest: &str, token: &str) -> bool {
    dash.app
        .store()
        .check_capability(PURPOSE_SESSION, digest, token)
}

/// The token of the sign-in form shown with login cookie `cookie`.
pub fn login_token(dash: &Dashboard, cookie: &str) -> String {
    dash.app.store().capability(PURPOSE_LOGIN, cookie)
}

/// Whether `token` is [`login_token`] of `cookie` (constant-time).
pub fn check_login(dash: &Dashboard, cookie: &str, token: &str) -> bool {
    dash.app
        .store()
        .check_capability(PURPOSE_LOGIN, cookie, token)
}

/// Whether the browser says the request comes from the dashboard's own pages: a
/// `Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin` other than `origin`, is
/// refused; without either header the token alone decides.
pub fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match value("origin") {
        Some(sent) => sent.eq_ignore_ascii_case(origin),
        None => true,
    }
}

/// The `_csrf` field of a url-encoded form body.
pub fn form_token(body: &[u8]) -> Option<String> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    fields.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_the_dashboards_own_origin_passes() {
        let me = "https://dashboard.localhost:8443";
        assert!(same_origin(&headers(&[]), me));
        assert!(same_origin(
            &headers(&[("origin", "https://dashboard.localhost:8443")]),
            me
        ));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            me
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            me
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), me));
        assert!(!same_origin(
            &headers(&[("origin", "https://myapp.localhost:8443")]),
            me
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            me
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            me
        ));
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(
            form_token(b"key=A&_csrf=abc%2Bd&value=1").as_deref(),
            Some("abc+d")
        );
        assert_eq!(form_token(b"key=A"), None);
        assert_eq!(form_token(b"\xff\xfe"), None);
    }
}

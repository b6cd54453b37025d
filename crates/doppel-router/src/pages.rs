//! The router's own small HTML pages (no external resources): 404, 401, 503 variants.

use axum::body::Body;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

/// Escapes text for HTML element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page: `title` is plain text, `body_html` must already be escaped.
fn page(status: StatusCode, title: &str, body_html: &str) -> Response<Body> {
    let title = escape(title);
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
<style>body{{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#333}}\
code{{background:#eee;padding:0 .2em}}</style></head>\n\
<body><h1>{title}</h1>\n{body_html}\n</body></html>\n"
    );
    let mut resp = Response::new(Body::from(html));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// 404 for a host that is neither the platform nor a known environment.
pub(crate) fn no_such_app(host: &str) -> Response<Body> {
    page(
        StatusCode::NOT_FOUND,
        "No such app",
        &format!("<p>There is no app at <code>{}</code>.</p>", escape(host)),
    )
}

/// 401 for a private (staging) environment without valid credentials.
pub(crate) fn unauthorized(env: &str) -> Response<Body> {
    let mut resp = page(
        StatusCode::UNAUTHORIZED,
        "Authentication required",
        &format!(
            "<p>The environment <code>{}</code> is private.</p>\n\
<p>Sign in with any user name and your doppel API token as the password \
(<code>doppel auth:token</code> prints it), e.g. \
<code>curl -u :$TOKEN https://&hellip;</code>.</p>",
            escape(env)
        ),
    );
    let realm = format!("Basic realm=\"{} (doppel staging)\"", env.replace('"', ""));
    if let Ok(v) = HeaderValue::from_str(&realm) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// 503 for an environment with no running release (no backends).
pub(crate) fn no_release(env: &str) -> Response<Body> {
    let env = escape(env);
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "No release yet",
        &format!(
            "<p>The environment <code>{env}</code> has no running release yet.</p>\n\
<p>To get one, push code to staging (<code>git push &lt;staging remote&gt; main</code>), \
then promote it to production (<code>doppel pipelines:promote</code>). If a release exists, \
check that a <code>web</code> dyno is scaled up (<code>doppel ps -a {env}</code>).</p>"
        ),
    )
}

/// 503 for an environment whose current release has no web dyno running (H14).
pub(crate) fn no_web_dyno(env: &str) -> Response<Body> {
    let env = escape(env);
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "No web dynos running",
        &format!(
            "<p>The environment <code>{env}</code> has a release, but no <code>web</code> dyno is running right now.</p>\n<p>A crashed dyno is restarted within seconds; if this persists, check the app's logs and that <code>web</code> is scaled up (<code>doppel ps -a {env}</code>).</p>"
        ),
    )
}

/// 503 while the environment is in maintenance mode (H80); its dynos are not contacted.
pub(crate) fn maintenance(env: &str) -> Response<Body> {
    let env = escape(env);
    let mut resp = page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Offline for maintenance",
        &format!(
            "<p>The environment <code>{env}</code> is offline for maintenance and will be back \
shortly.</p>\n<p>Router code H80 (maintenance mode). If you are the application owner, \
<code>heroku maintenance:off -a {env}</code> brings it back.</p>"
        ),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    resp
}

/// 503 when no dyno accepted the connection or the connection failed (H19/H21/H13-like).
pub(crate) fn application_error() -> Response<Body> {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Application error",
        "<p>The application is not answering: an error occurred in the application and your \
page could not be served.</p>\n<p>If you are the application owner, check your logs \
(<code>doppel logs --tail</code>) for details.</p>",
    )
}

/// 503 when the dyno did not start answering within the first-byte timeout (H12).
pub(crate) fn request_timeout() -> Response<Body> {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "H12 Request timeout",
        "<p>The application did not respond in time.</p>\n<p>If you are the application owner, \
check your logs (<code>doppel logs --tail</code>) for slow requests.</p>",
    )
}

/// A rejected request (400, 405 for CONNECT).
pub(crate) fn bad_request(status: StatusCode) -> Response<Body> {
    page(
        status,
        status.canonical_reason().unwrap_or("Bad request"),
        "<p>The router could not forward this request.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_user_text() {
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
        let resp = unauthorized("my\"app");
        assert_eq!(
            resp.headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&b"Basic realm=\"myapp (doppel staging)\""[..])
        );
    }
}

//! The router's own small HTML pages (no external resources): 404, 401, 403, and the error
//! pages, each naming its Heroku code (H10, H12, …) so a user can look it up.

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::body::RespBody;
use crate::table::CustomPages;

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
fn page(status: StatusCode, title: &str, body_html: &str) -> Response<RespBody> {
    let title = escape(title);
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
<style>body{{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#333}}\
code{{background:#eee;padding:0 .2em}}</style></head>\n\
<body><h1>{title}</h1>\n{body_html}\n</body></html>\n"
    );
    let mut resp = Response::new(RespBody::full(html));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The app's own page at `url` (`ERROR_PAGE_URL`, `MAINTENANCE_PAGE_URL`) framed in the
/// router's page `resp`: same status and headers, the URL in an iframe filling the window,
/// the router's text kept for clients that do not load frames. An unusable URL leaves `resp`.
pub(crate) fn framed(resp: Response<RespBody>, url: &str) -> Response<RespBody> {
    let Some(url) = CustomPages::usable(url) else {
        return resp;
    };
    let title = resp
        .status()
        .canonical_reason()
        .unwrap_or("Service unavailable");
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
<style>html,body{{margin:0;padding:0;height:100%;overflow:hidden}}\
iframe{{display:block;width:100%;height:100%;border:0}}</style></head>\n\
<body><iframe src=\"{}\" title=\"{title}\"></iframe></body></html>\n",
        escape(url)
    );
    let (parts, _) = resp.into_parts();
    Response::from_parts(parts, RespBody::full(html))
}

/// 404 for a host that is neither the platform nor a known environment.
pub(crate) fn no_such_app(host: &str) -> Response<RespBody> {
    page(
        StatusCode::NOT_FOUND,
        "No such app",
        &format!("<p>There is no app at <code>{}</code>.</p>", escape(host)),
    )
}

/// 401 for a private (staging) environment without valid credentials.
pub(crate) fn unauthorized(env: &str) -> Response<RespBody> {
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

/// 503 for an environment with no release yet (H81, "blank app").
pub(crate) fn no_release(env: &str) -> Response<RespBody> {
    let env = escape(env);
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "No release yet",
        &format!(
            "<p>The environment <code>{env}</code> has no running release yet (H81).</p>\n\
<p>To get one, push code to staging (<code>git push &lt;staging remote&gt; main</code>), \
then promote it to production (<code>doppel pipelines:promote</code>). If a release exists, \
check that a <code>web</code> dyno is scaled up (<code>doppel ps -a {env}</code>).</p>"
        ),
    )
}

/// 503 for an environment whose current release has no web dyno running (H14).
pub(crate) fn no_web_dyno(env: &str) -> Response<RespBody> {
    let env = escape(env);
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "No web dynos running",
        &format!(
            "<p>The environment <code>{env}</code> has a release, but no <code>web</code> dyno is running (H14).</p>\n<p>Scale it up with <code>doppel ps:scale web=1 -a {env}</code>.</p>"
        ),
    )
}

/// 503 when the web dynos crashed (H10).
pub(crate) fn app_crashed(env: &str) -> Response<RespBody> {
    let env = escape(env);
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Application error",
        &format!(
            "<p>The web dynos of <code>{env}</code> crashed (H10).</p>\n<p>If you are the application owner, check your logs (<code>doppel logs --tail -a {env}</code>) for details.</p>"
        ),
    )
}

/// 503 when no web dyno came up within the boot timeout (H20).
pub(crate) fn boot_timeout(env: &str) -> Response<RespBody> {
    let env = escape(env);
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Application error",
        &format!(
            "<p>The web dynos of <code>{env}</code> did not start in time (H20).</p>\n<p>If you are the application owner, check your logs (<code>doppel logs --tail -a {env}</code>): the <code>web</code> process must listen on <code>$PORT</code>.</p>"
        ),
    )
}

/// 503 in maintenance mode (H80).
pub(crate) fn maintenance(env: &str) -> Response<RespBody> {
    let mut resp = page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Offline for maintenance",
        &format!(
            "<p><code>{}</code> is offline for maintenance and will be back shortly (H80).</p>",
            escape(env)
        ),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    resp
}

/// 503 when no dyno accepted the connection or the connection failed (H13, H18, H19, H21).
pub(crate) fn application_error(code: &str) -> Response<RespBody> {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Application error",
        &format!(
            "<p>An error occurred in the application and your page could not be served ({}).</p>\n\
<p>If you are the application owner, check your logs (<code>doppel logs --tail</code>) for details.</p>",
            escape(code)
        ),
    )
}

/// 503 when the dyno did not start answering within the first-byte timeout (H12).
pub(crate) fn request_timeout() -> Response<RespBody> {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Request timeout",
        "<p>The application did not respond within 30 seconds (H12).</p>\n<p>If you are the application owner, \
check your logs (<code>doppel logs --tail</code>) for slow requests.</p>",
    )
}

/// 403 for a client outside the environment's IP allow-list.
pub(crate) fn forbidden(env: &str) -> Response<RespBody> {
    page(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &format!(
            "<p>Your address may not reach <code>{}</code>.</p>",
            escape(env)
        ),
    )
}

/// 503 while the platform (API, git) cannot be reached: the control plane is restarting.
pub(crate) fn platform_unavailable() -> Response<RespBody> {
    let mut resp = page(
        StatusCode::SERVICE_UNAVAILABLE,
        "doppel is restarting",
        "<p>The doppel API is not answering right now; apps keep serving. Try again in a few seconds.</p>",
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}

/// A rejected request (400, 405 for CONNECT, 413, 431) with the reason (H26).
pub(crate) fn bad_request(status: StatusCode, reason: &str) -> Response<RespBody> {
    let mut resp = page(
        status,
        status.canonical_reason().unwrap_or("Bad request"),
        &format!(
            "<p>The router could not forward this request: {} (H26).</p>",
            escape(reason)
        ),
    );
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_pages_keep_the_status_and_escape_the_url() {
        let resp = framed(
            maintenance("app"),
            "https://pages.example/m.html?a=1&b=\"2\"",
        );
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "60");
        let RespBody::Full(Some(body)) = resp.into_body() else {
            panic!("not a full body");
        };
        let html = String::from_utf8_lossy(&body);
        assert!(
            html.contains("<iframe src=\"https://pages.example/m.html?a=1&amp;b=&quot;2&quot;\""),
            "{html}"
        );
        for bad in [
            "javascript:alert(1)",
            "//pages.example/x",
            "https:///x",
            "ftp://x/y",
            "https://a b/",
        ] {
            assert!(CustomPages::usable(bad).is_none(), "{bad}");
        }
        assert_eq!(
            CustomPages::usable(" HTTPS://x.example/ "),
            Some("HTTPS://x.example/")
        );
    }

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

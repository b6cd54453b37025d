//! The plain-HTTP listener's only answer: a redirect to the same URL over HTTPS. Nothing is
//! served over plain HTTP and no header is read but `Host`, so API tokens and staging
//! credentials never cross the network in clear text. ACME HTTP-01 challenge paths are the one
//! exception kept for certificate issuance: answered from the table's pending challenges
//! (404 while none is pending for the token).

use std::collections::HashMap;

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};

use crate::body::RespBody;

/// Where HTTP-01 challenges are fetched from.
pub(crate) const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The answer to any plain-HTTP request for `host` (already normalized: lowercase, no port).
pub(crate) fn to_https<B>(
    req: &Request<B>,
    host: Option<&str>,
    https_port: u16,
    http01: &HashMap<String, String>,
) -> Response<RespBody> {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let close = may_have_body(req);
    if let Some(token) = req.uri().path().strip_prefix(ACME_CHALLENGE_PREFIX) {
        return match http01.get(token) {
            Some(key_authorization) => {
                let mut resp = plain(StatusCode::OK, "", close);
                *resp.body_mut() = RespBody::full(key_authorization.clone());
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                resp
            }
            None => plain(
                StatusCode::NOT_FOUND,
                "No ACME challenge is pending for this path.\n",
                close,
            ),
        };
    }
    let Some(host) = host.filter(|h| is_hostname(h)) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "A valid Host header is required; doppel serves only over HTTPS.\n",
            true,
        );
    };
    let authority = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let location = format!("https://{authority}{port}{path}");
    let Ok(location) = HeaderValue::from_str(&location) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "The request target is not valid.\n",
            true,
        );
    };
    // 301 for reads (what browsers expect), 308 for the rest so the method and body survive.
    let status = if req.method() == Method::GET || req.method() == Method::HEAD {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    let mut resp = plain(status, "doppel serves only over HTTPS.\n", close);
    resp.headers_mut().insert(header::LOCATION, location);
    resp
}

/// A DNS name or an IP literal: letters, digits, `-`, `.` (and `:` for IPv6).
fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
}

/// Whether the request announces a body (which is never read here).
fn may_have_body<B>(req: &Request<B>) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// A short text answer; `close` ends the connection after it (when a request body was left
/// unread, or the request was bad), else the connection stays open for the next request.
fn plain(status: StatusCode, text: &'static str, close: bool) -> Response<RespBody> {
    let mut resp = Response::new(RespBody::full(text));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if close {
        // The request body is never read: close rather than drain it.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, uri: &str) -> Request<()> {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .unwrap_or_default()
    }

    #[test]
    fn redirects_to_the_same_url_over_https() {
        let none = HashMap::new();
        let r = to_https(
            &req(Method::GET, "/a/b?c=1"),
            Some("myapp.localhost"),
            8443,
            &none,
        );
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            r.headers()[header::LOCATION],
            "https://myapp.localhost:8443/a/b?c=1"
        );
        let r = to_https(&req(Method::POST, "/apps"), Some("example.com"), 443, &none);
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(r.headers()[header::LOCATION], "https://example.com/apps");
        let r = to_https(&req(Method::GET, "/"), Some("::1"), 443, &none);
        assert_eq!(r.headers()[header::LOCATION], "https://[::1]/");
    }

    #[test]
    fn keeps_the_connection_unless_a_body_was_left_unread() {
        let none = HashMap::new();
        let r = to_https(&req(Method::GET, "/"), Some("a.example"), 443, &none);
        assert!(r.headers().get(header::CONNECTION).is_none());
        let mut post = req(Method::POST, "/apps");
        post.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        let r = to_https(&post, Some("a.example"), 443, &none);
        assert_eq!(r.headers()[header::CONNECTION], "close");
        let mut chunked = req(Method::POST, "/apps");
        chunked.headers_mut().insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        let r = to_https(&chunked, Some("a.example"), 443, &none);
        assert_eq!(r.headers()[header::CONNECTION], "close");
    }

    #[test]
    fn refuses_bad_hosts_and_keeps_acme_paths() {
        let mut pending = HashMap::new();
        let r = to_https(&req(Method::GET, "/"), Some("evil.com/x"), 443, &pending);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = to_https(&req(Method::GET, "/"), None, 443, &pending);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let challenge = req(Method::GET, "/.well-known/acme-challenge/tok");
        let r = to_https(&challenge, Some("a.example"), 443, &pending);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        pending.insert("tok".to_string(), "tok.thumbprint".to_string());
        let r = to_https(&challenge, Some("a.example"), 443, &pending);
        assert_eq!(r.status(), StatusCode::OK);
    }
}

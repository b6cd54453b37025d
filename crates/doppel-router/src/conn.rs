//! Where a request came from: the client connection it arrived on ([`ConnInfo`]) and the
//! host it names, normalized as the route table keys it.

use std::net::SocketAddr;

use http::{header, HeaderValue, Request};

/// What the router knows about the client connection a request came on.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    /// The client's IP as text, made once per connection (`X-Forwarded-For`, logs).
    pub peer_ip: HeaderValue,
    /// The port the client connected to, as `X-Forwarded-Port` says it (made once per
    /// connection, not per request).
    pub local_port: HeaderValue,
    pub tls: bool,
    /// `tls1.2`, `tls1.3` (log line), `unknown` without TLS.
    pub tls_version: &'static str,
}

/// The request's host: `:authority` (HTTP/2, absolute-form) or `Host`, normalized.
pub(crate) fn request_host<B>(req: &Request<B>) -> Option<String> {
    let raw = match req.uri().authority() {
        Some(a) => a.as_str(),
        None => req.headers().get(header::HOST)?.to_str().ok()?,
    };
    let host = normalize_host(raw);
    (!host.is_empty()).then_some(host)
}

/// Lowercase, without port, userinfo, IPv6 brackets or a trailing dot.
pub(crate) fn normalize_host(raw: &str) -> String {
    let raw = raw.trim();
    let raw = raw.rsplit_once('@').map_or(raw, |(_, h)| h);
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => raw,
        }
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_normalization() {
        assert_eq!(normalize_host("MyApp.LocalHost:8443"), "myapp.localhost");
        assert_eq!(normalize_host("localhost."), "localhost");
        assert_eq!(normalize_host("[::1]:443"), "::1");
        assert_eq!(normalize_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(normalize_host("example.com:"), "example.com");
    }
}

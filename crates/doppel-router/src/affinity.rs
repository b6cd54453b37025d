//! Session affinity (Heroku's `http-session-affinity`): an environment that has it sends a
//! client's requests to the web dyno its `heroku-session-affinity` cookie names, while that
//! dyno is in the route and not skipped after a refused connection; otherwise the usual
//! balancing picks one and the response sets the cookie to it. The cookie's value is an
//! opaque digest of the dyno (its name and address), so it says nothing of the network
//! inside, and it goes stale by itself when the dyno is replaced (a deploy, a restart), but
//! not when the router is upgraded: the digest is BLAKE3 of a fixed encoding.

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};

/// The cookie's name, Heroku's.
pub(crate) const COOKIE: &str = "heroku-session-affinity";

/// The cookie value naming the dyno `dyno` at `addr`.
pub(crate) fn token(addr: SocketAddr, dyno: &str) -> Arc<str> {
    // BLAKE3 of a fixed encoding, not std's `DefaultHasher` (whose algorithm may change between
    // Rust releases): a router upgraded in place keeps every client on its dyno.
    let mut h = blake3::Hasher::new();
    h.update(addr.to_string().as_bytes());
    h.update(b"\0");
    h.update(dyno.as_bytes());
    let digest = h.finalize();
    let hex = digest.to_hex();
    Arc::from(&hex.as_str()[..16])
}

/// The affinity token the client's cookies carry, if any (the last one wins, as browsers
/// send the most specific cookie first and a client may repeat it).
pub(crate) fn requested(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .next_back()
}

/// Adds the `Set-Cookie` that sends this client back to `token`'s dyno (kept beside the
/// app's own cookies; `Secure` over HTTPS).
pub(crate) fn set_cookie(headers: &mut HeaderMap, token: &str, tls: bool) {
    let secure = if tls { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BLAKE3 of `10.0.0.1:5000\0web.1`, first 8 bytes, computed outside Rust.
    const STABLE_WEB_1: &str = "0f1ff8e836a9bc00";

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; heroku-session-affinity=abc ; b=2"),
        );
        assert_eq!(requested(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; session=heroku-session-affinity"),
        );
        assert_eq!(requested(&h), None);
        assert_eq!(requested(&HeaderMap::new()), None);
    }

    #[test]
    fn tokens_differ_by_dyno_and_address() {
        let a = SocketAddr::from(([10, 0, 0, 1], 5000));
        let b = SocketAddr::from(([10, 0, 0, 2], 5000));
        assert_eq!(token(a, "web.1"), token(a, "web.1"));
        assert_ne!(token(a, "web.1"), token(a, "web.2"));
        assert_ne!(token(a, "web.1"), token(b, "web.1"));
        // Fixed across Rust releases and router builds: a cookie set before an upgrade still
        // names its dyno after it.
        assert_eq!(&*token(a, "web.1"), STABLE_WEB_1);
        let mut h = HeaderMap::new();
        set_cookie(&mut h, &token(a, "web.1"), true);
        let v = h[header::SET_COOKIE]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            v.starts_with("heroku-session-affinity=") && v.ends_with("; Secure"),
            "{v}"
        );
    }
}

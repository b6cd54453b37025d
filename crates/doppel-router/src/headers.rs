//! Header rewriting for proxied requests and responses: hop-by-hop stripping, forwarding headers,
//! request ids.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Version;

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_REQUEST_START: HeaderName = HeaderName::from_static("x-request-start");
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
const VIA_VALUE: &str = "1.1 doppel";

/// Headers that describe one connection and must not cross the proxy.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    KEEP_ALIVE,
    PROXY_CONNECTION,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// True if this HTTP/1.1 request asks to switch protocols (e.g. WebSocket).
pub(crate) fn is_upgrade(version: Version, headers: &HeaderMap) -> bool {
    version == Version::HTTP_11
        && headers.contains_key(header::UPGRADE)
        && connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"))
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Removes hop-by-hop headers (and those `Connection` lists). With `upgrade`, keeps
/// `Connection: upgrade` + `Upgrade` so the switch can pass through.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    // One pass over the names finds the few to remove (usually none, or `Connection`).
    let mut doomed: [Option<HeaderName>; 12] = Default::default();
    let mut n = 0;
    for name in headers.keys() {
        let hop = HOP_BY_HOP.contains(name) || (!upgrade && name == header::UPGRADE);
        if hop && n < doomed.len() {
            doomed[n] = Some(name.clone());
            n += 1;
        }
    }
    if n == 0 && !upgrade {
        return;
    }
    // Names listed in `Connection` that are not hop-by-hop by themselves (`x-private`).
    // (An empty `Vec` does not allocate: only messages that list such names pay for it.)
    let mut listed: Vec<HeaderName> = Vec::new();
    for token in connection_tokens(headers) {
        // The usual tokens name no header to remove (`close`) or one removed anyway
        // (`keep-alive`): skip them without making a header name (an allocation and a hash
        // for every response from a keep-alive app server such as nginx or Node.js).
        if token.eq_ignore_ascii_case("keep-alive") || token.eq_ignore_ascii_case("close") {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(token.as_bytes()) {
            let keep = upgrade && name == header::UPGRADE;
            if !keep && !HOP_BY_HOP.contains(&name) && headers.contains_key(&name) {
                listed.push(name);
            }
        }
    }
    for name in doomed.iter().flatten().chain(listed.iter()) {
        headers.remove(name);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Joins the `Cookie` fields an HTTP/2 client split (RFC 9113 §8.2.3 lets it, for header
/// compression) into the one field an HTTP/1.1 hop must get, with `; ` between them. Many
/// frameworks read only the first `Cookie` line.
pub(crate) fn join_cookies(headers: &mut HeaderMap) {
    let mut fields = headers.get_all(header::COOKIE).iter();
    if fields.next().is_none() || fields.next().is_none() {
        return;
    }
    let joined = headers
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect::<Vec<_>>()
        .join(&b"; "[..]);
    if let Ok(v) = HeaderValue::from_bytes(&joined) {
        headers.insert(header::COOKIE, v);
    }
}

/// The client's request id if it is 20–200 chars of `[A-Za-z0-9+/=-]`, else a new UUID.
pub(crate) fn request_id(headers: &HeaderMap) -> HeaderValue {
    if let Some(v) = headers.get(&X_REQUEST_ID) {
        if valid_request_id(v.as_bytes()) {
            return v.clone();
        }
    }
    new_request_id()
}

/// A value HTTP/2's header compression must not keep in its table: a request id is new with
/// every response, so indexing it would evict useful entries and make the encoder search a
/// table full of dead ids on every response (measured: header encoding took 4,600
/// instructions per HTTP/2 response with the id indexed, 3,000 without; see docs/router.md).
/// HTTP/1.1 ignores the flag.
pub(crate) fn never_indexed(mut value: HeaderValue) -> HeaderValue {
    value.set_sensitive(true);
    value
}

fn new_request_id() -> HeaderValue {
    let bytes: [u8; 16] = rand::random();
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn valid_request_id(v: &[u8]) -> bool {
    (20..=200).contains(&v.len())
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-'))
}

/// Heroku's limit on one request header line (name, colon, value).
pub(crate) const MAX_HEADER_LINE: usize = 8192;

/// The first header whose line is longer than [`MAX_HEADER_LINE`], if any.
pub(crate) fn oversized_header(headers: &HeaderMap) -> Option<&HeaderName> {
    headers
        .iter()
        .find(|(n, v)| n.as_str().len() + 2 + v.len() > MAX_HEADER_LINE)
        .map(|(n, _)| n)
}

/// What the router knows about the request it forwards.
pub(crate) struct Forwarded<'a> {
    /// The client's IP as text.
    pub client: &'a HeaderValue,
    pub tls: bool,
    pub port: &'a HeaderValue,
    /// `X-Forwarded-Host`: the host the request named, normalized.
    pub host: Option<&'a HeaderValue>,
    pub request_id: &'a HeaderValue,
    pub start_ms: u64,
}

/// Adds `X-Forwarded-*`, `X-Request-Id`, `X-Request-Start` and `Via`; returns the
/// `X-Forwarded-For` value sent (for the log line).
pub(crate) fn add_forwarded(headers: &mut HeaderMap, f: &Forwarded<'_>) -> HeaderValue {
    let mut incoming = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .peekable();
    let xff = if incoming.peek().is_none() {
        f.client.clone()
    } else {
        let mut joined = String::with_capacity(64);
        for v in incoming {
            joined.push_str(v);
            joined.push_str(", ");
        }
        joined.push_str(f.client.to_str().unwrap_or_default());
        HeaderValue::from_str(&joined).unwrap_or_else(|_| f.client.clone())
    };
    headers.insert(X_FORWARDED_FOR, xff.clone());
    headers.insert(
        X_FORWARDED_PROTO,
        HeaderValue::from_static(if f.tls { "https" } else { "http" }),
    );
    headers.insert(X_FORWARDED_PORT, f.port.clone());
    if let Some(host) = f.host {
        headers.insert(X_FORWARDED_HOST, host.clone());
    }
    headers.insert(X_REQUEST_ID, f.request_id.clone());
    headers.insert(X_REQUEST_START, HeaderValue::from(f.start_ms));
    append_via(headers);
    xff
}

/// Appends `1.1 doppel` to `Via`.
pub(crate) fn append_via(headers: &mut HeaderMap) {
    // One lookup when there is no `Via` yet (the usual case), not a check then an insert.
    if let header::Entry::Vacant(slot) = headers.entry(header::VIA) {
        slot.insert(HeaderValue::from_static(VIA_VALUE));
        return;
    }
    let mut existing = headers
        .get_all(header::VIA)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .peekable();
    if existing.peek().is_none() {
        headers.insert(header::VIA, HeaderValue::from_static(VIA_VALUE));
        return;
    }
    let mut via = String::with_capacity(32);
    for v in existing {
        via.push_str(v);
        via.push_str(", ");
    }
    via.push_str(VIA_VALUE);
    set(headers, header::VIA, &via);
}

/// Sets a header, silently skipping values that are not valid header text.
pub(crate) fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_never_indexed_by_hpack() {
        let id = never_indexed(new_request_id());
        assert!(id.is_sensitive());
        assert_eq!(id.len(), 36);
    }

    #[test]
    fn request_id_kept_only_when_valid() {
        let mut h = HeaderMap::new();
        h.insert(
            &X_REQUEST_ID,
            HeaderValue::from_static("abcdefghij0123456789"),
        );
        assert_eq!(request_id(&h), "abcdefghij0123456789");
        h.insert(&X_REQUEST_ID, HeaderValue::from_static("short"));
        assert_ne!(request_id(&h), "short");
        assert_ne!(request_id(&h), request_id(&h), "a new id each time");
        h.insert(
            &X_REQUEST_ID,
            HeaderValue::from_static("abcdefghij0123456789 spaces"),
        );
        assert_eq!(request_id(&h).len(), 36);
    }

    #[test]
    fn split_cookies_are_joined() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        h.append(header::COOKIE, HeaderValue::from_static("c=3"));
        join_cookies(&mut h);
        let all: Vec<_> = h.get_all(header::COOKIE).iter().collect();
        assert_eq!(all, ["a=1; b=2; c=3"]);
        let mut one = HeaderMap::new();
        one.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        join_cookies(&mut one);
        assert_eq!(one[header::COOKIE], "a=1; b=2");
        let mut none = HeaderMap::new();
        join_cookies(&mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn a_keep_alive_app_servers_connection_headers_are_stripped() {
        // What Node.js sends with every HTTP/1.1 response.
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Keep-Alive"));
        h.insert(KEEP_ALIVE, HeaderValue::from_static("timeout=5"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn via_is_added_or_appended() {
        let mut h = HeaderMap::new();
        append_via(&mut h);
        assert_eq!(h[header::VIA], "1.1 doppel");
        let mut h = HeaderMap::new();
        h.insert(header::VIA, HeaderValue::from_static("1.1 vegur"));
        append_via(&mut h);
        assert_eq!(h[header::VIA], "1.1 vegur, 1.1 doppel");
    }

    #[test]
    fn hop_by_hop_is_stripped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-private"),
        );
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn every_name_connection_lists_is_stripped() {
        let mut h = HeaderMap::new();
        let names: Vec<String> = (0..20).map(|i| format!("x-private-{i}")).collect();
        let listed = names.join(", ");
        h.insert(
            header::CONNECTION,
            HeaderValue::from_str(&listed).expect("valid header"),
        );
        for name in &names {
            h.insert(
                HeaderName::from_bytes(name.as_bytes()).expect("valid name"),
                HeaderValue::from_static("1"),
            );
        }
        h.insert("x-kept", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn upgrade_survives_when_asked() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(is_upgrade(Version::HTTP_11, &h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(
            h.get(header::UPGRADE).map(|v| v.as_bytes()),
            Some(&b"websocket"[..])
        );
        assert_eq!(
            h.get(header::CONNECTION).map(|v| v.as_bytes()),
            Some(&b"upgrade"[..])
        );
    }
}

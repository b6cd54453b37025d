//! HTTP Basic auth for private (staging) routes: the password is an API token, checked by digest.

use std::collections::HashSet;

use base64::Engine;
use http::header::{HeaderMap, AUTHORIZATION};

/// True if `Authorization: Basic` carries a password whose token digest is in `digests`.
/// The username is ignored.
pub(crate) fn authorized(headers: &HeaderMap, digests: &HashSet<String>) -> bool {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| basic_password(v.as_bytes()))
        .any(|password| digests.contains(&doppel_types::token_digest(&password)))
}

/// The password of a `Basic` credential, if the header is one.
fn basic_password(value: &[u8]) -> Option<String> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (_user, password) = decoded.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn basic(user_pass: &str) -> HeaderValue {
        let enc = base64::engine::general_purpose::STANDARD.encode(user_pass);
        HeaderValue::from_str(&format!("Basic {enc}")).expect("valid header")
    }

    #[test]
    fn checks_password_digest() {
        let digests: HashSet<String> = [doppel_types::token_digest("tok-123")].into();
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, &digests));
        h.insert(AUTHORIZATION, basic("anyone:tok-123"));
        assert!(authorized(&h, &digests));
        h.insert(AUTHORIZATION, basic(":tok-123"));
        assert!(authorized(&h, &digests));
        h.insert(AUTHORIZATION, basic("anyone:wrong"));
        assert!(!authorized(&h, &digests));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer tok-123"));
        assert!(!authorized(&h, &digests));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(!authorized(&h, &digests));
    }
}

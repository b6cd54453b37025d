//! API token digests: what the store keeps instead of tokens, and what the router compares.

/// The digest stored for an API token (hex BLAKE3). Tokens are 256-bit random values, so a
/// fast unkeyed hash is enough: there is nothing to brute-force.
pub fn token_digest(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable_and_distinct() {
        assert_eq!(token_digest("a"), token_digest("a"));
        assert_ne!(token_digest("a"), token_digest("b"));
        assert_eq!(token_digest("a").len(), 64);
    }
}

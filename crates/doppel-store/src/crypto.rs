//! Encryption of secrets at rest: XChaCha20Poly1305 with a random 24-byte nonce per value and
//! associated data that binds each ciphertext to the row it belongs to.
//!
//! Stored format (hex-encoded into a TEXT column): `version (1 byte) ‖ nonce (24) ‖ ciphertext+tag`.
//!
//! The same master key also signs capability URLs (a build's output stream): a keyed BLAKE3
//! hash under a subkey derived from it, so such a URL needs no row of its own, survives
//! restarts, and cannot be made without the key.

use crate::error::{Result, StoreError};
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

/// The format version written as the first byte of every stored value.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// The cipher over the store's master key. Its Debug output never shows the key.
#[derive(Clone)]
pub(crate) struct Cipher {
    aead: XChaCha20Poly1305,
    /// Subkey for capability tokens (never the encryption key itself).
    capability_key: [u8; 32],
}

/// The BLAKE3 key-derivation context of capability tokens.
const CAPABILITY_CONTEXT: &str = "doppel 2026-12 capability URL tokens v1";

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher { .. }")
    }
}

/// Associated data for an environment's config var: `env_id ‖ 0 ‖ key`.
pub(crate) fn config_aad(env_id: &str, key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(env_id.len() + 1 + key.len());
    aad.extend_from_slice(env_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key.as_bytes());
    aad
}

/// Associated data for a config var in a release's snapshot: `release:release_id ‖ 0 ‖ key`.
pub(crate) fn release_aad(release_id: &str, key: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + release_id.len() + 1 + key.len());
    aad.extend_from_slice(b"release:");
    aad.extend_from_slice(release_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key.as_bytes());
    aad
}

/// Associated data for an add-on's credentials: `addon:addon_id`.
pub(crate) fn addon_aad(addon_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(6 + addon_id.len());
    aad.extend_from_slice(b"addon:");
    aad.extend_from_slice(addon_id.as_bytes());
    aad
}

impl Cipher {
    pub(crate) fn new(secret_key: [u8; 32]) -> Cipher {
        let key = Key::from(secret_key);
        Cipher {
            aead: XChaCha20Poly1305::new(&key),
            capability_key: blake3::derive_key(CAPABILITY_CONTEXT, &secret_key),
        }
    }

    /// The token that grants `purpose` on object `id` (64 hex characters).
    pub(crate) fn capability(&self, purpose: &str, id: &str) -> String {
        self.capability_hash(purpose, id).to_hex().to_string()
    }

    /// Whether `token` is the capability for `purpose` on `id` (compared in constant time).
    pub(crate) fn check_capability(&self, purpose: &str, id: &str, token: &str) -> bool {
        match blake3::Hash::from_hex(token) {
            Ok(given) => given == self.capability_hash(purpose, id),
            Err(_) => false,
        }
    }

    fn capability_hash(&self, purpose: &str, id: &str) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new_keyed(&self.capability_key);
        hasher.update(purpose.as_bytes());
        hasher.update(&[0]);
        hasher.update(id.as_bytes());
        hasher.finalize()
    }

    /// Encrypts `plaintext` bound to `aad`; `what` names the value for error messages.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &str, what: &str) -> Result<String> {
        let nonce = XNonce::generate();
        let ciphertext = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .map_err(|_| StoreError::Crypto(format!("could not encrypt {what}")))?;
        let mut stored = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        stored.push(FORMAT_V1);
        stored.extend_from_slice(nonce.as_slice());
        stored.extend_from_slice(&ciphertext);
        Ok(hex::encode(stored))
    }

    /// Decrypts a stored value bound to `aad`; `what` names the value for error messages.
    pub(crate) fn open(&self, aad: &[u8], stored: &str, what: &str) -> Result<String> {
        let bytes = hex::decode(stored)
            .map_err(|_| StoreError::Corrupt(format!("{what} is not hex-encoded")))?;
        let (version, rest) = bytes
            .split_first()
            .ok_or_else(|| StoreError::Corrupt(format!("{what} is empty")))?;
        if *version != FORMAT_V1 {
            return Err(StoreError::Corrupt(format!(
                "{what} has unknown format version {version}"
            )));
        }
        if rest.len() < NONCE_LEN {
            return Err(StoreError::Corrupt(format!("{what} is truncated")));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce)
            .map_err(|_| StoreError::Corrupt(format!("{what} has a malformed nonce")))?;
        let plaintext = self
            .aead
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| {
                StoreError::Crypto(format!(
                    "could not decrypt {what}: wrong secret key, or the value belongs to another row"
                ))
            })?;
        String::from_utf8(plaintext)
            .map_err(|_| StoreError::Corrupt(format!("{what} is not valid UTF-8")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_aad_binding() {
        let c = Cipher::new([7; 32]);
        let sealed = c.seal(b"a\0K", "secret", "x").unwrap();
        assert!(!sealed.contains(&hex::encode("secret")));
        assert_eq!(c.open(b"a\0K", &sealed, "x").unwrap(), "secret");
        assert!(matches!(
            c.open(b"b\0K", &sealed, "x"),
            Err(StoreError::Crypto(_))
        ));
        let other = Cipher::new([8; 32]);
        assert!(matches!(
            other.open(b"a\0K", &sealed, "x"),
            Err(StoreError::Crypto(_))
        ));
        assert!(format!("{c:?}").contains(".."));
    }

    #[test]
    fn capabilities_are_bound_to_key_purpose_and_id() {
        let c = Cipher::new([7; 32]);
        let token = c.capability("build-output", "b1");
        assert_eq!(token.len(), 64);
        assert_eq!(token, c.capability("build-output", "b1"));
        assert!(c.check_capability("build-output", "b1", &token));
        assert!(!c.check_capability("build-output", "b2", &token));
        assert!(!c.check_capability("release-output", "b1", &token));
        assert!(!c.check_capability("build-output", "b1", "not hex"));
        assert!(!c.check_capability("build-output", "b1", &token[..32]));
        // Another master key makes other tokens; "ab" + "c" is not "a" + "bc".
        assert_ne!(token, Cipher::new([8; 32]).capability("build-output", "b1"));
        assert_ne!(c.capability("ab", "c"), c.capability("a", "bc"));
    }

    #[test]
    fn nonces_differ() {
        let c = Cipher::new([7; 32]);
        assert_ne!(
            c.seal(b"a", "v", "x").unwrap(),
            c.seal(b"a", "v", "x").unwrap()
        );
    }
}

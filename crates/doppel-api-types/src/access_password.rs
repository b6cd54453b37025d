//! Private environments' access password (a doppel extension): `GET`, `PUT` and `DELETE`
//! `/apps/{env}/access-password`. The router admits a private environment's visitors by HTTP
//! Basic auth with a token of a user with access, or with this password.

use serde::{Deserialize, Serialize};

use crate::common::NamedRef;

/// `PUT /apps/{env}/access-password {password?}`: sets or rotates the password; without one
/// the server generates it and answers it once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccessPasswordSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl std::fmt::Debug for AccessPasswordSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessPasswordSet")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Whether an environment is private and has an access password (never the password, except
/// the one the server just generated, in `password`, once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessPasswordInfo {
    pub app: NamedRef,
    /// The environment's address (where the login prompt appears).
    pub web_url: String,
    /// The router asks for credentials (staging).
    pub private: bool,
    /// An access password is set.
    pub set: bool,
    #[serde(default)]
    pub set_at: Option<String>,
    /// The generated password, in the answer to the `PUT` that made it only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let body = AccessPasswordSet {
            password: Some("hunter2hunter2".into()),
        };
        assert!(!format!("{body:?}").contains("hunter2"));
        let empty: AccessPasswordSet = serde_json::from_str("{}").unwrap_or_default();
        assert_eq!(empty.password, None);
    }
}

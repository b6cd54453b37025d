//! Dashboard passwords (a doppel extension): `PUT /users/{account}/password`.

use serde::{Deserialize, Serialize};

use crate::account::Account;

/// `PUT /users/{account}/password {password?}`: sets the password; without one the server
/// generates it and answers it once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PasswordSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl std::fmt::Debug for PasswordSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordSet")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The answer: whose password changed, and the generated password when the server made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordSetResult {
    pub user: Account,
    #[serde(default)]
    pub password: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let body = PasswordSet {
            password: Some("hunter2hunter2".into()),
        };
        assert!(!format!("{body:?}").contains("hunter2"));
        let empty: PasswordSet = serde_json::from_str("{}").unwrap_or_default();
        assert_eq!(empty.password, None);
    }
}

//! Account, users, API tokens (Heroku's OAuth authorizations) and rate limits.

use serde::{Deserialize, Serialize};

use crate::common::UserRef;

/// `GET /account`, `GET /users/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub allow_tracking: bool,
    pub beta: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_login: Option<String>,
    pub verified: bool,
    pub two_factor_authentication: bool,
    pub federated: bool,
    pub default_team: Option<serde_json::Value>,
    pub default_organization: Option<serde_json::Value>,
    pub identity_provider: Option<serde_json::Value>,
    pub sms_number: Option<String>,
    pub suspended_at: Option<String>,
    pub delinquent_at: Option<String>,
    pub country_of_residence: Option<String>,
    pub doppel: AccountExtra,
}

/// What doppel adds to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountExtra {
    /// Admins see and change every app and manage users.
    pub admin: bool,
}

/// `GET /account/rate-limits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    pub remaining: u64,
}

/// `POST /users` (admin only; a doppel extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserCreate {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub admin: bool,
}

/// The answer to `POST /users`: the user, its first API token and its first dashboard
/// password, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user: Account,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The token of an authorization (`access_token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The secret itself: only in the answer to the call that made it, otherwise null.
    pub token: Option<String>,
    pub expires_in: Option<u64>,
    pub id: String,
}

/// `GET|POST|DELETE /oauth/authorizations`: one API token of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authorization {
    pub id: String,
    pub description: String,
    pub access_token: Option<AccessToken>,
    pub client: Option<serde_json::Value>,
    pub grant: Option<serde_json::Value>,
    pub refresh_token: Option<serde_json::Value>,
    pub session: Option<serde_json::Value>,
    pub scope: Vec<String>,
    pub user: UserRef,
    pub created_at: String,
    pub updated_at: String,
    pub doppel: AuthorizationExtra,
}

/// What doppel adds to an authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuthorizationExtra {
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// `POST /oauth/authorizations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuthorizationCreate {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    /// Seconds, as a number (heroku3) or a string (the Heroku CLI's `--expires-in`).
    #[serde(default)]
    pub expires_in: Option<serde_json::Value>,
}

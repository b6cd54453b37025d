//! Collaborators: the users with access to an app (both environments, or one).

use serde::{Deserialize, Serialize};

use crate::common::NamedRef;

/// A collaborator's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CollaboratorUser {
    pub id: String,
    pub email: String,
    pub federated: bool,
}

/// `GET /apps/{app}/collaborators[/{email|id}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collaborator {
    pub id: String,
    pub app: NamedRef,
    pub permissions: Vec<serde_json::Value>,
    /// `owner` or `collaborator`.
    pub role: Option<String>,
    pub user: CollaboratorUser,
    pub created_at: String,
    pub updated_at: String,
    pub doppel: CollaboratorExtra,
}

/// What doppel adds: which environments the access covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CollaboratorExtra {
    /// `both`, or the one environment's name.
    pub scope: String,
    /// The environments the access covers, staging first.
    pub environments: Vec<String>,
}

/// `POST /apps/{app}/collaborators`: `{user}` is an email or id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CollaboratorCreate {
    pub user: String,
    #[serde(default)]
    pub silent: Option<bool>,
    /// doppel: `true` grants both environments of the app; absent or `false` grants only
    /// the environment the call names.
    #[serde(default)]
    pub both_environments: Option<bool>,
}

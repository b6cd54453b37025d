//! The audit log (`GET /pipelines/{pipeline}/audit`, `GET /apps/{app}/audit`): every change
//! to an app or its environments, newest first.

use serde::{Deserialize, Serialize};

use crate::common::{NamedRef, UserRef};

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AuditEvent {
    pub id: String,
    pub created_at: String,
    /// `app.create`, `config.set`, `promotion.forced`…
    pub action: String,
    /// The app (pipeline).
    pub app: NamedRef,
    /// The environment, when the change was to one.
    pub environment: Option<NamedRef>,
    pub user: Option<UserRef>,
    /// `api`, `git`, `doppel-cli`, `heroku-cli`, `heroku3`, `doppel-server`…
    pub client: String,
    pub address: Option<String>,
    /// What changed (config keys, never values).
    pub details: serde_json::Value,
}

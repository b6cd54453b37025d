//! Custom domains of an environment.

use serde::{Deserialize, Serialize};

use crate::common::NamedRef;

/// `GET /apps/{app}/domains[/{id|hostname}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub id: String,
    pub hostname: String,
    /// `heroku` for the platform's own name of the environment, `custom` for added ones.
    pub kind: String,
    /// Where the user's DNS must point the hostname (a CNAME target).
    pub cname: Option<String>,
    pub status: String,
    pub acm_status: Option<String>,
    pub acm_status_reason: Option<String>,
    pub sni_endpoint: Option<NamedRef>,
    pub app: NamedRef,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /apps/{app}/domains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DomainCreate {
    pub hostname: String,
    #[serde(default)]
    pub sni_endpoint: Option<serde_json::Value>,
}

/// `PATCH /apps/{app}/domains/{id|hostname}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DomainUpdate {
    #[serde(default)]
    pub sni_endpoint: Option<String>,
}

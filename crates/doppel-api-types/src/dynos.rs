//! Dynos: the containers running one environment's processes.

use serde::{Deserialize, Serialize};

use crate::common::NamedRef;

/// A dyno's release reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DynoRelease {
    pub id: String,
    pub version: i64,
}

/// `GET /apps/{app}/dynos[/{name}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dyno {
    pub id: String,
    /// `web.1`, `run.4821`.
    pub name: String,
    #[serde(rename = "type")]
    pub process_type: String,
    pub command: String,
    /// `starting`, `up`, `crashed`, `down` or `stopping`.
    pub state: String,
    pub size: String,
    pub attach_url: Option<String>,
    pub release: DynoRelease,
    pub app: NamedRef,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /apps/{app}/dynos`: a one-off dyno.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DynoCreate {
    pub command: String,
    #[serde(default)]
    pub attach: Option<bool>,
    #[serde(default)]
    pub env: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub force_no_tty: Option<bool>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(rename = "type", default)]
    pub process_type: Option<String>,
    #[serde(default)]
    pub time_to_live: Option<u64>,
}

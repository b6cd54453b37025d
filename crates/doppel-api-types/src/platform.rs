//! What the platform offers: regions, stacks, dyno sizes, labs features.

use serde::{Deserialize, Serialize};

/// `GET /regions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub description: String,
    pub country: String,
    pub locale: String,
    pub private_capable: bool,
    pub provider: ProviderRef,
    pub created_at: String,
    pub updated_at: String,
}

/// Where a region runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProviderRef {
    pub name: String,
    pub region: String,
}

/// `GET /stacks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stack {
    pub id: String,
    pub name: String,
    pub state: String,
    pub default: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /dyno-sizes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynoSize {
    pub id: String,
    pub name: String,
    pub architecture: String,
    pub compute: u32,
    pub cost: Option<serde_json::Value>,
    pub dedicated: bool,
    pub precise_dyno_units: f64,
    /// Memory in GB, as Heroku reports it.
    pub memory: f64,
    pub private_space_only: bool,
    pub generation: crate::common::NamedRef,
    pub doppel: DynoSizeExtra,
}

/// What doppel adds: the limits it enforces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DynoSizeExtra {
    pub memory_mb: u64,
    pub cpus: f64,
    pub max_processes: u64,
}

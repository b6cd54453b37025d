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
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
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
    /// Stable across installations (a name-based UUID).
    pub id: String,
    pub name: String,
    /// Heroku's availability word; every doppel stack is `public`.
    pub state: String,
    /// New apps build on it.
    pub default: bool,
    /// Stacks are compiled into doppel: they have no creation time.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub doppel: StackExtra,
}

/// What doppel adds to a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StackExtra {
    /// Other names that mean this stack (`heroku-24` for `debian-12`).
    pub aliases: Vec<String>,
    /// The Debian suite it is made from.
    pub suite: String,
    pub summary: String,
    /// Python minor versions it carries.
    pub pythons: Vec<String>,
    /// Both of its images are made; otherwise the first build on it makes them first.
    pub built: bool,
}

/// `GET /account/features`, `GET /apps/{app}/features`: a labs feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    pub id: String,
    pub name: String,
    pub description: String,
    pub doc_url: Option<String>,
    pub enabled: bool,
    pub state: String,
    pub display_name: Option<String>,
    pub feedback_email: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
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

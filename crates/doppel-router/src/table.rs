//! The route table the control plane publishes whole and the router reads on every request.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;

/// Host name → route. Published whole with one `ArcSwap::store`; the next request sees it.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Full host name, lowercase, without port, e.g. `"myapp-staging.localhost"`.
    pub routes: HashMap<String, Route>,
}

/// Where one environment's host goes.
#[derive(Debug, Clone)]
pub struct Route {
    /// The environment's name, e.g. `myapp-staging` (used in pages and logs).
    pub env: String,
    /// The web dynos' addresses. Empty = no release yet, or no web dyno running.
    pub backends: Vec<SocketAddr>,
    /// Whether the environment has a current release; with no backends this tells
    /// "no release yet" from "no web dyno running".
    pub released: bool,
    /// `Some(digests)` = private (staging): HTTP Basic auth is required, and the password's
    /// `doppel_types::token_digest` must be in the set (any username).
    pub private: Option<Arc<HashSet<String>>>,
    /// Maintenance mode: every request is answered 503 with the maintenance page (H80)
    /// without contacting the dynos, which keep running.
    pub maintenance: bool,
}

/// The shared handle both the control plane (writer) and the router (reader) hold.
pub type SharedRouteTable = Arc<ArcSwap<RouteTable>>;

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wraps this table into the shared handle `serve` reads from.
    pub fn into_shared(self) -> SharedRouteTable {
        Arc::new(ArcSwap::from_pointee(self))
    }

    /// The route for a host (already lowercase, without port).
    pub fn get(&self, host: &str) -> Option<&Route> {
        self.routes.get(host)
    }
}

//! The route table: what the control plane publishes whole and the router serves from. These
//! are the wire types of the control socket and of the router's state file (JSON), so every
//! field added later must have a serde default: an older state file must still load.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Host name → route, plus the platform's upstream, certificates and pending ACME challenges.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    /// Full host name, lowercase, without port, e.g. `"myapp-staging.localhost"`.
    pub routes: HashMap<String, Route>,
    /// Where the platform host (API, git) goes. `None`: the platform answers 503 until the
    /// control plane has published where it listens.
    #[serde(default)]
    pub platform: Option<Upstream>,
    /// Certificates for custom domains (uploaded through the SNI endpoints, or from ACME),
    /// chosen by SNI before the platform CA's.
    #[serde(default)]
    pub certs: Vec<Certificate>,
    /// ACME challenges in flight: answered on port 80 (HTTP-01) and by ALPN `acme-tls/1`
    /// (TLS-ALPN-01).
    #[serde(default)]
    pub challenges: Challenges,
}

/// Where one environment's host goes, and who may pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// The environment's name, e.g. `myapp-staging` (used in pages and logs).
    pub env: String,
    /// The running web dynos of the current release. Empty: see `status`.
    #[serde(default)]
    pub backends: Vec<Backend>,
    /// What to answer when there is no backend.
    #[serde(default)]
    pub status: RouteStatus,
    /// `Some(digests)` = private (staging): HTTP Basic auth is required, and the password's
    /// `doppel_types::token_digest` must be in the set (any username). The set holds the
    /// digests of the tokens of the users with access to this environment and of the
    /// environment's own access password; never every token of the platform.
    #[serde(default)]
    pub private: Option<Arc<HashSet<String>>>,
    /// When set, only clients from these networks get through (others: 403).
    #[serde(default)]
    pub allow_ips: Option<Vec<ipnet::IpNet>>,
    /// Maintenance mode: every request gets the maintenance page (H80), no dyno is contacted.
    #[serde(default)]
    pub maintenance: bool,
    /// The app's own error and maintenance pages, shown instead of the router's.
    #[serde(default)]
    pub pages: CustomPages,
    /// Heroku's `http-session-affinity`: a client's requests go to the web dyno its
    /// `heroku-session-affinity` cookie names (set by the router) while it serves.
    #[serde(default)]
    pub session_affinity: bool,
}

/// An environment's own pages for what the router answers itself, from its config vars
/// `ERROR_PAGE_URL` and `MAINTENANCE_PAGE_URL` as on Heroku: the router's page (same status
/// and headers) frames the URL in an iframe, so the browser keeps the app's address. Only
/// `http://` and `https://` URLs are used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPages {
    /// For the app errors the router answers (H10, H12, H13, H14, H19, H20, H21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For maintenance mode (H80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<String>,
}

impl CustomPages {
    /// The URL if it may be framed: `http://` or `https://` with a host, no spaces or
    /// control characters (anything else, e.g. `javascript:`, is ignored).
    pub fn usable(url: &str) -> Option<&str> {
        let url = url.trim();
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &url[8..]
        } else if lower.starts_with("http://") {
            &url[7..]
        } else {
            return None;
        };
        let fine = !rest.is_empty()
            && !rest.starts_with('/')
            && url.len() <= 2048
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        fine.then_some(url)
    }
}

/// One web dyno.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Backend {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its name in logs (`web.1`).
    pub dyno: String,
}

/// Why a route has no backend (ignored while it has some).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteStatus {
    /// Backends are the truth: serving when there are some, H14 when there are none.
    #[default]
    Up,
    /// No release yet (H81, "blank app").
    NoRelease,
    /// The release runs no web dyno (formation `web=0`): H14.
    NoWebDynos,
    /// Web dynos are starting: requests wait for them (up to the boot timeout, then H20).
    Booting,
    /// The web dynos exited and are not coming back by themselves: H10.
    Crashed,
}

/// An upstream that is not a dyno: the platform's own listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upstream {
    /// A Unix socket (the control plane's API and git listener).
    Unix(PathBuf),
    /// A TCP address.
    Tcp(SocketAddr),
}

/// A certificate chain and its key, for the names it covers.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Stable id (the SNI endpoint's, or the ACME certificate's); with `chain_pem` it lets the
    /// router reuse an already parsed key across table updates.
    pub id: String,
    /// The host names it serves (exact names or `*.example.com` wildcards), lowercase.
    pub names: Vec<String>,
    /// Leaf first, then intermediates, PEM.
    pub chain_pem: String,
    /// The private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Certificate")
            .field("id", &self.id)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// ACME challenges the router answers while an order is being validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenges {
    /// HTTP-01: token → key authorization, served at `/.well-known/acme-challenge/<token>`.
    #[serde(default)]
    pub http01: HashMap<String, String>,
    /// TLS-ALPN-01: domain → the self-signed challenge certificate (with the `acmeIdentifier`
    /// extension), presented to clients that offer only ALPN `acme-tls/1`.
    #[serde(default)]
    pub tls_alpn01: Vec<Certificate>,
}

impl RouteTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wraps this table into the shared handle the control plane publishes through.
    pub fn into_shared(self) -> SharedRouteTable {
        SharedRouteTable::new(self)
    }

    /// The route for a host (already lowercase, without port).
    pub fn get(&self, host: &str) -> Option<&Route> {
        self.routes.get(host)
    }
}

impl Route {
    /// A public route to these backends.
    pub fn public(env: &str, backends: Vec<Backend>) -> Route {
        Route {
            env: env.to_owned(),
            backends,
            ..Route::default()
        }
    }
}

impl Backend {
    pub fn new(addr: SocketAddr, dyno: &str) -> Backend {
        Backend {
            addr,
            dyno: dyno.to_owned(),
        }
    }
}

/// Whether `ip` may reach a route with this allow-list.
pub(crate) fn ip_allowed(allow: Option<&[ipnet::IpNet]>, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    allow.is_none_or(|nets| nets.iter().any(|n| n.contains(&ip)))
}

/// The table as the control plane holds it: the last published version (`load`), and a
/// change signal (`subscribe`) that the link to the router process waits on. Cheap to clone.
#[derive(Clone)]
pub struct SharedRouteTable {
    table: Arc<ArcSwap<RouteTable>>,
    changed: Arc<watch::Sender<u64>>,
}

impl std::fmt::Debug for SharedRouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRouteTable")
            .field("version", &*self.changed.borrow())
            .finish_non_exhaustive()
    }
}

impl Default for SharedRouteTable {
    fn default() -> Self {
        Self::new(RouteTable::default())
    }
}

impl SharedRouteTable {
    pub fn new(table: RouteTable) -> Self {
        let (changed, _) = watch::channel(0);
        Self {
            table: Arc::new(ArcSwap::from_pointee(table)),
            changed: Arc::new(changed),
        }
    }

    /// The last published table.
    pub fn load(&self) -> Arc<RouteTable> {
        self.table.load_full()
    }

    /// Publishes a new table whole; subscribers wake up.
    pub fn store(&self, table: Arc<RouteTable>) {
        self.table.store(table);
        self.changed.send_modify(|v| *v += 1);
    }

    /// A receiver that is marked changed on every `store`.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        let nets: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert!(ip_allowed(None, "1.2.3.4".parse().unwrap()));
        assert!(ip_allowed(Some(&nets), "10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(Some(&nets), "::ffff:10.1.2.3".parse().unwrap()));
        assert!(!ip_allowed(Some(&nets), "11.1.2.3".parse().unwrap()));
    }

    #[test]
    fn old_state_files_still_load() {
        let old = r#"{"routes":{"a.localhost":{"env":"a","backends":[{"addr":"127.0.0.1:5000","dyno":"web.1"}]}}}"#;
        let t: RouteTable = serde_json::from_str(old).unwrap();
        assert_eq!(t.routes["a.localhost"].status, RouteStatus::Up);
        assert!(t.platform.is_none());
    }
}

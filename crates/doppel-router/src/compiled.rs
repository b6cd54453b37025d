//! The table in the form requests are served from: built once per published table, swapped in
//! whole (one `ArcSwap` store), never changed in place. Backends keep their in-flight counters
//! and quarantine across tables, and parsed certificates are reused, so a new table costs
//! only what changed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::sign::CertifiedKey;
use tokio::sync::watch;

use crate::certs;
use crate::table::{Certificate, CustomPages, RouteStatus, RouteTable, Upstream};
use crate::upstream::Pool;

/// What one host serves.
pub(crate) struct CompiledRoute {
    pub env: Arc<str>,
    /// The host as `X-Forwarded-Host` says it, made once per table rather than per request
    /// (`None` for a name no header can carry, which the control plane never publishes).
    pub forwarded_host: Option<http::HeaderValue>,
    pub backends: Vec<Arc<BackendState>>,
    pub status: RouteStatus,
    pub private: Option<Arc<std::collections::HashSet<String>>>,
    pub allow_ips: Option<Vec<ipnet::IpNet>>,
    pub maintenance: bool,
    /// The environment's own error and maintenance pages.
    pub pages: CustomPages,
    /// Heroku's `http-session-affinity` (see `affinity.rs`).
    pub session_affinity: bool,
}

/// One dyno, shared by every table that names it (same address and dyno name).
pub(crate) struct BackendState {
    pub addr: SocketAddr,
    pub upstream: Upstream,
    /// Its idle keep-alive connections.
    pub pool: Arc<Pool>,
    pub dyno: Arc<str>,
    /// Requests to it that have not finished (response body included).
    pub inflight: AtomicUsize,
    /// Until when (router clock, ms) it is skipped after a failed connect.
    pub down_until_ms: AtomicU64,
    /// What a session affinity cookie naming it says.
    pub affinity: Arc<str>,
}

impl BackendState {
    fn new(addr: SocketAddr, dyno: &str) -> BackendState {
        BackendState {
            addr,
            upstream: Upstream::Tcp(addr),
            pool: Arc::new(Pool::default()),
            dyno: Arc::from(dyno),
            inflight: AtomicUsize::new(0),
            down_until_ms: AtomicU64::new(0),
            affinity: crate::affinity::token(addr, dyno),
        }
    }

    pub(crate) fn is_down(&self, now_ms: u64) -> bool {
        self.down_until_ms.load(Ordering::Relaxed) > now_ms
    }
}

/// The whole serving state derived from one [`RouteTable`].
pub(crate) struct Compiled {
    pub routes: HashMap<String, Arc<CompiledRoute>>,
    pub platform: Option<Upstream>,
    /// Certificates by name (exact or `*.parent`).
    pub certs: HashMap<String, Arc<CertifiedKey>>,
    /// Parsed certificates by id, with the fingerprint of what they were parsed from.
    pub parsed: HashMap<String, (u64, Arc<CertifiedKey>)>,
    pub http01: HashMap<String, String>,
    pub tls_alpn01: HashMap<String, Arc<CertifiedKey>>,
    /// What this was compiled from (persisted, and reported by `status`).
    pub source: Arc<RouteTable>,
    /// A digest of `source` (its JSON), to tell the control plane whether it is current.
    pub digest: String,
}

impl Compiled {
    pub(crate) fn empty() -> Compiled {
        Compiled {
            routes: HashMap::new(),
            platform: None,
            certs: HashMap::new(),
            parsed: HashMap::new(),
            http01: HashMap::new(),
            tls_alpn01: HashMap::new(),
            source: Arc::new(RouteTable::default()),
            digest: String::new(),
        }
    }

    /// Builds the serving form of `table`, reusing `prev`'s backend states and parsed keys.
    /// A certificate that does not parse is left out (and logged); the rest still serve.
    pub(crate) fn build(table: Arc<RouteTable>, digest: String, prev: &Compiled) -> Compiled {
        let mut known: HashMap<(SocketAddr, &str), Arc<BackendState>> = HashMap::new();
        for route in prev.routes.values() {
            for b in &route.backends {
                known.insert((b.addr, &b.dyno), b.clone());
            }
        }
        let mut routes = HashMap::with_capacity(table.routes.len());
        for (host, route) in &table.routes {
            let backends = route
                .backends
                .iter()
                .map(|b| match known.get(&(b.addr, b.dyno.as_str())) {
                    Some(state) => state.clone(),
                    None => Arc::new(BackendState::new(b.addr, &b.dyno)),
                })
                .collect();
            routes.insert(
                host.clone(),
                Arc::new(CompiledRoute {
                    env: Arc::from(route.env.as_str()),
                    forwarded_host: http::HeaderValue::from_str(host).ok(),
                    backends,
                    status: route.status,
                    private: route.private.clone(),
                    allow_ips: route.allow_ips.clone(),
                    maintenance: route.maintenance,
                    pages: route.pages.clone(),
                    session_affinity: route.session_affinity,
                }),
            );
        }
        let mut parsed = HashMap::new();
        let mut by_name = HashMap::new();
        for cert in &table.certs {
            let Some(key) = parse_reusing(cert, prev, &mut parsed) else {
                continue;
            };
            for name in &cert.names {
                by_name
                    .entry(name.to_ascii_lowercase())
                    .or_insert_with(|| key.clone());
            }
        }
        let mut tls_alpn01 = HashMap::new();
        for cert in &table.challenges.tls_alpn01 {
            if let Some(key) = parse_reusing(cert, prev, &mut parsed) {
                for name in &cert.names {
                    tls_alpn01.insert(name.to_ascii_lowercase(), key.clone());
                }
            }
        }
        Compiled {
            routes,
            platform: table.platform.clone(),
            certs: by_name,
            parsed,
            http01: table.challenges.http01.clone(),
            tls_alpn01,
            source: table,
            digest,
        }
    }

    /// The certificate for an SNI name: exact, then the wildcard of its parent.
    pub(crate) fn cert_for(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        if let Some(c) = self.certs.get(name) {
            return Some(c.clone());
        }
        let (_, parent) = name.split_once('.')?;
        self.certs.get(&format!("*.{parent}")).cloned()
    }

    /// Every backend, for tests and drain queries.
    pub(crate) fn inflight_to(&self, addr: SocketAddr) -> usize {
        self.routes
            .values()
            .flat_map(|r| r.backends.iter())
            .filter(|b| b.addr == addr)
            .map(|b| b.inflight.load(Ordering::Relaxed))
            .sum()
    }
}

fn parse_reusing(
    cert: &Certificate,
    prev: &Compiled,
    parsed: &mut HashMap<String, (u64, Arc<CertifiedKey>)>,
) -> Option<Arc<CertifiedKey>> {
    let fp = certs::fingerprint(cert);
    if let Some((f, key)) = prev.parsed.get(&cert.id).or_else(|| parsed.get(&cert.id)) {
        if *f == fp {
            let key = key.clone();
            parsed.insert(cert.id.clone(), (fp, key.clone()));
            return Some(key);
        }
    }
    match certs::certified_key(&cert.chain_pem, &cert.key_pem) {
        Ok(key) => {
            parsed.insert(cert.id.clone(), (fp, key.clone()));
            Some(key)
        }
        Err(e) => {
            tracing::error!(cert = %cert.id, names = ?cert.names, error = %e, "certificate left out of the table");
            None
        }
    }
}

/// The compiled table being served, and a signal for requests waiting on a change (booting).
pub(crate) struct Live {
    current: ArcSwap<Compiled>,
    changed: watch::Sender<u64>,
}

impl Live {
    pub(crate) fn new() -> Live {
        let (changed, _) = watch::channel(0);
        Live {
            current: ArcSwap::from_pointee(Compiled::empty()),
            changed,
        }
    }

    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Compiled>> {
        self.current.load()
    }

    pub(crate) fn load_full(&self) -> Arc<Compiled> {
        self.current.load_full()
    }

    /// Compiles and swaps in `table`. Callers serialize (one writer at a time).
    pub(crate) fn apply(&self, table: Arc<RouteTable>, digest: String) -> Arc<Compiled> {
        let prev = self.current.load_full();
        let compiled = Arc::new(Compiled::build(table, digest, &prev));
        self.current.store(compiled.clone());
        self.changed.send_modify(|v| *v += 1);
        compiled
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// Whether `ip` is in the allow-list (no list: everyone).
pub(crate) fn allowed(route: &CompiledRoute, ip: IpAddr) -> bool {
    crate::table::ip_allowed(route.allow_ips.as_deref(), ip)
}

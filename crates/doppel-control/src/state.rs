//! The shared state every handler, workflow and background task works from.

use crate::config::ServerConfig;
use crate::urls::Urls;
use doppel_docker::ContainerRuntime;
use doppel_router::SharedRouteTable;
use doppel_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Handles to the store, Docker, the route table and the settings, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    runtime: Arc<dyn ContainerRuntime>,
    routes: SharedRouteTable,
    config: ServerConfig,
    urls: Urls,
    instance_id: String,
    env_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    git: OnceLock<Arc<doppel_git::GitService>>,
    addons: OnceLock<Arc<doppel_addons::Catalog>>,
    logs: Arc<crate::logs::LogHub>,
    router_feed: Arc<crate::logs::router::RouterFeed>,
    log_sessions: crate::logs::sessions::Sessions,
    drains: crate::logs::drains::Drains,
    drain_tls: OnceLock<Arc<rustls::ClientConfig>>,
    supervisor: crate::supervisor::handle::Supervisor,
    attach: crate::dynos::sessions::Sessions,
    outputs: Arc<crate::outputs::LiveOutputs>,
    acme: crate::acme::handle::Acme,
}

impl AppState {
    pub fn new(
        store: Store,
        runtime: Arc<dyn ContainerRuntime>,
        routes: SharedRouteTable,
        config: ServerConfig,
        instance_id: String,
    ) -> AppState {
        let urls = Urls {
            domain: config.domain.clone(),
            https_port: config.https_port,
        };
        let logs = Arc::new(crate::logs::LogHub::new(&config.data_dir.join("logs")));
        let router_feed = Arc::new(crate::logs::router::RouterFeed::new(logs.clone()));
        AppState {
            inner: Arc::new(Inner {
                store,
                runtime,
                routes,
                config,
                urls,
                instance_id,
                env_locks: Mutex::new(HashMap::new()),
                git: OnceLock::new(),
                addons: OnceLock::new(),
                logs,
                router_feed,
                log_sessions: Default::default(),
                drains: Default::default(),
                drain_tls: OnceLock::new(),
                supervisor: Default::default(),
                attach: Default::default(),
                outputs: Arc::default(),
                acme: Default::default(),
            }),
        }
    }

    /// ACM's challenges in flight and its task's wake-up.
    pub fn acme(&self) -> &crate::acme::handle::Acme {
        &self.inner.acme
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn runtime(&self) -> &dyn ContainerRuntime {
        self.inner.runtime.as_ref()
    }

    pub fn routes(&self) -> &SharedRouteTable {
        &self.inner.routes
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub fn urls(&self) -> &Urls {
        &self.inner.urls
    }

    /// This installation's id: every container it makes carries it in `doppel.instance`, and it
    /// only ever touches containers that carry it, so two installations can share an engine.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// The label filter that selects this installation's containers.
    pub fn instance_filter(&self) -> String {
        format!(
            "{}={}",
            crate::labels::LABEL_INSTANCE,
            self.inner.instance_id
        )
    }

    /// This installation's containers whose `doppel.role` label is one of `roles`, running
    /// or not (dynos, one-offs, release phases, add-on servers: callers choose).
    pub async fn containers_with_role(
        &self,
        roles: &[&str],
    ) -> Result<Vec<doppel_docker::ContainerState>, doppel_docker::DockerError> {
        let all = self
            .runtime()
            .list_containers(&self.instance_filter())
            .await?;
        Ok(all
            .into_iter()
            .filter(|c| {
                c.labels
                    .get(crate::labels::LABEL_ROLE)
                    .is_some_and(|r| roles.contains(&r.as_str()))
            })
            .collect())
    }

    /// Registers the git service once it exists (it needs this state to be built first).
    pub fn set_git(&self, git: Arc<doppel_git::GitService>) {
        // A second call would be a wiring bug; the first registration stays.
        let _ = self.inner.git.set(git);
    }

    pub fn git(&self) -> Option<&Arc<doppel_git::GitService>> {
        self.inner.git.get()
    }

    /// Every environment's log stream.
    pub fn logs(&self) -> &Arc<crate::logs::LogHub> {
        &self.inner.logs
    }

    /// What the router reports to (in-flight requests per dyno, router lines).
    pub fn router_feed(&self) -> &Arc<crate::logs::router::RouterFeed> {
        &self.inner.router_feed
    }

    /// Live log sessions (`logplex_url`s).
    pub fn log_sessions(&self) -> &crate::logs::sessions::Sessions {
        &self.inner.log_sessions
    }

    /// The log drains' delivery tasks.
    pub fn drains(&self) -> &crate::logs::drains::Drains {
        &self.inner.drains
    }

    /// TLS settings for drains (the system's roots and the platform CA), made on first use.
    pub fn drain_tls(&self) -> &Arc<rustls::ClientConfig> {
        self.inner.drain_tls.get_or_init(|| {
            let ca = self.inner.config.data_dir.join("ca.pem");
            crate::logs::transport::client_config(Some(&ca))
        })
    }

    /// The supervisor's wake-up and dyno table.
    pub fn supervisor(&self) -> &crate::supervisor::handle::Supervisor {
        &self.inner.supervisor
    }

    /// One-off dynos waiting for their client to attach.
    pub fn attach_sessions(&self) -> &crate::dynos::sessions::Sessions {
        &self.inner.attach
    }

    /// The outputs of builds running now (their capability URLs stream them).
    pub fn outputs(&self) -> &Arc<crate::outputs::LiveOutputs> {
        &self.inner.outputs
    }

    /// The lock that serializes deploys and reconciliation of one environment.
    pub fn env_lock(&self, env_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = match self.inner.env_locks.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        locks
            .entry(env_id.to_string())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone()
    }

    /// Registers the add-on providers (the server loads the embedded manifests and the
    /// admin's directory at start); the first registration stays.
    pub fn set_addon_catalog(&self, catalog: doppel_addons::Catalog) {
        let _ = self.inner.addons.set(Arc::new(catalog));
    }

    /// The add-on providers: those registered, else the ones built into doppel.
    pub fn addon_catalog(&self) -> Arc<doppel_addons::Catalog> {
        self.inner
            .addons
            .get_or_init(|| match doppel_addons::Catalog::embedded() {
                Ok(c) => Arc::new(c),
                Err(e) => {
                    tracing::error!(error = %e, "the built-in add-on manifests do not load");
                    Arc::new(doppel_addons::Catalog::default())
                }
            })
            .clone()
    }
}

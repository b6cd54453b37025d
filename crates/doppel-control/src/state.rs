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
    outputs: Arc<crate::outputs::LiveOutputs>,
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
                outputs: Arc::default(),
            }),
        }
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
            crate::workflows::dynos::LABEL_INSTANCE,
            self.inner.instance_id
        )
    }

    /// Registers the git service once it exists (it needs this state to be built first).
    pub fn set_git(&self, git: Arc<doppel_git::GitService>) {
        // A second call would be a wiring bug; the first registration stays.
        let _ = self.inner.git.set(git);
    }

    pub fn git(&self) -> Option<&Arc<doppel_git::GitService>> {
        self.inner.git.get()
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
}

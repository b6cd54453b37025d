//! The in-process control plane every test of this crate starts from: a real store on
//! SQLite in a temporary directory and the shared fake Docker runtime.

#![allow(dead_code)]

use doppel_control::logic::Actor;
use doppel_control::state::AppState;
use doppel_control::ServerConfig;
use doppel_docker::FakeRuntime;
use doppel_router::RouteTable;
use doppel_store::Store;
use std::sync::Arc;

pub struct Api {
    pub token: String,
    pub admin: Actor,
    pub state: AppState,
    pub fake: Arc<FakeRuntime>,
    _dir: tempfile::TempDir,
}

pub async fn api() -> anyhow::Result<Api> {
    api_with(|_| {}).await
}

/// [`api`] with settings changed by `adjust` (e.g. a short boot timeout).
pub async fn api_with(adjust: impl FnOnce(&mut ServerConfig)) -> anyhow::Result<Api> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("doppel.db").display());
    let store = Store::open(&url, [7u8; 32]).await?;
    let (admin, token) = store
        .ensure_admin("admin@localhost")
        .await?
        .ok_or_else(|| anyhow::anyhow!("admin not created"))?;
    let mut config = ServerConfig::with_defaults();
    config.data_dir = dir.path().to_path_buf();
    config.https_port = 8443;
    adjust(&mut config);
    let fake = Arc::new(FakeRuntime::new());
    let state = AppState::new(
        store,
        fake.clone(),
        RouteTable::new().into_shared(),
        config,
        "testinstance".into(),
    );
    Ok(Api {
        token,
        admin: Actor::api(admin),
        state,
        fake,
        _dir: dir,
    })
}

/// A second control plane on `api`'s store and engine, as after a restart of doppel: it
/// knows nothing that lived only in the first one's memory.
pub async fn api_on(api: &Api) -> anyhow::Result<AppState> {
    Ok(AppState::new(
        api.state.store().clone(),
        api.fake.clone(),
        RouteTable::new().into_shared(),
        api.state.config().clone(),
        api.state.instance_id().to_string(),
    ))
}

//! The route table: built from the store (environments, their current releases, who may
//! see private ones, maintenance mode, custom domains) and the running web dynos, and
//! published whole to the router. The only writer of the table.

use crate::state::AppState;
use crate::workflows::dynos::{self, LABEL_DYNO, LABEL_RELEASE};
use doppel_docker::ContainerState;
use doppel_router::{Backend, Route, RouteStatus, RouteTable, Upstream};
use doppel_store::{Environment, Release};
use doppel_types::WEB_PORT;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the platform (API and git) listens for the router: `<data-dir>/platform.sock`.
pub fn platform_socket(data_dir: &Path) -> PathBuf {
    data_dir.join("platform.sock")
}

/// Builds the route table from the store and the running web dynos, and swaps it in whole.
pub async fn publish(state: &AppState) {
    match route_table(state).await {
        Ok(table) => state.routes().store(Arc::new(table)),
        Err(e) => {
            tracing::warn!(error = %e, "could not rebuild the route table; the router keeps the last one")
        }
    }
}

async fn route_table(state: &AppState) -> anyhow::Result<RouteTable> {
    let envs = state.store().list_environments().await?;
    let containers = dynos::list(state).await?;
    let domains = state.store().all_domains().await?;
    let mut routes = HashMap::new();
    for env in &envs {
        let current = state.store().current_release(&env.id).await?;
        // A release holding config only (no build yet) runs nothing: still "no release".
        let (backends, status) = match &current {
            Some(release) if release.has_image() => {
                web_dynos(state, env, release, &containers).await?
            }
            _ => (Vec::new(), RouteStatus::NoRelease),
        };
        // A private environment admits the tokens of the users with access to it, no others.
        let private = if env.private {
            Some(Arc::new(
                state
                    .store()
                    .env_token_digests(&env.app_id, &env.id)
                    .await?,
            ))
        } else {
            None
        };
        let route = Route {
            env: env.name.clone(),
            backends,
            status,
            private,
            maintenance: env.maintenance,
            ..Route::default()
        };
        // Custom domains reach the environment exactly as its own host name does.
        for domain in domains.iter().filter(|d| d.env_id == env.id) {
            routes.insert(domain.hostname.clone(), route.clone());
        }
        routes.insert(state.urls().env_host(&env.name), route);
    }
    Ok(RouteTable {
        routes,
        platform: Some(Upstream::Unix(platform_socket(&state.config().data_dir))),
        ..RouteTable::default()
    })
}

/// The running web dynos of `release`, and what to answer while there are none: H14 when the
/// formation runs no web dyno, H10 when they all exited, else they are booting (requests wait).
async fn web_dynos(
    state: &AppState,
    env: &Environment,
    release: &Release,
    containers: &[ContainerState],
) -> anyhow::Result<(Vec<Backend>, RouteStatus)> {
    let web: Vec<&ContainerState> = dynos::of_env(containers, &env.id)
        .filter(|c| c.labels.get(LABEL_RELEASE) == Some(&release.id))
        .filter(|c| {
            c.labels
                .get(LABEL_DYNO)
                .is_some_and(|d| d.starts_with("web."))
        })
        .collect();
    let mut backends: Vec<Backend> = web
        .iter()
        .filter(|c| c.running)
        .filter_map(|c| {
            let ip = c.ip.as_deref()?.parse().ok()?;
            let dyno = c.labels.get(LABEL_DYNO)?;
            Some(Backend::new(SocketAddr::new(ip, WEB_PORT), dyno))
        })
        .collect();
    backends.sort_by(|a, b| a.dyno.cmp(&b.dyno));
    if !backends.is_empty() {
        return Ok((backends, RouteStatus::Up));
    }
    let formation = state.store().formation(&env.id).await?;
    let wants_web = formation
        .iter()
        .any(|f| f.process_type == "web" && f.quantity > 0);
    let status = if !wants_web {
        RouteStatus::NoWebDynos
    } else if !web.is_empty() && web.iter().all(|c| !c.running && c.exit_code.is_some()) {
        RouteStatus::Crashed
    } else {
        RouteStatus::Booting
    };
    Ok((backends, status))
}

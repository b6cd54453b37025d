//! The route table: built from the store (environments, their current releases, who may
//! see private ones, maintenance mode, custom domains) and the web dynos that are up (passed
//! their health check, not being stopped), and published whole to the router. The only
//! writer of the table.
//!
//! An environment's backends are its current release's web dynos that are up; while none is
//! (a restart of doppel between a release's commit and its new dynos booting), the web
//! dynos of an earlier release that are still up keep serving.

use crate::state::AppState;
use crate::supervisor::observed::Observed;
use crate::supervisor::Phase;
use crate::workflows::dynos;
use doppel_router::{Route, RouteTable};
use doppel_types::WEB_PORT;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

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
    let containers: Vec<Observed> = dynos::list(state)
        .await?
        .iter()
        .filter_map(Observed::read)
        .collect();
    let domains = state.store().all_domains().await?;
    let mut routes = HashMap::new();
    let mut names = HashMap::new();
    for env in &envs {
        names.insert(env.name.clone(), env.id.clone());
        let current = state.store().current_release(&env.id).await?;
        let backends = match &current {
            Some(release) => backends(state, &containers, &env.id, &release.id),
            None => Vec::new(),
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
            released: current.as_ref().is_some_and(|r| r.has_image()),
            private,
            maintenance: env.maintenance,
        };
        // Custom domains reach the environment exactly as its own host name does.
        for domain in domains.iter().filter(|d| d.env_id == env.id) {
            routes.insert(domain.hostname.clone(), route.clone());
        }
        routes.insert(state.urls().env_host(&env.name), route);
    }
    state.logs().set_names(names);
    Ok(RouteTable { routes })
}

/// The addresses of `env_id`'s web dynos that are up: the current release's, else (none up
/// yet) an earlier release's still serving.
fn backends(
    state: &AppState,
    containers: &[Observed],
    env_id: &str,
    release_id: &str,
) -> Vec<SocketAddr> {
    let table = &state.supervisor().table;
    let up: Vec<&Observed> = containers
        .iter()
        .filter(|c| c.env_id == env_id && c.is_web() && c.running)
        .filter(|c| table.get(&c.id).map(|d| d.phase) == Some(Phase::Up))
        .collect();
    let current: Vec<&&Observed> = up.iter().filter(|c| c.release_id == release_id).collect();
    let chosen: Vec<&Observed> = if current.is_empty() {
        up
    } else {
        current.into_iter().copied().collect()
    };
    chosen
        .iter()
        .filter_map(|c| c.ip.map(|ip| SocketAddr::new(ip, WEB_PORT)))
        .collect()
}

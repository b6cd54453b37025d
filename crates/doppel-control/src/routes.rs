//! The route table: built from the store (environments, their current releases, who may
//! see private ones, maintenance mode, custom domains) and the running web dynos, and
//! published whole to the router. The only writer of the table.

use crate::state::AppState;
use crate::workflows::dynos::{self, LABEL_DYNO, LABEL_RELEASE};
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
    let containers = dynos::list(state).await?;
    let domains = state.store().all_domains().await?;
    let mut routes = HashMap::new();
    for env in &envs {
        let current = state.store().current_release(&env.id).await?;
        let backends: Vec<SocketAddr> = match &current {
            Some(release) => dynos::of_env(&containers, &env.id)
                .filter(|c| c.running && c.labels.get(LABEL_RELEASE) == Some(&release.id))
                .filter(|c| {
                    c.labels
                        .get(LABEL_DYNO)
                        .is_some_and(|d| d.starts_with("web."))
                })
                .filter_map(|c| c.ip.as_deref().and_then(|ip| ip.parse().ok()))
                .map(|ip| SocketAddr::new(ip, WEB_PORT))
                .collect(),
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
    Ok(RouteTable { routes })
}

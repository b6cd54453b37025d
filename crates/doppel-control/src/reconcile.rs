//! Startup chores of the reconciler's: build containers a crash left behind. Converging
//! dynos and networks is the supervisor's job ([`crate::supervisor`]); [`run_once`] runs one
//! of its passes (tests and startup use it).

use crate::state::AppState;

/// One supervisor pass over every environment, then the route table.
pub async fn run_once(state: &AppState) {
    crate::supervisor::run_once(state).await;
}

/// At startup: removes build containers (`doppel.role=build`) that a crash left behind.
/// Only those whose `doppel.build` label names a build in this installation's store are
/// touched (every such build has just been marked finished or failed). Dynos also carry a
/// `doppel.build` label, inherited from their image, but never the build role.
pub async fn sweep_build_leftovers(state: &AppState) {
    let filter = format!("{}=build", doppel_builder::build::LABEL_ROLE);
    let containers = match state.runtime().list_containers(&filter).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "could not list build containers");
            return;
        }
    };
    for c in containers {
        let Some(build_id) = c.labels.get(doppel_builder::build::LABEL_BUILD) else {
            continue;
        };
        if !matches!(state.store().build(build_id).await, Ok(Some(_))) {
            continue;
        }
        tracing::info!(container = %c.name, "removing a build container left by a restart");
        if let Err(e) = state.runtime().remove(&c.id, true).await {
            tracing::warn!(container = %c.name, error = %e, "could not remove build container");
        }
    }
}

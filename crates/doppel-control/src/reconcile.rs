//! The reconciler: makes Docker's dynos match the store and publishes the route table.
//! It takes no input: every pass re-reads the desired state (current releases and
//! formations) and the actual state (containers labelled `doppel.role=dyno`), so startup,
//! a crash recovery and the steady state share one path.

use crate::networks;
use crate::state::AppState;
use crate::workflows::dynos::{self, LABEL_DYNO, LABEL_RELEASE};
use doppel_docker::ContainerState;
use doppel_store::Environment;
use std::collections::HashSet;
use std::time::Duration;

/// How often the reconciler runs when nothing wakes it.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// Runs passes forever, every [`INTERVAL`].
pub async fn run_forever(state: AppState) {
    loop {
        tokio::time::sleep(INTERVAL).await;
        run_once(&state).await;
    }
}

/// One pass; failures are logged and retried on the next pass.
pub async fn run_once(state: &AppState) {
    if let Err(e) = pass(state).await {
        tracing::warn!(error = %e, "reconcile pass failed; retrying on the next pass");
    }
    crate::routes::publish(state).await;
}

async fn pass(state: &AppState) -> anyhow::Result<()> {
    let envs = state.store().list_environments().await?;
    let containers = dynos::list(state).await?;
    let mut keep: HashSet<String> = HashSet::new();
    for env in &envs {
        let lock = state.env_lock(&env.id);
        let Ok(_guard) = lock.try_lock() else {
            // A deploy owns this environment right now; leave its dynos alone.
            keep.extend(dynos::of_env(&containers, &env.id).map(|c| c.id.clone()));
            continue;
        };
        keep.extend(converge_env(state, env, &containers).await?);
    }
    for c in containers.iter().filter(|c| !keep.contains(&c.id)) {
        tracing::info!(container = %c.name, "removing dyno no release wants");
        if let Err(e) = state
            .runtime()
            .stop_and_remove(&c.id, Duration::from_secs(10))
            .await
        {
            tracing::warn!(container = %c.name, error = %e, "could not remove dyno");
        }
    }
    networks::remove_orphans(state, &envs).await;
    Ok(())
}

/// Starts what is missing for one environment; returns the containers to keep.
async fn converge_env(
    state: &AppState,
    env: &Environment,
    containers: &[ContainerState],
) -> anyhow::Result<Vec<String>> {
    let Some(release) = state.store().current_release(&env.id).await? else {
        return Ok(Vec::new());
    };
    if !release.has_image() {
        return Ok(Vec::new());
    }
    let formation = state.store().formation(&env.id).await?;
    // Recreated here if someone removed it by hand.
    let network = networks::ensure_env(state, env).await?;
    let mut keep = Vec::new();
    let mut config = None;
    for dyno in dynos::wanted(&formation) {
        let existing = dynos::of_env(containers, &env.id).find(|c| {
            c.running
                && c.labels.get(LABEL_RELEASE) == Some(&release.id)
                && c.labels.get(LABEL_DYNO) == Some(&dyno.name())
                && dynos::has_size(c, &dyno.size)
        });
        if let Some(c) = existing {
            if reattach(state, c, &network).await {
                keep.push(c.id.clone());
                continue;
            }
        }
        if config.is_none() {
            config = Some(state.store().release_config(&release.id).await?);
        }
        let vars = config.clone().unwrap_or_default();
        match dynos::spec(state.instance_id(), env, &release, &dyno, &vars, &network) {
            Ok(spec) => {
                tracing::info!(env = %env.name, dyno = %dyno.name(), version = release.version, "starting dyno");
                match state.runtime().run_dyno(spec).await {
                    Ok(id) => keep.push(id),
                    Err(e) => {
                        tracing::warn!(env = %env.name, dyno = %dyno.name(), error = %e, "could not start dyno")
                    }
                }
            }
            Err(reason) => {
                tracing::warn!(env = %env.name, dyno = %dyno.name(), %reason, "dyno cannot run")
            }
        }
    }
    Ok(keep)
}

/// Makes sure a running dyno is on its environment's network (it is not when the network was
/// removed and made again). `false` when it cannot be: the dyno is then replaced.
async fn reattach(state: &AppState, c: &ContainerState, network: &str) -> bool {
    if c.networks.contains_key(network) {
        return true;
    }
    tracing::info!(container = %c.name, "attaching a dyno to its environment's network again");
    match state.runtime().connect_network(network, &c.id).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(container = %c.name, error = %e, "could not attach the dyno; replacing it");
            false
        }
    }
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

//! The network model: one bridge network per environment (its dynos, release phase, one-off
//! dynos and add-ons join it and nothing else), and one build network per installation whose
//! containers cannot reach each other. Networks are found by id, never by a name alone; the
//! reconciler makes them exist on every pass and removes those of deleted environments.
//!
//! Isolation comes from Docker's bridge rules: containers on different bridge networks cannot
//! reach each other, and a container's loopback is its own, so services bound to the host's
//! `127.0.0.1` are out of reach. The router, on the host, reaches every dyno by its IP.

use crate::labels::{LABEL_ENV_ID, LABEL_INSTANCE, LABEL_ROLE};
use crate::state::AppState;
use doppel_docker::{DockerError, NetworkSpec, LABEL_MANAGED};
use doppel_store::Environment;
use std::collections::{BTreeMap, HashSet};

/// `doppel.role` of an environment's network.
pub const ROLE_ENV_NETWORK: &str = "env-network";
/// `doppel.role` of the installation's build network.
pub const ROLE_BUILD_NETWORK: &str = "build-network";
/// The one shared network of doppel before environments had their own; duplicates of it
/// (Docker 20.10 allowed several with one name) are removed at start when nothing uses them.
pub const LEGACY_NETWORK: &str = "doppel";

/// The network every dyno of `env` joins.
pub fn env_spec(state: &AppState, env: &Environment) -> NetworkSpec {
    NetworkSpec {
        name: format!("doppel-{}-{}", state.instance_id(), env.id),
        labels: BTreeMap::from([
            (LABEL_INSTANCE.to_string(), state.instance_id().to_string()),
            (LABEL_ROLE.to_string(), ROLE_ENV_NETWORK.to_string()),
            (LABEL_ENV_ID.to_string(), env.id.clone()),
            ("doppel.env".to_string(), env.name.clone()),
        ]),
        pool: state.config().network_pool,
        inter_container: true,
    }
}

/// The network builds join: outbound access (package indexes), no reach into dynos or the
/// host's loopback, and no reach between two builds running at once.
pub fn build_spec(state: &AppState) -> NetworkSpec {
    NetworkSpec {
        name: format!("doppel-{}-builds", state.instance_id()),
        labels: BTreeMap::from([
            (LABEL_INSTANCE.to_string(), state.instance_id().to_string()),
            (LABEL_ROLE.to_string(), ROLE_BUILD_NETWORK.to_string()),
        ]),
        pool: state.config().network_pool,
        inter_container: false,
    }
}

/// The id of `env`'s network, made if missing.
pub async fn ensure_env(state: &AppState, env: &Environment) -> Result<String, DockerError> {
    state.runtime().ensure_network(&env_spec(state, env)).await
}

/// The id of the build network, made if missing.
pub async fn ensure_build(state: &AppState) -> Result<String, DockerError> {
    state.runtime().ensure_network(&build_spec(state)).await
}

/// Removes this installation's environment networks whose environment is gone (once no
/// container uses them).
pub async fn remove_orphans(state: &AppState, envs: &[Environment]) {
    let wanted: HashSet<&str> = envs.iter().map(|e| e.id.as_str()).collect();
    let networks = match state
        .runtime()
        .list_networks(&state.instance_filter())
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not list networks; retrying on the next pass");
            return;
        }
    };
    for n in networks {
        let is_env_net = n.labels.get(LABEL_ROLE).map(String::as_str) == Some(ROLE_ENV_NETWORK);
        let orphan = n
            .labels
            .get(LABEL_ENV_ID)
            .is_some_and(|id| !wanted.contains(id.as_str()));
        if is_env_net && orphan && n.containers.is_empty() {
            tracing::info!(network = %n.name, "removing the network of a deleted environment");
            if let Err(e) = state.runtime().remove_network(&n.id).await {
                tracing::warn!(network = %n.name, error = %e, "could not remove network");
            }
        }
    }
}

/// At start: removes the old shared `doppel` networks that nothing uses any more. One that
/// still has containers (an older doppel's dynos) is left alone.
pub async fn remove_legacy(state: &AppState) {
    let filter = format!("{LABEL_MANAGED}=true");
    let networks = match state.runtime().list_networks(&filter).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not list networks to remove old ones");
            return;
        }
    };
    for n in networks
        .iter()
        .filter(|n| n.name == LEGACY_NETWORK && n.containers.is_empty())
    {
        tracing::info!(id = %n.id, "removing an unused network of an older doppel");
        if let Err(e) = state.runtime().remove_network(&n.id).await {
            tracing::warn!(id = %n.id, error = %e, "could not remove an old network");
        }
    }
}

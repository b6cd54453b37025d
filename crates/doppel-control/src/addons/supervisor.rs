//! Supervising add-on servers like dynos: every pass re-reads what the store wants
//! ([`desired`]) and what Docker has, starts or recreates what is missing or dead (after a
//! crash, a `docker kill`, a Docker engine restart), and removes add-on containers no add-on
//! wants any more. Volumes are never removed here: only destroying an add-on removes its
//! data. The pass takes no input, so startup and the steady state share one path.
//!
//! The process supervisor calls [`converge`] at the end of every pass
//! (`supervisor::run_once`), and wakes on an add-on container's `die` or `destroy` event;
//! [`desired`] lists what should run, with the container labels that identify it
//! (`doppel.role=addon`, `doppel.addon-id`).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use doppel_store::{Addon, AddonState, BackupKind, Environment};

use crate::addons::servers::{self, LABEL_ADDON_ID};
use crate::state::AppState;
use crate::workflows::{addon_backup, addon_credentials, addon_destroy, addon_provision};

/// One add-on whose server should be running.
#[derive(Debug, Clone)]
pub struct WantedAddon {
    pub addon: Addon,
    pub env: Environment,
    /// The start of the container's name, and its labels (what
    /// [`servers::ensure_running`] makes).
    pub container_name: String,
    pub labels: BTreeMap<String, String>,
}

/// The add-on servers the store wants running: every provisioned add-on.
pub async fn desired(state: &AppState) -> Result<Vec<WantedAddon>, doppel_store::StoreError> {
    let envs: BTreeMap<String, Environment> = state
        .store()
        .list_environments()
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    Ok(state
        .store()
        .list_addons()
        .await?
        .into_iter()
        .filter(|a| a.state == AddonState::Provisioned)
        .filter_map(|addon| {
            let env = envs.get(&addon.env_id)?.clone();
            Some(WantedAddon {
                container_name: servers::container_name(&env, &addon),
                labels: servers::labels(state, &env, &addon),
                addon,
                env,
            })
        })
        .collect())
}

/// One supervision pass; failures are logged and retried on the next pass.
pub async fn converge(state: &AppState) {
    if let Err(e) = pass(state).await {
        tracing::warn!(error = %e, "add-on supervision pass failed; retrying on the next pass");
    }
}

async fn pass(state: &AppState) -> anyhow::Result<()> {
    // Containers of add-ons that are gone (an add-on in any state keeps its container: a
    // provisioning or destroy in progress owns it).
    let known: HashSet<String> = state
        .store()
        .list_addons()
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    for c in servers::containers(state).await? {
        let owner = c.labels.get(LABEL_ADDON_ID).cloned().unwrap_or_default();
        if !known.contains(&owner) {
            tracing::info!(container = %c.name, "removing the server of an add-on that no longer exists (its volume stays)");
            if let Err(e) = state
                .runtime()
                .stop_and_remove(&c.id, Duration::from_secs(30))
                .await
            {
                tracing::warn!(container = %c.name, error = %e, "could not remove an add-on container");
            }
        }
    }
    let wanted = desired(state).await?;
    for w in &wanted {
        let lock = servers::lock(state, &w.addon.id);
        let Ok(_guard) = lock.try_lock() else {
            continue; // provisioning, a backup or a restore owns it right now
        };
        if let Err(e) = servers::ensure_running(state, &w.addon, &w.env).await {
            tracing::warn!(addon = %w.addon.name, error = %e, "could not start the add-on's server");
        }
    }
    Ok(())
}

/// At start: backups a restart cut off are marked failed, and add-ons a restart left half
/// provisioned, half destroyed or half rotated are finished (in the background).
pub async fn resume(state: &AppState) {
    if let Err(e) = state.store().fail_interrupted_backups().await {
        tracing::warn!(error = %e, "could not mark interrupted backups failed");
    }
    let addons = match state.store().list_addons().await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "could not list add-ons to resume");
            return;
        }
    };
    for addon in addons {
        let state = state.clone();
        tokio::spawn(async move {
            let outcome = match addon.state {
                AddonState::Provisioning => addon_provision::provision(&state, &addon.id, None)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                AddonState::Deprovisioning => addon_destroy::finish(&state, &addon, None)
                    .await
                    .map_err(|e| e.to_string()),
                AddonState::Provisioned if addon.credentials.pending_password.is_some() => {
                    wait_running(&state, &addon).await;
                    addon_credentials::finish_pending(&state, &addon)
                        .await
                        .map_err(|e| e.to_string())
                }
                _ => Ok(()),
            };
            if let Err(e) = outcome {
                tracing::warn!(addon = %addon.name, error = %e, "could not finish what a restart interrupted");
            }
        });
    }
}

/// Waits (up to the readiness timeout) for the supervisor to have the add-on's server up.
async fn wait_running(state: &AppState, addon: &Addon) {
    let Ok((provider, plan)) = servers::provider(state, addon) else {
        return;
    };
    let deadline = tokio::time::Instant::now() + servers::READY_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        if let Ok(Some(c)) = servers::running(state, &addon.id).await {
            let inst = servers::instance(addon, &plan);
            let ready = provider
                .wait_ready(state.runtime(), &c.id, &inst, servers::READY_TIMEOUT)
                .await;
            if ready.is_ok() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Before an app is destroyed: each of its add-ons gets a final backup (kept on disk under
/// `<data-dir>/backups/<env-id>/` after the rows go) and loses its server and volume.
pub async fn destroy_for_app(state: &AppState, app: &doppel_store::App) {
    for env in &app.environments {
        let addons = match state.store().addons_of_env(&env.id).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(env = %env.name, error = %e, "could not list the add-ons to remove");
                continue;
            }
        };
        for addon in addons {
            if addon.state == AddonState::Provisioned {
                let note = Some(format!(
                    "final backup of {} before apps:destroy",
                    addon.name
                ));
                if let Err(e) =
                    addon_backup::capture(state, &addon, BackupKind::Manual, note, None).await
                {
                    tracing::warn!(addon = %addon.name, error = %e, "final backup before apps:destroy failed");
                }
            }
            let lock = servers::lock(state, &addon.id);
            let _guard = lock.lock().await;
            if let Err(e) = servers::remove(state, &addon, true).await {
                tracing::warn!(addon = %addon.name, error = %e, "could not remove the add-on's server and volume");
            }
        }
    }
}

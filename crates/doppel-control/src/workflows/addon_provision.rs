//! Provisioning an add-on, as durable steps: the row (state `provisioning`, credentials,
//! attachments) is written first by the logic layer; then the image (made from Debian's
//! archive the first time), the network, the volume and the server container; the health
//! check; the version; the row marked `provisioned`; and the attachments' URLs released into
//! the environment's config. Every step is safe to run again, so an interrupted provisioning
//! is simply run again at the next start ([`crate::addons::supervisor::resume`]). A failure
//! unwinds: the container and the (new, empty) volume are removed, the attachments deleted,
//! and the row marked `failed` with the reason.

use doppel_store::{AddonState, Environment};

use super::addon_config::{self, Applied};
use crate::addons::servers::{self, ServerError};
use crate::state::AppState;

/// Why provisioning failed (the add-on is marked failed with this reason).
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{0}")]
    Server(#[from] ServerError),
    #[error("{0}")]
    Ready(#[from] doppel_addons::AddonError),
    #[error("{0}")]
    Store(#[from] doppel_store::StoreError),
    #[error("add-on {0} is gone")]
    Gone(String),
}

/// Provisions the add-on `addon_id` if it is still `provisioning`; returns how its config
/// reached its environment. Failures are recorded on the add-on before they are returned.
pub async fn provision(
    state: &AppState,
    addon_id: &str,
    user_id: Option<String>,
) -> Result<Applied, ProvisionError> {
    let lock = servers::lock(state, addon_id);
    let guard = lock.lock().await;
    let addon = state
        .store()
        .addon(addon_id)
        .await?
        .ok_or_else(|| ProvisionError::Gone(addon_id.to_string()))?;
    if addon.state != AddonState::Provisioning {
        return Ok(Applied::Unchanged);
    }
    let env = state
        .store()
        .environment(&addon.env_id)
        .await?
        .ok_or_else(|| ProvisionError::Gone(addon.name.clone()))?;
    match start_server(state, &addon, &env).await {
        Ok(()) => {}
        Err(e) => {
            unwind(state, &addon, &e.to_string()).await;
            return Err(e);
        }
    }
    drop(guard);
    let names: Vec<String> = state
        .store()
        .attachments_of_addon(&addon.id)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let description = format!("Attach {} (@ref:{})", names.join(", "), addon.name);
    Ok(addon_config::apply(state, &env, &[], &description, user_id).await?)
}

/// Image, network, volume, container, health check, version; then the row is provisioned.
async fn start_server(
    state: &AppState,
    addon: &doppel_store::Addon,
    env: &Environment,
) -> Result<(), ProvisionError> {
    let (container, image) = servers::ensure_running(state, addon, env).await?;
    let (provider, plan) = servers::provider(state, addon)?;
    let inst = servers::instance(addon, &plan);
    provider
        .wait_ready(state.runtime(), &container, &inst, servers::READY_TIMEOUT)
        .await?;
    let version = provider.version(state.runtime(), &container, &inst).await?;
    state
        .store()
        .set_addon_provisioned(&addon.id, &image, &version)
        .await?;
    tracing::info!(addon = %addon.name, env = %env.name, %version, "add-on provisioned");
    Ok(())
}

/// Undoes a failed provisioning: no container, no volume (it held nothing yet), no
/// attachments; the row says why.
async fn unwind(state: &AppState, addon: &doppel_store::Addon, reason: &str) {
    tracing::warn!(addon = %addon.name, %reason, "provisioning failed; unwinding");
    if let Err(e) = servers::remove(state, addon, true).await {
        tracing::warn!(addon = %addon.name, error = %e, "could not remove the failed add-on's server; the supervisor removes it");
    }
    match state.store().attachments_of_addon(&addon.id).await {
        Ok(list) => {
            for a in list {
                if let Err(e) = state.store().delete_attachment(&a.id).await {
                    tracing::warn!(addon = %addon.name, error = %e, "could not delete an attachment");
                }
            }
        }
        Err(e) => tracing::warn!(addon = %addon.name, error = %e, "could not list attachments"),
    }
    if let Err(e) = state
        .store()
        .set_addon_state(&addon.id, AddonState::Failed, Some(reason))
        .await
    {
        tracing::error!(addon = %addon.name, error = %e, "could not record the failed provisioning");
    }
}

/// Starts provisioning in the background (the API answers at once with state
/// `provisioning`, as Heroku does); the outcome is logged and recorded on the add-on.
pub fn spawn(state: &AppState, addon_id: String, user_id: Option<String>) {
    let state = state.clone();
    tokio::spawn(async move {
        match provision(&state, &addon_id, user_id).await {
            Ok(Applied::ReleaseFailed(reason)) => {
                tracing::warn!(addon = %addon_id, %reason, "add-on provisioned; its release failed")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(addon = %addon_id, error = %e, "add-on provisioning failed"),
        }
    });
}

//! Rotating an add-on's password, as durable steps: the new password is recorded as pending
//! first, then set on the server (the old one stops working, open connections end), then
//! recorded as current, then released into the config of every environment it is attached
//! to (the dynos restart with the new URL). A crash between the steps leaves the pending
//! password, which [`finish_pending`] sets again at the next start (setting it twice is
//! harmless).

use doppel_store::Addon;

use super::addon_config::{self, Applied};
use crate::addons::servers;
use crate::state::AppState;

/// Why a rotation failed.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("{0} is not running; try again once it is")]
    NotRunning(String),
    #[error("{0}")]
    Provider(#[from] doppel_addons::AddonError),
    #[error("{0}")]
    Docker(#[from] doppel_docker::DockerError),
    #[error("{0}")]
    Store(#[from] doppel_store::StoreError),
}

/// Rotates `addon`'s password; returns how the new URL reached its environment's config.
pub async fn rotate(
    state: &AppState,
    addon: &Addon,
    user_id: Option<String>,
) -> Result<Applied, RotateError> {
    {
        let lock = servers::lock(state, &addon.id);
        let _guard = lock.lock().await;
        let mut credentials = state
            .store()
            .addon(&addon.id)
            .await?
            .map(|a| a.credentials)
            .unwrap_or_else(|| addon.credentials.clone());
        if credentials.pending_password.is_none() {
            credentials.pending_password = Some(doppel_addons::names::token(32));
            state
                .store()
                .set_addon_credentials(&addon.id, &credentials)
                .await?;
        }
        set_pending(state, addon, credentials).await?;
    }
    release(state, addon, user_id).await
}

/// Sets the pending password on the server and records it as current.
async fn set_pending(
    state: &AppState,
    addon: &Addon,
    mut credentials: doppel_store::AddonCredentials,
) -> Result<(), RotateError> {
    let Some(new) = credentials.pending_password.take() else {
        return Ok(());
    };
    let container = servers::running(state, &addon.id)
        .await?
        .ok_or_else(|| RotateError::NotRunning(addon.name.clone()))?;
    let (provider, plan) = servers::provider(state, addon)?;
    let mut current = addon.clone();
    current.credentials = credentials.clone();
    provider
        .rotate(
            state.runtime(),
            &container.id,
            &servers::instance(&current, &plan),
            &new,
        )
        .await?;
    credentials.password = new;
    state
        .store()
        .set_addon_credentials(&addon.id, &credentials)
        .await?;
    tracing::info!(addon = %addon.name, "add-on password rotated");
    Ok(())
}

/// Releases the new URL into the config of the add-on's environment.
async fn release(
    state: &AppState,
    addon: &Addon,
    user_id: Option<String>,
) -> Result<Applied, RotateError> {
    let Some(env) = state.store().environment(&addon.env_id).await? else {
        return Ok(Applied::Unchanged);
    };
    let names: Vec<String> = state
        .store()
        .attachments_of_addon(&addon.id)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let description = format!(
        "Update {} by {} (credential rotation)",
        names.join(", "),
        addon.name
    );
    Ok(addon_config::apply(state, &env, &[], &description, user_id).await?)
}

/// At start: finishes rotations a restart cut off (the pending password is set again).
pub async fn finish_pending(state: &AppState, addon: &Addon) -> Result<(), RotateError> {
    if addon.credentials.pending_password.is_none() {
        return Ok(());
    }
    {
        let lock = servers::lock(state, &addon.id);
        let _guard = lock.lock().await;
        set_pending(state, addon, addon.credentials.clone()).await?;
    }
    release(state, addon, None).await?;
    Ok(())
}

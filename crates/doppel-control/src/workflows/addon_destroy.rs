//! Destroying an add-on, as durable steps: the row is marked `deprovisioning`; a final backup
//! is captured (and verified) when the service has backups (it stays listed in `pg:backups`
//! after the add-on is gone); the attachments are removed and their vars released out of the
//! config; the server container and the data volume are removed; the row is deleted. A
//! failed final backup stops the destroy (the add-on goes back to `provisioned`) unless it is
//! forced. A restart during a destroy finishes it at the next start.

use doppel_store::{Addon, AddonState, BackupKind};

use super::addon_backup;
use super::addon_config;
use crate::addons::servers;
use crate::state::AppState;

/// Why a destroy stopped.
#[derive(Debug, thiserror::Error)]
pub enum DestroyError {
    #[error("the final backup of {addon} failed ({reason}); nothing was destroyed. Fix it, or destroy without a final backup with --force")]
    FinalBackup { addon: String, reason: String },
    #[error("{0}")]
    Docker(#[from] doppel_docker::DockerError),
    #[error("{0}")]
    Store(#[from] doppel_store::StoreError),
}

/// Destroys `addon`; `force` goes on when the final backup fails. Returns the final
/// backup's label, when one was taken.
pub async fn destroy(
    state: &AppState,
    addon: &Addon,
    force: bool,
    user_id: Option<String>,
) -> Result<Option<String>, DestroyError> {
    let was = addon.state;
    state
        .store()
        .set_addon_state(&addon.id, AddonState::Deprovisioning, None)
        .await?;
    let final_backup = match final_backup(state, addon, was, user_id.clone()).await {
        Ok(label) => label,
        Err(reason) if !force => {
            state.store().set_addon_state(&addon.id, was, None).await?;
            return Err(DestroyError::FinalBackup {
                addon: addon.name.clone(),
                reason,
            });
        }
        Err(reason) => {
            tracing::warn!(addon = %addon.name, %reason, "final backup failed; destroying anyway (forced)");
            None
        }
    };
    finish(state, addon, user_id).await?;
    Ok(final_backup)
}

/// The final backup, when the service has backups and the server runs.
async fn final_backup(
    state: &AppState,
    addon: &Addon,
    was: AddonState,
    user_id: Option<String>,
) -> Result<Option<String>, String> {
    let supports = servers::provider(state, addon)
        .map(|(p, _)| p.manifest.supports_backups())
        .unwrap_or(false);
    if !supports || was != AddonState::Provisioned {
        return Ok(None);
    }
    let note = Some(format!(
        "final backup of {} before addons:destroy",
        addon.name
    ));
    let backup = addon_backup::capture(state, addon, BackupKind::Manual, note, user_id)
        .await
        .map_err(|e| e.to_string())?;
    if backup.verified != Some(true) {
        return Err(format!(
            "it did not verify: {}",
            backup.verify_message.unwrap_or_default()
        ));
    }
    Ok(Some(backup.label()))
}

/// Detach, remove the server and its data, delete the row (each step safe to repeat).
pub async fn finish(
    state: &AppState,
    addon: &Addon,
    user_id: Option<String>,
) -> Result<(), DestroyError> {
    let attachments = state.store().attachments_of_addon(&addon.id).await?;
    let mut by_env: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in &attachments {
        state.store().delete_attachment(&a.id).await?;
        by_env
            .entry(a.env_id.clone())
            .or_default()
            .push(a.name.clone());
    }
    for (env_id, names) in by_env {
        let Some(env) = state.store().environment(&env_id).await? else {
            continue;
        };
        let description = format!("Detach {} (@ref:{})", names.join(", "), addon.name);
        addon_config::apply(state, &env, &names, &description, user_id.clone()).await?;
    }
    {
        let lock = servers::lock(state, &addon.id);
        let _guard = lock.lock().await;
        servers::remove(state, addon, true).await?;
    }
    state.store().delete_addon(&addon.id).await?;
    tracing::info!(addon = %addon.name, "add-on destroyed");
    Ok(())
}

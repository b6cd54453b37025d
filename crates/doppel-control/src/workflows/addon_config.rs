//! Attachments into config: an environment's `<NAME>_URL` vars follow its attachments. Every
//! change (attach, detach, a rotated password, a destroyed add-on) goes through the release
//! workflow with the new config, so the dynos restart with it, like Heroku.
//!
//! An environment that has no release yet has nothing running: its config is written
//! directly. When the release fails (the new dynos do not boot), the vars are still written:
//! the app keeps serving on its previous release, and the next release carries the add-on's
//! URL (an add-on's URL is right by construction; leaving it out would strand the add-on).

use std::collections::BTreeMap;

use doppel_store::{Addon, Environment};

use super::progress::{Progress, Silent};
use super::release::{self, ReleaseRequest};
use crate::addons::servers;
use crate::state::AppState;

/// How applying attachments ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Nothing changed.
    Unchanged,
    /// The config changed; `Some(version)` when a release carried it.
    Released(Option<i64>),
    /// The release failed; the config was written for the next release to carry.
    ReleaseFailed(String),
}

/// The config-var changes that make `env`'s `<NAME>_URL` vars match its attachments:
/// `removed` names (attachments just deleted) are unset.
pub async fn changes(
    state: &AppState,
    env: &Environment,
    removed: &[String],
) -> Result<BTreeMap<String, Option<String>>, doppel_store::StoreError> {
    let mut wanted: BTreeMap<String, Option<String>> = removed
        .iter()
        .map(|name| (format!("{name}_URL"), None))
        .collect();
    let mut addons: BTreeMap<String, Option<Addon>> = BTreeMap::new();
    for attachment in state.store().attachments_of_env(&env.id).await? {
        if !addons.contains_key(&attachment.addon_id) {
            let found = state.store().addon(&attachment.addon_id).await?;
            addons.insert(attachment.addon_id.clone(), found);
        }
        let Some(Some(addon)) = addons.get(&attachment.addon_id) else {
            continue;
        };
        if addon.state != doppel_store::AddonState::Provisioned {
            continue;
        }
        let Ok((provider, plan)) = servers::provider(state, addon) else {
            tracing::warn!(addon = %addon.name, service = %addon.service, "no manifest for the add-on's service; its URL is left as it is");
            continue;
        };
        let url = provider.url(&servers::instance(addon, &plan));
        wanted.insert(format!("{}_URL", attachment.name), Some(url));
    }
    let current = state.store().config_vars(&env.id).await?;
    Ok(wanted
        .into_iter()
        .filter(|(k, v)| current.get(k) != v.as_ref())
        .collect())
}

/// Makes `env`'s config match its attachments (unsetting `removed`) with a release described
/// as `description` (Heroku's words: `Attach DATABASE (@ref:postgresql-curly-12345)`).
pub async fn apply(
    state: &AppState,
    env: &Environment,
    removed: &[String],
    description: &str,
    user_id: Option<String>,
) -> Result<Applied, doppel_store::StoreError> {
    apply_with(state, env, removed, description, user_id, &Silent).await
}

/// [`apply`] with the release's progress lines going to `progress`.
pub async fn apply_with(
    state: &AppState,
    env: &Environment,
    removed: &[String],
    description: &str,
    user_id: Option<String>,
    progress: &dyn Progress,
) -> Result<Applied, doppel_store::StoreError> {
    let lock = state.env_lock(&env.id);
    let _guard = lock.lock().await;
    let changes = changes(state, env, removed).await?;
    if changes.is_empty() {
        return Ok(Applied::Unchanged);
    }
    let keys: Vec<&String> = changes.keys().collect();
    tracing::info!(env = %env.name, ?keys, "add-on config vars change");
    let Some(current) = state.store().current_release(&env.id).await? else {
        state.store().set_config_vars(&env.id, &changes).await?;
        return Ok(Applied::Released(None));
    };
    let mut config = state.store().config_vars(&env.id).await?;
    for (key, value) in &changes {
        match value {
            Some(v) => config.insert(key.clone(), v.clone()),
            None => config.remove(key),
        };
    }
    let request = ReleaseRequest {
        image_id: current.image_id.clone(),
        image_kind: current.image_kind,
        process_types: current.process_types.clone(),
        build_id: current.build_id.clone(),
        description: description.to_string(),
        user_id,
        config: Some(config),
    };
    match release::release_locked(state, env, request, progress).await {
        Ok(r) => Ok(Applied::Released(Some(r.version))),
        Err(e) => {
            tracing::warn!(env = %env.name, error = %e, "the add-on's release failed; writing its config for the next release");
            state.store().set_config_vars(&env.id, &changes).await?;
            Ok(Applied::ReleaseFailed(e.to_string()))
        }
    }
}

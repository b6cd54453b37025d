//! Releases of an environment: listing, finding one by id or version, its config snapshot,
//! and rolling back to one.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use crate::workflows::progress::Silent;
use crate::workflows::release::{self, ReleaseError, ReleaseRequest};
use doppel_store::{Environment, Release, ReleaseStatus};
use std::collections::BTreeMap;

/// An environment's releases (oldest first) and the version of its current one.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Release>, Option<i64>), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let current = state
        .store()
        .current_release(&access.env.id)
        .await?
        .map(|r| r.version);
    let releases = state.store().list_releases(&access.env.id).await?;
    Ok((access.env, releases, current))
}

/// One release by id or version (`v3` and `3` both name version 3).
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    release: &str,
) -> Result<(Environment, Release, Option<i64>), LogicError> {
    let (env, releases, current) = list(state, actor, env).await?;
    let found = find(&releases, release)?;
    Ok((env, found.clone(), current))
}

/// The release `wanted` (id, `vN` or `N`) among `releases`.
pub fn find<'a>(releases: &'a [Release], wanted: &str) -> Result<&'a Release, LogicError> {
    let version = wanted.trim_start_matches('v');
    releases
        .iter()
        .find(|r| r.id == wanted || r.version.to_string() == version)
        .ok_or_else(|| LogicError::not_found("release", wanted))
}

/// The config snapshot of one release (by id or version).
pub async fn config(
    state: &AppState,
    actor: &Actor,
    env: &str,
    release: &str,
) -> Result<BTreeMap<String, String>, LogicError> {
    let (_, found, _) = show(state, actor, env, release).await?;
    Ok(state.store().release_config(&found.id).await?)
}

/// Rolls environment `env` back to release `wanted` (id, `vN` or `N`): a new release with
/// that release's image **and config**, described `Rollback to vN`, rolled out by the release
/// workflow. A release that does not exist, never served (failed, pending) or is the current
/// one is refused, and nothing changes; a rollout that fails leaves the current release
/// serving and the new one failed.
pub async fn rollback(
    state: &AppState,
    actor: &Actor,
    env: &str,
    wanted: &str,
) -> Result<Release, LogicError> {
    let found = access::environment(state, actor, env).await?;
    let env = found.env;
    let lock = state.env_lock(&env.id);
    let _guard = lock.lock().await;
    let releases = state.store().list_releases(&env.id).await?;
    let target = find(&releases, wanted)?.clone();
    let current = state.store().current_release(&env.id).await?;
    check_rollback_target(&target, current.as_ref())?;
    let config = state.store().release_config(&target.id).await?;
    let request = ReleaseRequest {
        image_id: target.image_id.clone(),
        image_kind: target.image_kind,
        process_types: target.process_types.clone(),
        build_id: target.build_id.clone(),
        description: format!("Rollback to v{}", target.version),
        user_id: Some(actor.user.id.clone()),
        config: Some(config),
    };
    let made = release::release_locked(state, &env, request, &Silent)
        .await
        .map_err(|e| release_failed(e, &format!("v{} was not restored.", target.version)))?;
    let details = serde_json::json!({ "to": target.version, "version": made.version });
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&env),
        "release.rollback",
        details,
    )
    .await;
    Ok(made)
}

/// Why `target` cannot be rolled back to, if it cannot.
fn check_rollback_target(target: &Release, current: Option<&Release>) -> Result<(), LogicError> {
    let v = target.version;
    match target.status {
        ReleaseStatus::Failed => Err(LogicError::Invalid(format!(
            "v{v} failed and never served; roll back to a release that succeeded"
        ))),
        ReleaseStatus::Pending => Err(LogicError::Invalid(format!(
            "v{v} is still being rolled out; roll back to a release that succeeded"
        ))),
        ReleaseStatus::Succeeded if !target.has_image() => Err(LogicError::Invalid(format!(
            "v{v} holds config only (it was made before the first build): there is nothing to run; roll back to a release made by a build"
        ))),
        ReleaseStatus::Succeeded if current.is_some_and(|c| c.id == target.id) => {
            Err(LogicError::Invalid(format!(
                "v{v} is the current release already; roll back to an earlier one"
            )))
        }
        ReleaseStatus::Succeeded => Ok(()),
    }
}

/// A release workflow failure as the logic layer reports it, with what it left unchanged.
pub(crate) fn release_failed(err: ReleaseError, unchanged: &str) -> LogicError {
    match err {
        ReleaseError::RolloutFailed { .. } => LogicError::Failed(format!("{err} {unchanged}")),
        ReleaseError::Store { context, source } => LogicError::internal(context, source),
    }
}

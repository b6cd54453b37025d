//! `/apps/{app}/releases`: an environment's releases, oldest first.

use super::apps::find;
use super::error::ApiError;
use super::json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use doppel_store::{Environment, Release};
use serde_json::Value;

/// `GET /apps/{app}/releases`.
pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (env, releases, current) = releases_of(&state, &name).await?;
    let users = json::users_named(
        state.store(),
        releases.iter().filter_map(|r| r.user_id.as_deref()),
    )
    .await?;
    Ok(Json(Value::Array(
        releases
            .iter()
            .map(|r| json::release(r, &env, current, &users))
            .collect(),
    )))
}

/// `GET /apps/{app}/releases/{id or version}` (`v3` and `3` both name version 3).
pub async fn show(
    State(state): State<AppState>,
    Path((name, release)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (env, releases, current) = releases_of(&state, &name).await?;
    let wanted = release.trim_start_matches('v');
    let found = releases
        .iter()
        .find(|r| r.id == release || r.version.to_string() == wanted)
        .ok_or_else(|| ApiError::not_found("release", &release))?;
    let users = json::users_named(state.store(), found.user_id.as_deref().into_iter()).await?;
    Ok(Json(json::release(found, &env, current, &users)))
}

/// The environment, its releases, and the version of the current one.
async fn releases_of(
    state: &AppState,
    name: &str,
) -> Result<(Environment, Vec<Release>, Option<i64>), ApiError> {
    let (env, _app) = find(state, name).await?;
    let current = state
        .store()
        .current_release(&env.id)
        .await?
        .map(|r| r.version);
    let releases = state.store().list_releases(&env.id).await?;
    Ok((env, releases, current))
}

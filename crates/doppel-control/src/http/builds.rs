//! `/apps/{app}/builds`: an environment's builds with their outcome.

use super::apps::find;
use super::error::ApiError;
use super::json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (env, _app) = find(&state, &name).await?;
    let builds = state.store().list_builds(&env.id).await?;
    let users = json::users_named(
        state.store(),
        builds.iter().filter_map(|b| b.user_id.as_deref()),
    )
    .await?;
    Ok(Json(Value::Array(
        builds
            .iter()
            .map(|b| json::build(b, &env, &users))
            .collect(),
    )))
}

pub async fn show(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (env, _app) = find(&state, &name).await?;
    match state.store().build(&id).await? {
        Some(b) if b.env_id == env.id => {
            let users = json::users_named(state.store(), b.user_id.as_deref().into_iter()).await?;
            Ok(Json(json::build(&b, &env, &users)))
        }
        _ => Err(ApiError::not_found("build", &id)),
    }
}

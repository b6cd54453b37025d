//! `GET`, `PUT` and `DELETE /apps/{env}/access-password` (a doppel extension): a private
//! environment's own access password for the router's Basic auth. `PUT` without a password
//! generates one and answers it once (`doppel access:password -a myapp-staging --generate`).

use super::body::Body;
use super::error::ApiError;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use doppel_api_types::access_password::{AccessPasswordInfo, AccessPasswordSet};
use doppel_api_types::common::NamedRef;
use doppel_control::logic::access_password::{self, AccessPasswordState};
use doppel_control::logic::Actor;
use doppel_control::state::AppState;

/// `GET /apps/{env}/access-password`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
) -> Result<Json<AccessPasswordInfo>, ApiError> {
    let found = access_password::show(&state, &actor, &env).await?;
    Ok(Json(info(&state, &found, None)))
}

/// `PUT /apps/{env}/access-password {password?}`.
pub async fn set(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
    Body(body): Body<AccessPasswordSet>,
) -> Result<Json<AccessPasswordInfo>, ApiError> {
    let (found, generated) =
        access_password::set(&state, &actor, &env, body.password.as_deref()).await?;
    Ok(Json(info(&state, &found, generated)))
}

/// `DELETE /apps/{env}/access-password`.
pub async fn remove(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
) -> Result<Json<AccessPasswordInfo>, ApiError> {
    let found = access_password::remove(&state, &actor, &env).await?;
    Ok(Json(info(&state, &found, None)))
}

fn info(
    state: &AppState,
    found: &AccessPasswordState,
    generated: Option<String>,
) -> AccessPasswordInfo {
    let env = &found.target.env;
    AccessPasswordInfo {
        app: NamedRef::new(&env.id, &env.name),
        web_url: state.urls().web_url(&env.name),
        private: env.private,
        set: found.password.is_some(),
        set_at: found.password.as_ref().map(|p| p.set_at.clone()),
        password: generated,
    }
}

//! `GET`, `PUT` and `DELETE /apps/{env}/allowed-ips` (a doppel extension): an environment's
//! IP allow-list, enforced by the router (`doppel access:ips`).

use super::body::Body;
use super::error::ApiError;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use doppel_api_types::allowed_ips::{AllowedIpsInfo, AllowedIpsSet};
use doppel_api_types::common::NamedRef;
use doppel_control::logic::allowed_ips::{self, AllowedIps};
use doppel_control::logic::Actor;
use doppel_control::state::AppState;

/// `GET /apps/{env}/allowed-ips`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
) -> Result<Json<AllowedIpsInfo>, ApiError> {
    Ok(Json(info(allowed_ips::show(&state, &actor, &env).await?)))
}

/// `PUT /apps/{env}/allowed-ips {networks}`.
pub async fn set(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
    Body(body): Body<AllowedIpsSet>,
) -> Result<Json<AllowedIpsInfo>, ApiError> {
    let set = allowed_ips::set(&state, &actor, &env, &body.networks).await?;
    Ok(Json(info(set)))
}

/// `DELETE /apps/{env}/allowed-ips`: everyone is admitted again.
pub async fn clear(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
) -> Result<Json<AllowedIpsInfo>, ApiError> {
    Ok(Json(info(
        allowed_ips::set(&state, &actor, &env, &[]).await?,
    )))
}

fn info(found: AllowedIps) -> AllowedIpsInfo {
    let env = &found.target.env;
    AllowedIpsInfo {
        app: NamedRef::new(&env.id, &env.name),
        networks: found.networks,
    }
}

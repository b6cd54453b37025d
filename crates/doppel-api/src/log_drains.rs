//! `/apps/{app}/log-drains`: where an environment's log is also sent (`syslog://`,
//! `syslog+tls://`, `https://`), as Heroku's drains.

use super::body::Body;
use super::error::ApiError;
use super::views;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use doppel_api_types::logs::{LogDrain, LogDrainCreate};
use doppel_control::logic::{logs, Actor};
use doppel_control::state::AppState;

/// `GET /apps/{app}/log-drains`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<Vec<LogDrain>>, ApiError> {
    let (access, drains) = logs::drains(&state, &actor, &app).await?;
    Ok(Json(
        drains
            .iter()
            .map(|d| views::log_drain(d, &access.env))
            .collect(),
    ))
}

/// `GET /apps/{app}/log-drains/{id, token or url}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, drain)): Path<(String, String)>,
) -> Result<Json<LogDrain>, ApiError> {
    let (access, drains) = logs::drains(&state, &actor, &app).await?;
    let found = drains
        .iter()
        .find(|d| d.id == drain || d.token == drain || d.url == drain)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Couldn't find that log drain.",
            )
        })?;
    Ok(Json(views::log_drain(found, &access.env)))
}

/// `POST /apps/{app}/log-drains {url}` → 201.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<LogDrainCreate>,
) -> Result<(StatusCode, Json<LogDrain>), ApiError> {
    let (access, drain) = logs::add_drain(&state, &actor, &app, &body.url).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::log_drain(&drain, &access.env)),
    ))
}

/// `DELETE /apps/{app}/log-drains/{id, token or url}`.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, drain)): Path<(String, String)>,
) -> Result<Json<LogDrain>, ApiError> {
    let (access, removed) = logs::remove_drain(&state, &actor, &app, &drain).await?;
    Ok(Json(views::log_drain(&removed, &access.env)))
}

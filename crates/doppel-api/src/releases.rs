//! `/apps/{app}/releases`: an environment's releases, by version.

use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use doppel_api_types::releases::Release;
use doppel_control::logic::{releases, Actor, LogicError};
use doppel_control::state::AppState;

const FIELDS: &[Field<Release>] = &[
    ("version", |r| SortKey::Num(r.version)),
    ("id", |r| SortKey::Text(r.id.clone())),
    ("created_at", |r| SortKey::Text(r.created_at.clone())),
];

/// `GET /apps/{app}/releases`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Release>, ApiError> {
    let (env, list, current) = releases::list(&state, &actor, &name).await?;
    let users = views::users_named(
        state.store(),
        list.iter().filter_map(|r| r.user_id.as_deref()),
    )
    .await
    .map_err(LogicError::from)?;
    let items = list
        .iter()
        .map(|r| views::release(r, &env, current, &users))
        .collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

/// `GET /apps/{app}/releases/{id or version}` (`v3` and `3` both name version 3).
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((name, release)): Path<(String, String)>,
) -> Result<Json<Release>, ApiError> {
    let (env, found, current) = releases::show(&state, &actor, &name, &release).await?;
    let users = views::users_named(state.store(), found.user_id.as_deref().into_iter())
        .await
        .map_err(LogicError::from)?;
    Ok(Json(views::release(&found, &env, current, &users)))
}

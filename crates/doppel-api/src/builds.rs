//! `/apps/{app}/builds`: an environment's builds with their outcome, the release each made
//! and the URL of its output.

use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use doppel_api_types::builds::Build;
use doppel_control::logic::{builds, Actor, LogicError};
use doppel_control::state::AppState;

const FIELDS: &[Field<Build>] = &[
    ("created_at", |b| SortKey::Text(b.created_at.clone())),
    ("id", |b| SortKey::Text(b.id.clone())),
];

pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Build>, ApiError> {
    let (env, list) = builds::list(&state, &actor, &name).await?;
    let users = views::users_named(
        state.store(),
        list.iter().filter_map(|b| b.build.user_id.as_deref()),
    )
    .await
    .map_err(LogicError::from)?;
    let items = list.iter().map(|b| views::build(b, &env, &users)).collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Build>, ApiError> {
    let (env, b) = builds::show(&state, &actor, &name, &id).await?;
    let users = views::users_named(state.store(), b.build.user_id.as_deref().into_iter())
        .await
        .map_err(LogicError::from)?;
    Ok(Json(views::build(&b, &env, &users)))
}

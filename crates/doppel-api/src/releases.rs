//! `/apps/{app}/releases`: an environment's releases, by version; their config snapshots;
//! rollbacks.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::releases::{Release, ReleaseCreate};
use doppel_control::logic::{releases, Actor, LogicError};
use doppel_control::state::AppState;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// `GET /apps/{app}/releases/{id or version}/config-vars`: the release's config snapshot.
pub async fn config_vars(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((name, release)): Path<(String, String)>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    Ok(Json(
        releases::config(&state, &actor, &name, &release).await?,
    ))
}

/// `POST /apps/{app}/releases {"release": id or version}`: a rollback, answered (201) once
/// the new release serves. doppel makes releases from builds, so `{"slug": …}` is refused.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
    Body(body): Body<ReleaseCreate>,
) -> Result<(StatusCode, Json<Release>), ApiError> {
    let target = match (&body.release, &body.slug) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(Value::Number(n)), _) => n.to_string(),
        (Some(other), _) => {
            return Err(ApiError::invalid(format!(
                "release must name a release by id or version, not {other}"
            )))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "doppel makes releases from builds (git push) and has no slugs; to roll back, send {\"release\": \"<id or version>\"}",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "Name the release to roll back to: {\"release\": \"<id or version>\"}",
            ))
        }
    };
    let made = releases::rollback(&state, &actor, &name, &target).await?;
    let (env, _, current) = releases::show(&state, &actor, &name, &made.id).await?;
    let users = views::users_named(state.store(), made.user_id.as_deref().into_iter())
        .await
        .map_err(LogicError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(views::release(&made, &env, current, &users)),
    ))
}

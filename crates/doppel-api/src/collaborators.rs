//! `/apps/{app}/collaborators`: who may use an environment. Granting through one
//! environment's name grants that environment; `both_environments: true` (a doppel
//! extension, also `?both_environments=true` on DELETE) covers both of the app's.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::collaborators::{Collaborator, CollaboratorCreate};
use doppel_control::logic::{collaborators, Actor};
use doppel_control::state::AppState;

const FIELDS: &[Field<Collaborator>] = &[
    ("email", |c| SortKey::Text(c.user.email.clone())),
    ("id", |c| SortKey::Text(c.id.clone())),
];

/// `GET /apps/{app}/collaborators`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Collaborator>, ApiError> {
    let (env, all) = collaborators::list(&state, &actor, &app).await?;
    let items = all.iter().map(|c| views::collaborator(c, &env)).collect();
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

/// `GET /apps/{app}/collaborators/{email|id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, who)): Path<(String, String)>,
) -> Result<Json<Collaborator>, ApiError> {
    let (env, found) = collaborators::show(&state, &actor, &app, &who).await?;
    Ok(Json(views::collaborator(&found, &env)))
}

/// `POST /apps/{app}/collaborators {user, silent?, both_environments?}` → 201.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<CollaboratorCreate>,
) -> Result<(StatusCode, Json<Collaborator>), ApiError> {
    let both = body.both_environments.unwrap_or(false);
    let (env, granted) = collaborators::grant(&state, &actor, &app, &body.user, both).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::collaborator(&granted, &env)),
    ))
}

/// The query of `DELETE /apps/{app}/collaborators/{who}`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RevokeQuery {
    #[serde(default)]
    both_environments: Option<bool>,
}

/// `DELETE /apps/{app}/collaborators/{email|id}`: the collaborator as they were.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, who)): Path<(String, String)>,
    Query(query): Query<RevokeQuery>,
) -> Result<Json<Collaborator>, ApiError> {
    let both = query.both_environments.unwrap_or(false);
    let (env, removed) = collaborators::revoke(&state, &actor, &app, &who, both).await?;
    Ok(Json(views::collaborator(&removed, &env)))
}

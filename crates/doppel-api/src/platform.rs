//! What the platform offers: `/regions` (one: this machine), `/stacks` (and an app's
//! `/available-stacks`), features (`/account/features`: none; `/apps/{app}/features`:
//! `http-session-affinity`, which `PATCH` turns on and off),
//! and the lists doppel keeps honestly empty for now (`/apps/{app}/addons`).

use super::body::Body;
use super::error::ApiError;
use super::views;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use doppel_api_types::platform::{Feature, Region, Stack};
use doppel_control::logic::{features, platform, stacks, Actor};
use doppel_control::state::AppState;
use serde::Deserialize;

/// `GET /regions`.
pub async fn regions(State(state): State<AppState>) -> Json<Vec<Region>> {
    Json(vec![views::region(&state.config().domain)])
}

/// `GET /regions/{id|name}`.
pub async fn region(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Region>, ApiError> {
    platform::region(&name)?;
    Ok(Json(views::region(&state.config().domain)))
}

/// `GET /stacks`.
pub async fn stacks(State(state): State<AppState>) -> Result<Json<Vec<Stack>>, ApiError> {
    let all = stacks::list(&state).await?;
    Ok(Json(all.iter().map(views::stack).collect()))
}

/// `GET /stacks/{id|name}` (an alias names its stack).
pub async fn stack(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Stack>, ApiError> {
    let found = stacks::show(&state, &name).await?;
    Ok(Json(views::stack(&found)))
}

/// `GET /apps/{app}/available-stacks`: every stack (an environment may build on any).
pub async fn available_stacks(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<Vec<Stack>>, ApiError> {
    let all = stacks::available(&state, &actor, &app).await?;
    Ok(Json(all.iter().map(views::stack).collect()))
}

/// `GET /account/features`: none.
pub async fn account_features(Extension(actor): Extension<Actor>) -> Json<Vec<Feature>> {
    Json(wire(platform::account_features(&actor)))
}

/// `GET /account/features/{name}`: none exist.
pub async fn account_feature(Path(name): Path<String>) -> Result<Json<Feature>, ApiError> {
    let found = platform::feature(&name)?;
    Ok(Json(wire_one(found)))
}

/// `GET /apps/{app}/features`: `http-session-affinity` (`logic::features`).
pub async fn app_features(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<Vec<Feature>>, ApiError> {
    let (_, found) = features::list(&state, &actor, &app).await?;
    Ok(Json(wire(found)))
}

/// `GET /apps/{app}/features/{name}`.
pub async fn app_feature(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Json<Feature>, ApiError> {
    let found = features::get(&state, &actor, &app, &name).await?;
    Ok(Json(wire_one(found)))
}

/// The body of `PATCH /apps/{app}/features/{name}`.
#[derive(Debug, Default, Deserialize)]
pub struct FeatureChange {
    enabled: Option<bool>,
}

/// `PATCH /apps/{app}/features/{name} {enabled}` (`heroku features:enable`).
pub async fn update_app_feature(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
    Body(change): Body<FeatureChange>,
) -> Result<Json<Feature>, ApiError> {
    let enabled = change
        .enabled
        .ok_or_else(|| ApiError::invalid("the body must say {\"enabled\": true} or false."))?;
    let found = features::set(&state, &actor, &app, &name, enabled).await?;
    Ok(Json(wire_one(found)))
}

fn wire(list: Vec<platform::Feature>) -> Vec<Feature> {
    list.into_iter().map(wire_one).collect()
}

fn wire_one(f: platform::Feature) -> Feature {
    Feature {
        id: f.name.clone(),
        display_name: Some(f.name.clone()),
        name: f.name,
        description: f.description,
        doc_url: None,
        enabled: f.enabled,
        state: "general".to_string(),
        feedback_email: None,
        created_at: None,
        updated_at: None,
    }
}

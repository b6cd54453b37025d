//! What the platform offers: `/regions` (one: this machine), `/stacks` (and an app's
//! `/available-stacks`), labs features (`/account/features`, `/apps/{app}/features`: none),
//! and the lists doppel keeps honestly empty for now (`/apps/{app}/addons`).

use super::error::ApiError;
use super::views;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use doppel_api_types::platform::{Feature, Region, Stack};
use doppel_control::logic::{platform, stacks, Actor};
use doppel_control::state::AppState;

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
    Json(features(platform::account_features(&actor)))
}

/// `GET /apps/{app}/features`: none.
pub async fn app_features(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<Vec<Feature>>, ApiError> {
    let (_, found) = platform::app_features(&state, &actor, &app).await?;
    Ok(Json(features(found)))
}

/// `GET /account/features/{name}`: none exist.
pub async fn account_feature(Path(name): Path<String>) -> Result<Json<Feature>, ApiError> {
    let found = platform::feature(&name)?;
    Ok(Json(features(vec![found]).remove(0)))
}

/// `GET /apps/{app}/features/{name}`: none exist (the app must be visible first).
pub async fn app_feature(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Json<Feature>, ApiError> {
    platform::app_features(&state, &actor, &app).await?;
    let found = platform::feature(&name)?;
    Ok(Json(features(vec![found]).remove(0)))
}

fn features(list: Vec<platform::Feature>) -> Vec<Feature> {
    list.into_iter()
        .map(|f| Feature {
            id: f.name.clone(),
            display_name: Some(f.name.clone()),
            name: f.name,
            description: f.description,
            doc_url: None,
            enabled: f.enabled,
            state: "beta".to_string(),
            feedback_email: None,
            created_at: None,
            updated_at: None,
        })
        .collect()
}

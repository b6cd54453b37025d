//! The Heroku-style Platform API: thin handlers, one file per resource, that check input,
//! call the store or a workflow, and shape the answer as Heroku does.

mod account;
mod apps;
mod auth;
mod builds;
mod error;
mod json;
mod releases;

pub use error::ApiError;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

/// The API routes, all behind token authentication.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/account", get(account::show))
        .route("/apps", get(apps::list).post(apps::create))
        .route("/users/{account}/apps", get(apps::list_for_user))
        .route("/apps/{app}", get(apps::show).delete(apps::destroy))
        .route("/apps/{app}/releases", get(releases::list))
        .route("/apps/{app}/releases/{release}", get(releases::show))
        .route("/apps/{app}/builds", get(builds::list))
        .route("/apps/{app}/builds/{build}", get(builds::show))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn(auth::check_accept))
        .with_state(state)
}

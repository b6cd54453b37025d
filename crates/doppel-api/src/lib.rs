//! doppel's Heroku-style Platform API: thin HTTP handlers, one file per resource, that read
//! the request, call the control plane's logic layer (`doppel_control::logic`), and shape
//! the answer with `doppel-api-types`. Conventions shared by every handler: [`auth`] (Accept,
//! tokens, `Request-Id`, `RateLimit-Remaining`), [`range`] (pagination), [`body`] (JSON
//! bodies), [`error`] (Heroku's error shape).

mod account;
mod apps;
mod auth;
mod body;
mod builds;
mod config_vars;
mod dyno_sizes;
mod error;
mod formation;
pub mod range;
mod releases;
mod streams;
mod views;

pub use error::ApiError;

use axum::routing::get;
use axum::Router;
use doppel_control::state::AppState;

/// The API routes, all behind token authentication except the output streams (capability
/// URLs, see [`streams`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/account", get(account::show))
        .route("/account/rate-limits", get(account::rate_limits))
        .route(
            "/users",
            get(account::list_users).post(account::create_user),
        )
        .route("/users/{account}", get(account::user))
        .route("/users/{account}/apps", get(apps::list_for_user))
        .route(
            "/oauth/authorizations",
            get(account::list_authorizations).post(account::create_authorization),
        )
        .route(
            "/oauth/authorizations/{id}",
            get(account::show_authorization).delete(account::revoke_authorization),
        )
        .route("/apps", get(apps::list).post(apps::create))
        .route("/apps/{app}", get(apps::show).delete(apps::destroy))
        .route(
            "/apps/{app}/releases",
            get(releases::list).post(releases::create),
        )
        .route("/apps/{app}/releases/{release}", get(releases::show))
        .route(
            "/apps/{app}/releases/{release}/config-vars",
            get(releases::config_vars),
        )
        .route("/apps/{app}/builds", get(builds::list))
        .route("/apps/{app}/builds/{build}", get(builds::show))
        .route(
            "/apps/{app}/config-vars",
            get(config_vars::show).patch(config_vars::update),
        )
        .route(
            "/apps/{app}/formation",
            get(formation::list).patch(formation::update_batch),
        )
        .route(
            "/apps/{app}/formation/{process}",
            get(formation::show).patch(formation::update_one),
        )
        .route("/apps/{app}/available-dyno-sizes", get(dyno_sizes::for_app))
        .route("/dyno-sizes", get(dyno_sizes::list))
        .route("/dyno-sizes/{size}", get(dyno_sizes::show))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn(auth::check_accept))
        .layer(axum::middleware::from_fn(auth::heroku_headers))
        .with_state(state.clone())
        // Capability URLs: the unguessable URL is the credential, as Heroku's streams.
        .merge(streams::router(state))
}

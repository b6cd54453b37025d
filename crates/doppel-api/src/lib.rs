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
mod dynos;
mod error;
mod log_drains;
mod log_sessions;
pub mod range;
mod releases;
mod views;

pub use error::ApiError;

use axum::routing::{get, post};
use axum::Router;
use doppel_control::state::AppState;

/// The API routes, all behind token authentication.
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
        .route("/apps/{app}/releases", get(releases::list))
        .route("/apps/{app}/releases/{release}", get(releases::show))
        .route("/apps/{app}/builds", get(builds::list))
        .route("/apps/{app}/builds/{build}", get(builds::show))
        .route(
            "/apps/{app}/dynos",
            get(dynos::list)
                .post(dynos::create)
                .delete(dynos::restart_all),
        )
        .route(
            "/apps/{app}/dynos/{dyno}",
            get(dynos::show).delete(dynos::restart),
        )
        .route("/apps/{app}/dynos/{dyno}/actions/stop", post(dynos::stop))
        .route(
            "/apps/{app}/formations/{process}",
            axum::routing::delete(dynos::restart_type),
        )
        .route(
            "/apps/{app}/formations/{process}/actions/stop",
            post(dynos::stop_type),
        )
        .route("/apps/{app}/log-sessions", post(log_sessions::create))
        .route(
            "/apps/{app}/log-drains",
            get(log_drains::list).post(log_drains::create),
        )
        .route(
            "/apps/{app}/log-drains/{drain}",
            get(log_drains::show).delete(log_drains::destroy),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn(auth::check_accept))
        .layer(axum::middleware::from_fn(auth::heroku_headers))
        .with_state(state.clone())
        // Log sessions' URLs are capabilities: the unguessable URL is the credential.
        .merge(log_sessions::router(state))
}

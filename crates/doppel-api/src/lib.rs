//! doppel's Heroku-style Platform API: thin HTTP handlers, one file per resource, that read
//! the request, call the control plane's logic layer (`doppel_control::logic`), and shape
//! the answer with `doppel-api-types`. Conventions shared by every handler: [`auth`] (Accept,
//! tokens, `Request-Id`, `RateLimit-Remaining`), [`range`] (pagination), [`body`] (JSON
//! bodies), [`error`] (Heroku's error shape).

mod account;
mod addon_views;
mod addons;
mod apps;
mod auth;
mod backups;
mod body;
mod builds;
mod error;
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
        // Add-ons (issue 11): Heroku's paths, then doppel's pg/redis extensions.
        .route("/addon-services", get(addons::services))
        .route("/addon-services/{service}", get(addons::service))
        .route("/addon-services/{service}/plans", get(addons::plans))
        .route("/addon-services/{service}/plans/{plan}", get(addons::plan))
        .route("/addons", get(addons::list_all))
        .route("/addons/{addon}", get(addons::show_any))
        .route(
            "/addons/{addon}/addon-attachments",
            get(addons::attachments_of_addon),
        )
        .route("/apps/{app}/addons", get(addons::list).post(addons::create))
        .route(
            "/apps/{app}/addons/{addon}",
            get(addons::show)
                .patch(addons::update)
                .delete(addons::destroy),
        )
        .route(
            "/apps/{app}/addon-attachments",
            get(addons::attachments_of_app),
        )
        .route(
            "/apps/{app}/addon-attachments/{name}",
            get(addons::attachment_of_app),
        )
        .route(
            "/addon-attachments",
            get(addons::attachments_all).post(addons::attach),
        )
        .route(
            "/addon-attachments/{id}",
            get(addons::attachment).delete(addons::detach),
        )
        .route("/actions/addons/resolve", post(addons::resolve))
        .route(
            "/actions/addon-attachments/resolve",
            post(addons::resolve_attachment),
        )
        .route("/apps/{app}/addon-info", get(addons::info))
        .route("/apps/{app}/addon-commands", post(addons::command))
        .route("/apps/{app}/addon-credentials/rotate", post(addons::rotate))
        .route(
            "/apps/{app}/backups",
            get(backups::list).post(backups::capture),
        )
        .route(
            "/apps/{app}/backups/{name}",
            get(backups::show).delete(backups::delete),
        )
        .route(
            "/apps/{app}/backups/{name}/download",
            get(backups::download),
        )
        .route("/apps/{app}/backup-restores", post(backups::restore))
        .route(
            "/apps/{app}/backup-schedules",
            get(backups::schedules)
                .put(backups::set_schedule)
                .delete(backups::unschedule),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn(auth::check_accept))
        .layer(axum::middleware::from_fn(auth::heroku_headers))
        .with_state(state)
}

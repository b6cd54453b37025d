//! doppel's web dashboard, served by the platform at `https://dashboard.<domain>/`: staging
//! and production side by side, promotion one click away, releases and rollback, config,
//! resources, activity, logs and access. Server-rendered pages (maud, checked at compile
//! time, escaping everything), one small script for live updates, every asset inside the
//! binary.
//!
//! It is a client of the same logic the API uses (`doppel_control::logic`): every action is
//! one the API and CLI have, done as an [`Actor`](doppel_control::logic::Actor) whose client
//! is `dashboard`. What is its own: sign-in with a password ([`session`]), cross-site request
//! protection ([`csrf`]), the wrong-password limit ([`limiter`]), security headers
//! ([`security`]), one-shot notices ([`flash`]) and the pages ([`pages`]).

mod assets;
mod csrf;
mod error;
mod flash;
mod host;
mod layout;
mod limiter;
mod live;
mod pages;
mod security;
mod session;
mod state;
mod viewer;

pub use host::with_dashboard;
pub use session::sweep_expired as sweep_sessions;
pub use state::Dashboard;

use axum::routing::{get, post};
use axum::Router;
use doppel_control::state::AppState;

/// The dashboard's routes (for the `dashboard.<domain>` host; see [`with_dashboard`]).
pub fn router(app: AppState) -> Router {
    let dash = Dashboard::new(app);
    Router::new()
        .route("/", get(pages::apps::index))
        .route(
            "/login",
            get(pages::login::form_page).post(pages::login::submit),
        )
        .route("/logout", post(pages::login::logout))
        .route("/apps/{app}", get(pages::pipeline::show))
        .route("/apps/{app}/live", get(pages::pipeline::live))
        .route("/apps/{app}/promote", post(pages::promote::start))
        .route("/apps/{app}/promotions/{id}", get(pages::promote::show))
        .route(
            "/apps/{app}/promotions/{id}/stream",
            get(pages::promote::stream),
        )
        .route("/apps/{app}/activity", get(pages::activity::show))
        .route("/envs/{env}/releases", get(pages::releases::show))
        .route(
            "/envs/{env}/releases/{version}/rollback",
            post(pages::releases::rollback),
        )
        .route(
            "/envs/{env}/builds/{build}/stream",
            get(pages::releases::build_stream),
        )
        .route(
            "/envs/{env}/config",
            get(pages::config::show).post(pages::config::set),
        )
        .route("/envs/{env}/config/remove", post(pages::config::remove))
        .route("/envs/{env}/resources", get(pages::resources::show))
        .route("/envs/{env}/resources/live", get(pages::resources::live))
        .route("/envs/{env}/formation", post(pages::resources::scale))
        .route("/envs/{env}/backups", post(pages::backups::capture))
        .route("/envs/{env}/backups/restore", post(pages::backups::restore))
        .route("/envs/{env}/logs", get(pages::logs::show))
        .route("/envs/{env}/logs/stream", get(pages::logs::stream))
        .route(
            "/envs/{env}/access",
            get(pages::access::show).post(pages::access::grant),
        )
        .route("/envs/{env}/access/remove", post(pages::access::revoke))
        .route("/users", get(pages::users::show).post(pages::users::create))
        .route("/certificates", get(pages::certificates::show))
        .route("/users/password", post(pages::users::reset_password))
        .route(
            "/account",
            get(pages::account::show).post(pages::account::change_password),
        )
        .route("/static/{file}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            dash.clone(),
            session::guard,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(dash)
}

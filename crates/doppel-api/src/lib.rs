//! doppel's Heroku-style Platform API: thin HTTP handlers, one file per resource, that read
//! the request, call the control plane's logic layer (`doppel_control::logic`), and shape
//! the answer with `doppel-api-types`. Conventions shared by every handler: [`auth`] (Accept,
//! tokens, `Request-Id`, `RateLimit-Remaining`), [`range`] (pagination), [`body`] (JSON
//! bodies), [`error`] (Heroku's error shape).

mod access_password;
mod account;
mod addon_views;
mod addons;
mod allowed_ips;
mod apps;
mod audit;
mod auth;
mod backups;
mod body;
mod builds;
mod collaborators;
mod config_vars;
mod domains;
mod dyno_sizes;
mod dynos;
mod error;
mod formation;
mod log_drains;
mod log_sessions;
mod parity;
mod passwords;
mod pipelines;
mod platform;
mod platform_certs;
mod promotions;
pub mod range;
mod releases;
mod sni_endpoints;
mod streams;
mod views;

pub use error::ApiError;

use axum::routing::{delete, get, post, put};
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
        .route("/users/{account}/password", put(passwords::set))
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
        .route(
            "/apps/{app}",
            get(apps::show).patch(apps::update).delete(apps::destroy),
        )
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
            delete(dynos::restart_type),
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
        .route("/apps/{app}/audit", get(audit::for_environment))
        .route(
            "/apps/{app}/pipeline-couplings",
            get(pipelines::show_coupling),
        )
        .route(
            "/pipelines",
            get(pipelines::list).post(pipelines::refuse_pipeline_change),
        )
        .route(
            "/pipelines/{pipeline}",
            get(pipelines::show)
                .patch(pipelines::refuse_pipeline_change)
                .delete(pipelines::refuse_pipeline_change),
        )
        .route(
            "/pipelines/{pipeline}/pipeline-couplings",
            get(pipelines::list_couplings),
        )
        .route(
            "/pipelines/{pipeline}/latest-releases",
            get(pipelines::latest_releases),
        )
        .route(
            "/pipelines/{pipeline}/direct-pushes",
            get(pipelines::direct_pushes).put(pipelines::set_direct_pushes),
        )
        .route("/pipelines/{pipeline}/parity", get(parity::show))
        .route("/pipelines/{pipeline}/parity/marks", post(parity::mark))
        .route(
            "/pipelines/{pipeline}/parity/marks/{aspect}/{item}",
            delete(parity::unmark),
        )
        .route("/pipelines/{pipeline}/promote", post(promotions::promote))
        .route("/pipelines/{pipeline}/audit", get(audit::for_pipeline))
        .route(
            "/pipeline-couplings",
            get(pipelines::all_couplings).post(pipelines::refuse_coupling_change),
        )
        .route(
            "/pipeline-couplings/{id}",
            get(pipelines::show_coupling)
                .patch(pipelines::refuse_coupling_change)
                .delete(pipelines::refuse_coupling_change),
        )
        .route("/pipeline-promotions", post(promotions::create))
        .route("/pipeline-promotions/{id}", get(promotions::show))
        .route(
            "/pipeline-promotions/{id}/promotion-targets",
            get(promotions::targets),
        )
        .route("/filters/apps", post(apps::filter))
        .route(
            "/apps/{app}/domains",
            get(domains::list).post(domains::create),
        )
        .route(
            "/apps/{app}/domains/{domain}",
            get(domains::show)
                .patch(domains::update)
                .delete(domains::destroy),
        )
        .route(
            "/apps/{app}/collaborators",
            get(collaborators::list).post(collaborators::create),
        )
        .route(
            "/apps/{app}/collaborators/{collaborator}",
            get(collaborators::show).delete(collaborators::destroy),
        )
        .route("/regions", get(platform::regions))
        .route("/regions/{region}", get(platform::region))
        .route("/stacks", get(platform::stacks))
        .route("/stacks/{stack}", get(platform::stack))
        .route(
            "/apps/{app}/available-stacks",
            get(platform::available_stacks),
        )
        .route("/account/features", get(platform::account_features))
        .route(
            "/account/features/{feature}",
            get(platform::account_feature),
        )
        .route("/apps/{app}/features", get(platform::app_features))
        .route(
            "/apps/{app}/features/{feature}",
            get(platform::app_feature).patch(platform::update_app_feature),
        )
        .route(
            "/apps/{app}/sni-endpoints",
            get(sni_endpoints::list).post(sni_endpoints::create),
        )
        .route(
            "/apps/{app}/sni-endpoints/{sni}",
            get(sni_endpoints::show)
                .patch(sni_endpoints::update)
                .delete(sni_endpoints::destroy),
        )
        .route(
            "/apps/{app}/acm",
            post(sni_endpoints::acm_enable)
                .patch(sni_endpoints::acm_refresh)
                .delete(sni_endpoints::acm_disable),
        )
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
        .route("/apps/{app}/addon-sessions", post(addons::session))
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
        .route(
            "/apps/{app}/access-password",
            get(access_password::show)
                .put(access_password::set)
                .delete(access_password::remove),
        )
        .route(
            "/apps/{app}/allowed-ips",
            get(allowed_ips::show)
                .put(allowed_ips::set)
                .delete(allowed_ips::clear),
        )
        .route("/platform-certs", get(platform_certs::list))
        // Unknown paths are behind authentication too: a caller without a token learns nothing.
        .fallback(no_such_route)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn(auth::check_accept))
        .layer(axum::middleware::from_fn(auth::heroku_headers))
        .with_state(state.clone())
        // Capability URLs: the unguessable URL is the credential, as Heroku's streams.
        .merge(streams::router(state.clone()))
        // Log sessions' URLs are capabilities too.
        .merge(log_sessions::router(state))
}

/// The answer to a path that is no route of the API (after authentication).
async fn no_such_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "doppel's API has no {}; see the Heroku Platform API reference for the paths it serves.",
            uri.path()
        ),
    )
}

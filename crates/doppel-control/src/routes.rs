//! The route table: built from the store (environments, their current releases, who may
//! see private ones, maintenance mode, custom domains) and the web dynos that are up (passed
//! their health check, not being stopped), and published whole to the router. The only
//! writer of the table.
//!
//! Custom domains get their certificate from the environment's uploaded ones (SNI endpoints)
//! when one covers them, else from ACME (`acme`); ACME's pending challenges ride along. With
//! `--platform-certs acme` the platform's own names (platform host, dashboard,
//! `<env>.<domain>`) carry their issued ACME certificates too (until one is issued, the
//! router's platform CA leaf serves); with `files`, the admin's certificate for `<domain>`
//! and `*.<domain>`, read again on every pass.
//!
//! An environment's `ERROR_PAGE_URL` and `MAINTENANCE_PAGE_URL` config vars (Heroku's) ride
//! in its route: the router frames them in its own pages for app errors and maintenance.
//!
//! An environment's backends are its current release's web dynos that are up; while none is
//! (a restart of doppel between a release's commit and its new dynos booting), the web
//! dynos of an earlier release that are still up keep serving.

use crate::state::AppState;
use crate::supervisor::observed::Observed;
use crate::supervisor::table::Phase;
use crate::workflows::dynos;
use doppel_router::{Backend, Certificate, CustomPages, Route, RouteStatus, RouteTable, Upstream};
use doppel_store::{Domain, Environment, Release};
use doppel_types::WEB_PORT;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the platform (API and git) listens for the router: `<data-dir>/platform.sock`.
pub fn platform_socket(data_dir: &Path) -> PathBuf {
    data_dir.join("platform.sock")
}

/// Builds the route table from the store and the running web dynos, and swaps it in whole.
pub async fn publish(state: &AppState) {
    match route_table(state).await {
        Ok(table) => state.routes().store(Arc::new(table)),
        Err(e) => {
            tracing::warn!(error = %e, "could not rebuild the route table; the router keeps the last one")
        }
    }
}

async fn route_table(state: &AppState) -> anyhow::Result<RouteTable> {
    let envs = state.store().list_environments().await?;
    let containers: Vec<Observed> = dynos::list(state)
        .await?
        .iter()
        .filter_map(Observed::read)
        .collect();
    let domains = state.store().all_domains().await?;
    let access_passwords = state.store().access_password_digests().await?;
    let allow_lists = state.store().all_allowed_ips().await?;
    let mut error_pages = state.store().config_var_of_all(ERROR_PAGE_URL).await?;
    let mut maintenance_pages = state
        .store()
        .config_var_of_all(MAINTENANCE_PAGE_URL)
        .await?;
    let mut routes = HashMap::new();
    let mut names = HashMap::new();
    for env in &envs {
        names.insert(env.name.clone(), env.id.clone());
        let current = state.store().current_release(&env.id).await?;
        // A release holding config only (no build yet) runs nothing: still "no release".
        let (backends, status) = match &current {
            Some(release) if release.has_image() => {
                web_dynos(state, env, release, &containers).await?
            }
            _ => (Vec::new(), RouteStatus::NoRelease),
        };
        // A private environment admits the tokens of the users with access to it, no others,
        // and its own access password if it has one.
        let private = if env.private {
            let mut digests = state
                .store()
                .env_token_digests(&env.app_id, &env.id)
                .await?;
            digests.extend(access_passwords.get(&env.id).cloned());
            Some(Arc::new(digests))
        } else {
            None
        };
        let route = Route {
            env: env.name.clone(),
            backends,
            status,
            private,
            maintenance: env.maintenance,
            session_affinity: env.session_affinity,
            allow_ips: allow_lists.get(&env.id).map(|l| allow_networks(l)),
            pages: CustomPages {
                error: usable_page(error_pages.remove(&env.id)),
                maintenance: usable_page(maintenance_pages.remove(&env.id)),
            },
        };
        // Custom domains reach the environment exactly as its own host name does.
        for domain in domains.iter().filter(|d| d.env_id == env.id) {
            routes.insert(domain.hostname.clone(), route.clone());
        }
        routes.insert(state.urls().env_host(&env.name), route);
    }
    state.logs().set_names(names);
    let mut certs = certificates(state, &domains).await?;
    certs.extend(platform_certificates(state, &envs).await?);
    Ok(RouteTable {
        routes,
        platform: Some(Upstream::Unix(platform_socket(&state.config().data_dir))),
        certs,
        challenges: state.acme().challenges(),
    })
}

/// Heroku's config vars naming an app's own pages for the router's app errors and for
/// maintenance mode (shown framed in the router's page).
const ERROR_PAGE_URL: &str = "ERROR_PAGE_URL";
const MAINTENANCE_PAGE_URL: &str = "MAINTENANCE_PAGE_URL";

/// The parsed networks of an environment's allow list (text the store holds was checked by
/// `logic::allowed_ips`; an entry that does not parse any more is left out, never widened to
/// everyone: the list stays).
fn allow_networks(stored: &[String]) -> Vec<ipnet::IpNet> {
    stored.iter().filter_map(|s| s.parse().ok()).collect()
}

/// A page URL from config, if the router may frame it (else its own page serves).
fn usable_page(url: Option<String>) -> Option<String> {
    url.as_deref()
        .and_then(CustomPages::usable)
        .map(str::to_string)
}

/// The certificates of custom domains: each environment's uploaded certificates for its own
/// domains they cover (never another environment's), then ACME's for domains none covers.
async fn certificates(state: &AppState, domains: &[Domain]) -> anyhow::Result<Vec<Certificate>> {
    let mut out = Vec::new();
    let mut covered: HashSet<&str> = HashSet::new();
    for e in state.store().all_sni_endpoints().await? {
        let Ok(info) = doppel_router::certs::inspect(&e.certificate_chain) else {
            tracing::warn!(sni_endpoint = %e.name, "a stored certificate does not parse; not served");
            continue;
        };
        let names: Vec<String> = domains
            .iter()
            .filter(|d| d.env_id == e.env_id)
            .filter(|d| {
                info.names
                    .iter()
                    .any(|n| doppel_router::certs::name_covers(n, &d.hostname))
            })
            .map(|d| d.hostname.clone())
            .collect();
        if names.is_empty() {
            continue;
        }
        covered.extend(
            domains
                .iter()
                .filter(|d| names.contains(&d.hostname))
                .map(|d| d.hostname.as_str()),
        );
        out.push(Certificate {
            id: e.id,
            names,
            chain_pem: e.certificate_chain,
            key_pem: e.private_key,
        });
    }
    for row in state.store().acme_certs().await? {
        if covered.contains(row.hostname.as_str()) {
            continue;
        }
        if let Some(cert) = issued(row) {
            out.push(cert);
        }
    }
    Ok(out)
}

/// The certificates of the platform's names: none with `--platform-certs ca` (the router's
/// CA leaves serve), the files' with `files`, else the issued ACME certificates of the names
/// wanted now (a destroyed environment's name is left out until its row goes).
async fn platform_certificates(
    state: &AppState,
    envs: &[Environment],
) -> anyhow::Result<Vec<Certificate>> {
    match state.config().acme.platform {
        crate::acme::settings::PlatformCerts::Ca => return Ok(Vec::new()),
        crate::acme::settings::PlatformCerts::Files => {
            return Ok(crate::acme::platform::files_certificate(state)
                .await
                .into_iter()
                .collect())
        }
        crate::acme::settings::PlatformCerts::Acme => {}
    }
    let names: HashSet<String> =
        crate::acme::platform::names(state.urls(), envs.iter().map(|e| e.name.as_str()))
            .into_iter()
            .collect();
    Ok(state
        .store()
        .platform_certs()
        .await?
        .into_iter()
        .filter(|row| names.contains(&row.hostname))
        .filter_map(issued)
        .collect())
}

/// The router's certificate for an ACME row that holds one.
fn issued(row: doppel_store::AcmeCert) -> Option<Certificate> {
    let id = match row.target.domain_id() {
        Some(domain_id) => format!("acme:{domain_id}"),
        None => format!("acme-platform:{}", row.hostname),
    };
    Some(Certificate {
        id,
        names: vec![row.hostname],
        chain_pem: row.certificate_chain?,
        key_pem: row.private_key?,
    })
}

/// The web dynos that serve `env` (see [`backends`]), and what to answer while there are
/// none: H14 when the formation runs no web dyno, H10 when the release's web dynos all
/// exited, else they are booting (requests wait for them).
async fn web_dynos(
    state: &AppState,
    env: &Environment,
    release: &Release,
    containers: &[Observed],
) -> anyhow::Result<(Vec<Backend>, RouteStatus)> {
    let backends = backends(state, containers, &env.id, &release.id);
    if !backends.is_empty() {
        return Ok((backends, RouteStatus::Up));
    }
    let formation = state.store().formation(&env.id).await?;
    let wants_web = formation
        .iter()
        .any(|f| f.process_type == "web" && f.quantity > 0);
    let web: Vec<&Observed> = containers
        .iter()
        .filter(|c| c.env_id == env.id && c.is_web() && c.release_id == release.id)
        .collect();
    let status = if !wants_web {
        RouteStatus::NoWebDynos
    } else if !web.is_empty() && web.iter().all(|c| !c.running && c.exit_code.is_some()) {
        RouteStatus::Crashed
    } else {
        RouteStatus::Booting
    };
    Ok((backends, status))
}

/// The addresses of `env_id`'s web dynos that are up: the current release's, else (none up
/// yet) an earlier release's still serving.
fn backends(
    state: &AppState,
    containers: &[Observed],
    env_id: &str,
    release_id: &str,
) -> Vec<Backend> {
    let table = &state.supervisor().table;
    let up: Vec<&Observed> = containers
        .iter()
        .filter(|c| c.env_id == env_id && c.is_web() && c.running)
        .filter(|c| table.get(&c.id).map(|d| d.phase) == Some(Phase::Up))
        .collect();
    let current: Vec<&&Observed> = up.iter().filter(|c| c.release_id == release_id).collect();
    let chosen: Vec<&Observed> = if current.is_empty() {
        up
    } else {
        current.into_iter().copied().collect()
    };
    chosen
        .iter()
        .filter_map(|c| {
            c.ip.map(|ip| Backend::new(SocketAddr::new(ip, WEB_PORT), &c.dyno))
        })
        .collect()
}

//! doppel-server: `doppel server`, the startup order that wires the store, Docker, the
//! stack, git, the control plane, the API and the dashboard together, finds or starts the
//! router process, and shuts down on SIGINT/SIGTERM (the router keeps serving apps).
//!
//! Order: data dir (taken with a lock, so a second server on it stops before changing
//! anything) → master key → store (migrations) → admin user and token → platform CA →
//! Docker and the stack images → interrupted builds, releases and rollouts marked failed →
//! the platform's socket → the router (found, upgraded or started) and the link that sends it
//! the route table → the one-off dynos' rendezvous listener → git → interrupted promotions
//! ended → add-on manifests, interrupted add-on work resumed, backup schedules → old shared
//! networks removed → images of current releases missing from the engine rebuilt from their
//! commits → first supervisor pass (networks, dynos, add-on servers and routes from the
//! store), then the supervisor in the background → log drains → serve the API and git on
//! the platform socket (the router's lines come back into the log streams).

mod router_process;

mod admin;

use anyhow::Context;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use doppel_control::push::PushDeployer;
use doppel_control::secrets;
use doppel_control::state::AppState;
use doppel_control::ServerConfig;
use doppel_docker::{ContainerRuntime, DockerRuntime};
use doppel_router::{ControlClient, LogSink, PlatformCa, RouteTable};
use doppel_store::Store;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

/// The exit status of a server that refuses to run with what it was given (EX_CONFIG): a
/// store a newer doppel migrated, `--platform-certs acme` on a domain no public CA issues
/// for. Restarting cannot help, so doppel.service does not (`RestartPreventExitStatus`).
pub const EXIT_CONFIG: u8 = 78;

/// The exit status `err` (a [`run`] failure, or a refused setting) calls for, when it is not
/// the generic 1: EX_CONFIG for a store a newer doppel migrated and for `--platform-certs
/// acme` on a domain no public CA issues for.
pub fn exit_code(err: &anyhow::Error) -> Option<u8> {
    err.chain()
        .any(|cause| {
            matches!(
                cause.downcast_ref::<doppel_store::StoreError>(),
                Some(doppel_store::StoreError::NewerSchema { .. })
            ) || cause.is::<doppel_control::acme::platform::DomainRefused>()
                || cause.is::<doppel_control::acme::files::FilesRefused>()
        })
        .then_some(EXIT_CONFIG)
}

/// Runs the platform until SIGINT or SIGTERM.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    doppel_router::install_crypto_provider();
    let urls = doppel_control::urls::Urls {
        domain: config.domain.clone(),
        https_port: config.https_port,
    };
    let _lock = doppel_control::datadir::take(&config.data_dir, &urls.platform())?;
    doppel_control::datadir::prepare(&config.data_dir)?;
    let key = secrets::load_or_create_master_key(&config.data_dir)?;
    let db_url = config.effective_database_url();
    let store = Store::open(&db_url, key)
        .await
        .with_context(|| format!("opening the database ({})", redact(&db_url)))?;
    let new_token = admin::ensure_admin(&store, &config).await?;
    // The router issues certificates with it; made here so it exists before the router starts.
    let ca = Arc::new(
        PlatformCa::load_or_create(&config.data_dir, &config.domain)
            .context("loading the platform CA")?,
    );

    let runtime: Arc<dyn ContainerRuntime> = Arc::new(
        DockerRuntime::connect()
            .await
            .context("connecting to the Docker engine (is dockerd running? see README)")?,
    );
    ensure_default_stack(runtime.as_ref(), &config.stacks).await?;
    // Builds and rollouts do not survive a restart: what was cut off is marked failed, and
    // the reconciler removes any dyno it had started.
    store.fail_interrupted_builds().await?;
    store.fail_interrupted_releases().await?;
    // A rollout cut off before its commit is unwound (the supervisor removes its dynos); one
    // cut off after it is finished by the supervisor.
    store
        .interrupt_rollouts("interrupted by a restart of doppel; the previous release kept serving")
        .await?;

    let platform_listener = bind_platform_socket(&config.data_dir)?;
    let rendezvous = bind(&config, config.rendezvous_port).await?;
    let router = ControlClient::for_data_dir(&config.data_dir);
    router_process::ensure(&config, &router).await?;
    let routes = RouteTable::default().into_shared();
    let instance_id = secrets::load_or_create_instance_id(&config.data_dir)?;
    let state = AppState::new(store, runtime, routes.clone(), config.clone(), instance_id);
    // The router's lines go into the environments' log streams.
    let sink: Arc<dyn LogSink> = state.router_feed().clone();
    doppel_control::router_link::spawn(router.clone(), routes.clone(), Some(sink));

    let hook = hook_command()?;
    let git = Arc::new(
        doppel_git::GitService::new(
            config.data_dir.join("repos"),
            hook,
            Arc::new(PushDeployer::new(state.clone())),
        )
        .with_max_push_bytes(config.max_push_bytes),
    );
    state.set_git(git.clone());
    for env in state.store().list_environments().await? {
        git.ensure_repo(&env.name).await?;
    }

    // Promotions cut off by the restart end now (their releases were just marked failed,
    // unless they had succeeded).
    doppel_control::logic::promotions::recover(&state).await;
    // Add-on providers: the built-in manifests and the admin's `<data-dir>/addons/*.toml`.
    let addon_dir = config.data_dir.join("addons");
    state.set_addon_catalog(
        doppel_addons::Catalog::with_admin_dir(&addon_dir)
            .with_context(|| format!("loading add-on manifests from {}", addon_dir.display()))?,
    );
    doppel_control::addons::supervisor::resume(&state).await;
    tokio::spawn(doppel_control::addons::schedule::run_forever(state.clone()));

    doppel_control::networks::remove_legacy(&state).await;
    doppel_control::reconcile::sweep_build_leftovers(&state).await;
    // After a restore (or a pruned engine): the images current releases run, built again
    // from their commits before the supervisor starts their dynos.
    doppel_control::workflows::rebuild::missing_images(&state).await;
    doppel_control::supervisor::run_once(&state).await;
    tokio::spawn(doppel_control::supervisor::run_forever(state.clone()));
    tokio::spawn(doppel_control::acme::run_forever(state.clone()));
    doppel_control::logic::logs::sync_drains(&state).await;
    // The table's certificates too: with `--platform-certs acme`, the platform host's.
    let acceptor = doppel_router::platform_tls_acceptor(
        ca,
        &config.domain,
        config.bind_addr,
        state.routes().clone(),
    )
    .context("setting up TLS for one-off dynos")?;
    tokio::spawn(doppel_control::dynos::attach::serve(
        state.clone(),
        rendezvous,
        acceptor,
    ));
    tokio::spawn(doppel_dashboard::sweep_sessions(state.clone()));

    let platform = doppel_dashboard::with_dashboard(
        doppel_api::router(state.clone()).merge(git.router()),
        doppel_dashboard::router(state.clone()),
        &state.urls().dashboard_host(),
    )
    .layer(axum::middleware::from_fn(client_address));
    // The first table (with the platform's address) reaches the router before we say "ready".
    doppel_control::router_link::publish_now(&router, &routes).await;
    announce(&config, new_token.is_some());
    axum::serve(platform_listener, platform)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving the API and git")?;
    tracing::info!(
        "doppel stopped; the router keeps serving apps (`doppel router --stop` stops it)"
    );
    Ok(())
}

/// Listens on a TCP port of the server's own (the one-off dynos' rendezvous).
async fn bind(config: &ServerConfig, port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(config.bind_addr, port);
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("listening on {addr}: is another server using the port? Choose another with --rendezvous-port")
    })
}

/// Listens on `<data-dir>/platform.sock` (0600): only the router (same user) reaches the API.
fn bind_platform_socket(data_dir: &Path) -> anyhow::Result<tokio::net::UnixListener> {
    let path = doppel_control::routes::platform_socket(data_dir);
    // A socket file left by an earlier run: the data-dir lock says no other server uses it.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)
        .with_context(|| format!("listening on {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("restricting {}", path.display()))?;
    Ok(listener)
}

/// The client's address, from the `X-Forwarded-For` the router appended (the platform socket
/// is reachable by the router only, so its last entry is the router's own view of the client).
async fn client_address(mut request: Request, next: Next) -> Response {
    let ip = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
    if let Some(ip) = ip {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    next.run(request).await
}

/// Makes the default stack's images when they are missing (a few minutes on first start),
/// printing debootstrap's and docker build's progress.
async fn ensure_default_stack(
    runtime: &dyn ContainerRuntime,
    stacks: &doppel_builder::StackCatalog,
) -> anyhow::Result<doppel_builder::StackImages> {
    let name = stacks.default_stack().name;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            eprintln!("stack {name}: {line}");
        }
    });
    let result = stacks.ensure(runtime, name, false, tx).await;
    let _ = printer.await;
    result.with_context(|| {
        format!("making the images of the default stack {name} (see `doppel stack build`)")
    })
}

/// The argv the repositories' pre-receive hook runs: this very binary's hidden subcommand.
fn hook_command() -> anyhow::Result<Vec<String>> {
    let exe = std::env::current_exe().context("finding the doppel binary for git hooks")?;
    Ok(vec![
        exe.display().to_string(),
        "git-hook".to_string(),
        "pre-receive".to_string(),
    ])
}

fn announce(config: &ServerConfig, new_token: bool) {
    let urls = doppel_control::urls::Urls {
        domain: config.domain.clone(),
        https_port: config.https_port,
    };
    let token_file = config.data_dir.join("admin-token");
    let ca = config.data_dir.join("ca.pem");
    if new_token {
        eprintln!(
            "Created the admin user; its API token is in {}",
            token_file.display()
        );
    }
    // The package's unit names the installed package's version (deploy/package.sh), so the
    // journal says which package an upgrade started.
    let package = std::env::var("DOPPEL_PACKAGE_VERSION").unwrap_or_default();
    let version = match package.as_str() {
        "" => env!("CARGO_PKG_VERSION").to_string(),
        p => format!("{} (package {p})", env!("CARGO_PKG_VERSION")),
    };
    eprintln!(
        "doppel {version} is serving {} (API and git), {} (the dashboard) and {}\n\
         Log in with:\n  export DOPPEL_HOST={} DOPPEL_CA_CERT={} DOPPEL_API_KEY=$(cat {})\n  doppel apps:create myapp\n\
         Sign in to the dashboard as {} with the password in {}",
        urls.platform(),
        urls.dashboard(),
        urls.web_url("<environment>"),
        urls.platform(),
        ca.display(),
        token_file.display(),
        config.admin_email,
        config.data_dir.join("admin-password").display(),
    );
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_store_too_new_has_its_own_exit_status() {
        let too_new: Result<(), doppel_store::StoreError> =
            Err(doppel_store::StoreError::NewerSchema {
                store_schema: 2,
                known_schema: 1,
                migrated_by: None,
            });
        let err = too_new.context("opening the database").unwrap_err();
        assert_eq!(exit_code(&err), Some(EXIT_CONFIG));
        let other: Result<(), doppel_store::StoreError> =
            Err(doppel_store::StoreError::Invalid("bad".to_string()));
        assert_eq!(exit_code(&other.context("opening").unwrap_err()), None);
        assert_eq!(exit_code(&anyhow::anyhow!("port taken")), None);
    }
}

//! doppel-server: `doppel server`, the startup order that wires the store, Docker, the
//! stack, git, the control plane, the API and the router together, and shutdown on
//! SIGINT/SIGTERM.
//!
//! Order: data dir (taken with a lock, so a second server on it stops before changing
//! anything) → master key → store (migrations) → admin user and token → platform CA →
//! Docker and the stack images → interrupted builds, releases and rollouts marked failed →
//! listeners (HTTPS, HTTP, one-off dynos' rendezvous) → git → interrupted promotions ended →
//! old shared networks removed → images of current releases missing from the engine
//! rebuilt from their commits → first supervisor pass (networks, dynos and routes from the
//! store), then the supervisor in the background → log drains → serve (the router reporting
//! to the control plane).

use anyhow::Context;
use doppel_control::push::PushDeployer;
use doppel_control::secrets;
use doppel_control::state::AppState;
use doppel_control::ServerConfig;
use doppel_docker::{ContainerRuntime, DockerRuntime};
use doppel_router::{PlatformCa, RouteTable, RouterConfig, RouterOptions};
use doppel_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

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
    let new_token = ensure_admin(&store, &config).await?;
    let ca = PlatformCa::load_or_create(&config.data_dir, &config.domain)
        .context("loading the platform CA")?;

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

    let https = bind(&config, config.https_port).await?;
    let http = bind(&config, config.http_port).await?;
    let rendezvous = bind(&config, config.rendezvous_port).await?;
    let routes = Arc::new(arc_swap::ArcSwap::from_pointee(RouteTable::default()));
    let instance_id = secrets::load_or_create_instance_id(&config.data_dir)?;
    let state = AppState::new(store, runtime, routes.clone(), config.clone(), instance_id);

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
        git.ensure_repo(&format!("{}.git", env.name)).await?;
    }

    // Promotions cut off by the restart end now (their releases were just marked failed,
    // unless they had succeeded).
    doppel_control::logic::promotions::recover(&state).await;
    doppel_control::networks::remove_legacy(&state).await;
    doppel_control::reconcile::sweep_build_leftovers(&state).await;
    // After a restore (or a pruned engine): the images current releases run, built again
    // from their commits before the supervisor starts their dynos.
    doppel_control::workflows::rebuild::missing_images(&state).await;
    doppel_control::supervisor::run_once(&state).await;
    tokio::spawn(doppel_control::supervisor::run_forever(state.clone()));
    doppel_control::logic::logs::sync_drains(&state).await;
    let ca = Arc::new(ca);
    let acceptor = doppel_router::tls_acceptor(ca.clone(), &config.domain, config.bind_addr)
        .context("setting up TLS for one-off dynos")?;
    tokio::spawn(doppel_control::dynos::attach::serve(
        state.clone(),
        rendezvous,
        acceptor,
    ));

    let platform = doppel_api::router(state.clone()).merge(git.router());
    announce(&config, new_token.is_some());
    let router_cfg = RouterConfig {
        domain: config.domain.clone(),
        https,
        http: Some(http),
        https_port: config.https_port,
        ca,
    };
    let options = RouterOptions {
        observer: doppel_router::Observer::new(state.router_feed().clone()),
        ..RouterOptions::default()
    };
    doppel_router::serve_with_options(router_cfg, platform, routes, shutdown_signal(), options)
        .await
        .context("serving")?;
    tracing::info!("doppel stopped");
    Ok(())
}

/// Creates the admin user and token on first start and writes the token to `admin-token`.
async fn ensure_admin(store: &Store, config: &ServerConfig) -> anyhow::Result<Option<String>> {
    let email = format!("admin@{}", config.domain);
    let created = store.ensure_admin(&email).await?;
    let Some((_user, token)) = created else {
        return Ok(None);
    };
    let path = config.data_dir.join("admin-token");
    secrets::write_private(&path, format!("{token}\n").as_bytes())?;
    Ok(Some(token))
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

async fn bind(config: &ServerConfig, port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(config.bind_addr, port);
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("listening on {addr}: is another server using the port? Choose another with --http-port/--https-port")
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
    eprintln!(
        "doppel is serving {} (API and git) and {}\n\
         Log in with:\n  export DOPPEL_HOST={} DOPPEL_CA_CERT={} DOPPEL_API_KEY=$(cat {})\n  doppel apps:create myapp",
        urls.platform(),
        urls.web_url("<environment>"),
        urls.platform(),
        ca.display(),
        token_file.display(),
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

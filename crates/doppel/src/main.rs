//! The `doppel` binary: `doppel server` runs the platform, `doppel stack build` makes the
//! stack images, and every other subcommand is the client CLI.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "doppel",
    version,
    about = "Twin staging and production environments, Heroku-style."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform: API, git, router, builds and dynos.
    Server(ServerArgs),
    /// Manage the stack images builds and dynos run on.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Internal: the pre-receive hook of doppel's git repositories.
    #[command(name = "git-hook", hide = true)]
    GitHook { hook: String },
    #[command(flatten)]
    Client(doppel_cli::Command),
}

#[derive(Subcommand)]
enum StackCommand {
    /// Build the run and build images from Debian's archive (debootstrap, then import).
    Build {
        /// Rebuild even when the images exist.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        stack: StackArgs,
    },
}

#[derive(Args)]
struct StackArgs {
    /// Run image dynos start from (made from Debian's archive when missing).
    #[arg(
        long,
        env = "DOPPEL_STACK_RUN_IMAGE",
        default_value = "doppel/heroku-24:latest"
    )]
    stack_run_image: String,
    /// Build image buildpacks run in.
    #[arg(
        long,
        env = "DOPPEL_STACK_BUILD_IMAGE",
        default_value = "doppel/heroku-24-build:latest"
    )]
    stack_build_image: String,
    /// Debian mirror the stack images are made from.
    #[arg(
        long,
        env = "DOPPEL_DEBIAN_MIRROR",
        default_value = "http://deb.debian.org/debian"
    )]
    debian_mirror: String,
}

impl StackArgs {
    fn config(self) -> doppel_builder::StackConfig {
        doppel_builder::StackConfig {
            run_image: self.stack_run_image,
            build_image: self.stack_build_image,
            mirror: self.debian_mirror,
            ..doppel_builder::StackConfig::default()
        }
    }
}

#[derive(Args)]
struct ServerArgs {
    /// Where state, repositories, caches, the CA and the admin token live.
    #[arg(long, env = "DOPPEL_DATA_DIR", default_value = "/var/lib/doppel")]
    data_dir: PathBuf,
    /// Platform domain: API at https://<domain>, environments at https://<env>.<domain>.
    #[arg(long, env = "DOPPEL_DOMAIN", default_value = "localhost")]
    domain: String,
    #[arg(long, env = "DOPPEL_HTTP_PORT", default_value_t = 80)]
    http_port: u16,
    #[arg(long, env = "DOPPEL_HTTPS_PORT", default_value_t = 443)]
    https_port: u16,
    /// postgres://… to keep state in PostgreSQL instead of SQLite in the data dir.
    #[arg(long, env = "DOPPEL_DATABASE_URL")]
    database_url: Option<String>,
    /// A CA bundle trusted inside builds (pip/npm behind a TLS-intercepting proxy).
    #[arg(long, env = "DOPPEL_BUILD_CA_BUNDLE")]
    build_ca_bundle: Option<PathBuf>,
    /// Longest a build may run, in seconds.
    #[arg(long, env = "DOPPEL_BUILD_TIMEOUT", default_value_t = 900)]
    build_timeout: u64,
    /// Largest compiled app accepted, in MiB.
    #[arg(long, env = "DOPPEL_MAX_SLUG_MB", default_value_t = 1024)]
    max_slug_mb: u64,
    /// Address to listen on.
    #[arg(long, env = "DOPPEL_BIND", default_value = "0.0.0.0")]
    bind: std::net::IpAddr,
    /// Memory one build may use, in MiB.
    #[arg(long, env = "DOPPEL_BUILD_MEMORY_MB", default_value_t = 2048)]
    build_memory_mb: u64,
    /// CPUs one build may use.
    #[arg(long, env = "DOPPEL_BUILD_CPUS", default_value_t = 2.0)]
    build_cpus: f64,
    /// Processes (and threads) one build may run at once.
    #[arg(long, env = "DOPPEL_BUILD_PIDS", default_value_t = 4096)]
    build_pids: u64,
    /// IPv4 range the environments' and builds' networks take their subnets from, with the
    /// size of each (`10.213.0.0/16:25`: /25 blocks). Must not overlap your own networks.
    #[arg(long, env = "DOPPEL_NETWORK_POOL", default_value = "10.213.0.0/16:25", value_parser = parse_pool)]
    network_pool: doppel_docker::SubnetPool,
    #[command(flatten)]
    stack: StackArgs,
}

fn parse_pool(text: &str) -> Result<doppel_docker::SubnetPool, String> {
    doppel_docker::SubnetPool::parse(text)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::GitHook { hook } = &cli.command {
        if hook != "pre-receive" {
            eprintln!("doppel git-hook: unknown hook {hook:?}");
            return ExitCode::from(2);
        }
        return ExitCode::from(u8::try_from(doppel_git::hook::main()).unwrap_or(1));
    }
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("doppel: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doppel: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Server(args) => doppel_server::run(server_config(args)).await,
        Command::Stack(StackCommand::Build { force, stack }) => {
            stack_build(force, stack.config()).await
        }
        Command::Client(cmd) => doppel_cli::run(cmd).await.map_err(anyhow::Error::from),
        Command::GitHook { .. } => Ok(()),
    }
}

fn server_config(args: ServerArgs) -> doppel_control::ServerConfig {
    let mut cfg = doppel_control::ServerConfig::with_defaults();
    cfg.data_dir = args.data_dir;
    cfg.domain = args.domain.to_ascii_lowercase();
    cfg.http_port = args.http_port;
    cfg.https_port = args.https_port;
    cfg.database_url = args.database_url;
    cfg.build_ca_bundle = args.build_ca_bundle;
    cfg.build_timeout = Duration::from_secs(args.build_timeout);
    cfg.max_slug_bytes = args.max_slug_mb.saturating_mul(1024 * 1024);
    cfg.bind_addr = args.bind;
    cfg.build_resources = doppel_docker::Limits {
        memory: Some(args.build_memory_mb.saturating_mul(1024 * 1024)),
        cpus: Some(args.build_cpus),
        pids: Some(args.build_pids),
    };
    cfg.network_pool = args.network_pool;
    cfg.stack = args.stack.config();
    cfg
}

async fn stack_build(force: bool, cfg: doppel_builder::StackConfig) -> anyhow::Result<()> {
    use doppel_docker::DockerRuntime;
    let runtime = DockerRuntime::connect().await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            println!("{line}");
        }
    });
    let images = doppel_builder::ensure_stack(&runtime, &cfg, force, tx).await;
    let _ = printer.await;
    let images = images?;
    println!(
        "stack ready: run image {} / build image {}",
        images.run_image, images.build_image
    );
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DOPPEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

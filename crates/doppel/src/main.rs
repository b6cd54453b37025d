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
    /// Make a stack's run and build images from Debian's archive (debootstrap, then import).
    Build {
        /// The stack (`doppel stack list` names them); the default stack when omitted.
        name: Option<String>,
        /// Every stack, one after the other.
        #[arg(long, conflicts_with = "name")]
        all: bool,
        /// Rebuild even when the images exist.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        stack: StackArgs,
    },
    /// List the stacks, their Debian suite, Pythons and images, and which are made.
    List {
        #[command(flatten)]
        stack: StackArgs,
    },
}

#[derive(Args)]
struct StackArgs {
    /// The stack new apps get (`doppel stack list` names them).
    #[arg(
        long,
        env = "DOPPEL_DEFAULT_STACK",
        default_value = doppel_builder::stack::catalog::DEFAULT_STACK
    )]
    default_stack: String,
    /// Debian mirror the stack images are made from.
    #[arg(
        long,
        env = "DOPPEL_DEBIAN_MIRROR",
        default_value = doppel_builder::stack::catalog::DEFAULT_MIRROR
    )]
    debian_mirror: String,
}

impl StackArgs {
    fn catalog(&self) -> anyhow::Result<doppel_builder::StackCatalog> {
        Ok(
            doppel_builder::StackCatalog::new(self.debian_mirror.clone())
                .with_default(&self.default_stack)?,
        )
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
    /// Base URL of a python-build-standalone mirror (`<URL>/latest-release.json`,
    /// `<URL>/<tag>/SHA256SUMS`, `<URL>/<tag>/cpython-…-install_only.tar.gz`): builds
    /// download a Python their stack lacks from it. Without it only the stacks' Pythons are used.
    #[arg(long, env = "DOPPEL_PYTHON_MIRROR")]
    python_mirror: Option<String>,
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
        Command::Server(args) => doppel_server::run(server_config(args)?).await,
        Command::Stack(StackCommand::Build {
            name,
            all,
            force,
            stack,
        }) => stack_build(stack.catalog()?, name, all, force).await,
        Command::Stack(StackCommand::List { stack }) => stack_list(stack.catalog()?).await,
        Command::Client(cmd) => doppel_cli::run(cmd).await.map_err(anyhow::Error::from),
        Command::GitHook { .. } => Ok(()),
    }
}

fn server_config(args: ServerArgs) -> anyhow::Result<doppel_control::ServerConfig> {
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
    cfg.stacks = args.stack.catalog()?;
    cfg.python_mirror = args
        .python_mirror
        .map(|url| url.trim_end_matches('/').to_string());
    Ok(cfg)
}

async fn stack_build(
    catalog: doppel_builder::StackCatalog,
    name: Option<String>,
    all: bool,
    force: bool,
) -> anyhow::Result<()> {
    use doppel_docker::DockerRuntime;
    let names: Vec<String> = match (all, name) {
        (true, _) => catalog
            .stacks()
            .iter()
            .map(|s| s.name.to_string())
            .collect(),
        (false, Some(name)) => vec![catalog.resolve(&name)?.name.to_string()],
        (false, None) => vec![catalog.default_stack().name.to_string()],
    };
    let runtime = DockerRuntime::connect().await?;
    for name in names {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
        let prefix = name.clone();
        let printer = tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                println!("{prefix}: {line}");
            }
        });
        let started = std::time::Instant::now();
        let images = catalog.ensure(&runtime, &name, force, tx).await;
        let _ = printer.await;
        let images = images?;
        println!(
            "stack {name} ready ({}s): run image {} / build image {}",
            started.elapsed().as_secs(),
            images.run_image,
            images.build_image
        );
    }
    Ok(())
}

async fn stack_list(catalog: doppel_builder::StackCatalog) -> anyhow::Result<()> {
    use doppel_docker::DockerRuntime;
    let runtime = DockerRuntime::connect().await?;
    println!(
        "{:<16} {:<9} {:<15} {:<7} {:<30} state",
        "stack", "suite", "python", "default", "run image"
    );
    for st in catalog.status(&runtime).await? {
        let python = st
            .spec
            .pythons
            .iter()
            .map(|p| match *p == st.spec.default_python {
                true => format!("{p}*"),
                false => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",");
        let aliases = match st.spec.aliases {
            [] => String::new(),
            a => format!(" (alias {})", a.join(", ")),
        };
        println!(
            "{:<16} {:<9} {:<15} {:<7} {:<30} {}{aliases}",
            st.spec.name,
            st.spec.suite,
            python,
            if st.default { "yes" } else { "" },
            st.spec.run_image(),
            if st.built { "made" } else { "not made" },
        );
    }
    println!("python: * marks the stack's default; Node.js: any release from the npm registry on every stack");
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

//! The `doppel` binary: `doppel server` runs the platform, `doppel stack build` makes the
//! stack images, `doppel admin:backup`/`admin:restore` save and restore its state, and every
//! other subcommand is the client CLI.

mod admin;
mod allocator;
mod config_file;
mod router;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use config_file::{ConfigFlags, Invocation};
use std::ffi::OsString;
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
    /// Run the platform: API, git, builds and dynos (and the router, unless one runs).
    Server(ServerArgs),
    /// Run the router (the TLS edge in front of apps and the API), or talk to the running one.
    Router(router::RouterArgs),
    /// Manage the stack images builds and dynos run on.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Back up doppel's own state (store, keys, CA, repositories) into one archive, while the
    /// server runs.
    #[command(name = "admin:backup")]
    AdminBackup(admin::BackupArgs),
    /// Restore a backup into an empty data directory (and empty store).
    #[command(name = "admin:restore")]
    AdminRestore(admin::RestoreArgs),
    /// Internal: the pre-receive hook of doppel's git repositories.
    #[command(name = "git-hook", hide = true)]
    GitHook { hook: String },
    #[command(flatten)]
    Client(doppel_cli::Command),
}

#[derive(Subcommand)]
enum StackCommand {
    /// Make a stack's run and build images from Debian's archive (debootstrap, then import).
    Build(StackBuildArgs),
    /// List the stacks, their Debian suite, Pythons and images, and which are made.
    List(StackListArgs),
}

/// `doppel stack build`; the server's config file supplies the stack settings (its other keys
/// are ignored).
#[derive(Args)]
struct StackBuildArgs {
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
    #[command(flatten)]
    config: ConfigFlags,
}

/// `doppel stack list`, with the stack settings of the server's config file.
#[derive(Args)]
struct StackListArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    config: ConfigFlags,
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

/// Each long flag is also a key of the config file (`--config`, see `config_file`).
#[derive(Args)]
struct ServerArgs {
    #[command(flatten)]
    config: ConfigFlags,
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
    /// TLS port clients attach to one-off dynos on (`doppel run`, Heroku's rendezvous).
    #[arg(long, env = "DOPPEL_RENDEZVOUS_PORT", default_value_t = 5000)]
    rendezvous_port: u16,
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
    /// `spawn`: start `doppel router` when none serves this data directory (it keeps serving
    /// when the server stops); `external`: one is started separately (doppel-router.service).
    #[arg(long, env = "DOPPEL_ROUTER", default_value = "spawn", value_parser = ["spawn", "external"])]
    router: String,
    /// Email of the admin user made on first start (its API token goes to
    /// <data-dir>/admin-token, its dashboard password to <data-dir>/admin-password).
    #[arg(long, env = "DOPPEL_ADMIN_EMAIL", default_value = "admin@localhost")]
    admin_email: String,
    /// Seconds added to the clock the backup scheduler reads: a test hook that makes days
    /// pass (0 in real use).
    #[arg(
        long,
        env = "DOPPEL_BACKUP_SCHEDULE_CLOCK_OFFSET",
        default_value_t = 0,
        hide = true
    )]
    backup_schedule_clock_offset: u64,
    #[command(flatten)]
    acme: Box<AcmeArgs>,
    #[command(flatten)]
    stack: StackArgs,
}

/// The `--acme-*` flags of `doppel server` (boxed: they would make `Command` lopsided).
#[derive(Debug, Clone, clap::Args)]
struct AcmeArgs {
    /// ACME directory URL that certificates of custom domains with ACM on (`certs:auto`)
    /// come from.
    #[arg(long, env = "DOPPEL_ACME_DIRECTORY", default_value = doppel_control::acme::LETS_ENCRYPT)]
    pub acme_directory: String,
    /// Contact email of the ACME account (expiry notices from the CA).
    #[arg(long, env = "DOPPEL_ACME_EMAIL")]
    pub acme_email: Option<String>,
    /// A PEM CA certificate to trust for the ACME directory's HTTPS (a private or test CA).
    #[arg(long, env = "DOPPEL_ACME_CA_FILE")]
    pub acme_ca_file: Option<PathBuf>,
    /// The ACME challenge asked for first: `http-01` (port 80) or `tls-alpn-01` (port 443);
    /// the other is used when the CA does not offer it.
    #[arg(long, env = "DOPPEL_ACME_CHALLENGE", default_value = "http-01", value_parser = ["http-01", "tls-alpn-01"])]
    pub acme_challenge: String,
    /// Renew ACME certificates when fewer than this many hours remain (default: 30 days or
    /// a third of the lifetime, whichever is shorter).
    #[arg(long, env = "DOPPEL_ACME_RENEW_BEFORE_HOURS")]
    pub acme_renew_before_hours: Option<u64>,
    /// Certificates of the platform's own names (the platform host, dashboard.<domain>,
    /// <env>.<domain>): `ca` (the platform CA's, which clients must trust), `acme` (one
    /// publicly trusted certificate per name from --acme-directory; needs a public --domain)
    /// or `files` (your certificate for <domain> and *.<domain>, --platform-cert-file).
    #[arg(long, env = "DOPPEL_PLATFORM_CERTS", default_value = "ca", value_parser = ["ca", "acme", "files"])]
    pub platform_certs: String,
    /// With `--platform-certs files`: the PEM certificate chain (leaf first) for <domain> and
    /// *.<domain>, read again at least every 30 s (a renewal needs no restart).
    #[arg(long, env = "DOPPEL_PLATFORM_CERT_FILE")]
    pub platform_cert_file: Option<PathBuf>,
    /// With `--platform-certs files`: the PEM private key of --platform-cert-file.
    #[arg(long, env = "DOPPEL_PLATFORM_KEY_FILE")]
    pub platform_key_file: Option<PathBuf>,
}

fn parse_pool(text: &str) -> Result<doppel_docker::SubnetPool, String> {
    doppel_docker::SubnetPool::parse(text)
}

fn main() -> ExitCode {
    let cli = parse_cli();
    if matches!(cli.command, Command::Server(_) | Command::Router(_)) {
        allocator::ensure_options();
    }
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
            // `doppel run` ends with the exit code of the command it ran.
            if let Some(code) = e
                .downcast_ref::<doppel_cli::CliError>()
                .and_then(doppel_cli::CliError::exit_code)
            {
                return ExitCode::from(code);
            }
            eprintln!("doppel: {e:#}");
            // A refusal a restart cannot fix has its own status, which systemd does not retry.
            doppel_server::exit_code(&e).map_or(ExitCode::FAILURE, ExitCode::from)
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Server(_) => {
            let invocation =
                Invocation::<ServerArgs>::parse("server", &subcommand_argv(&["server"]))?;
            let Some(args) = settings(&invocation, "server")? else {
                return Ok(());
            };
            doppel_server::run(server_config(args)?).await
        }
        Command::Stack(StackCommand::Build(_)) => {
            let invocation = Invocation::<StackBuildArgs>::parse(
                "build",
                &subcommand_argv(&["stack", "build"]),
            )?
            .file_keys_of::<ServerArgs>("server");
            let Some(args) = settings(&invocation, "stack build")? else {
                return Ok(());
            };
            stack_build(args.stack.catalog()?, args.name, args.all, args.force).await
        }
        Command::Stack(StackCommand::List(_)) => {
            let invocation =
                Invocation::<StackListArgs>::parse("list", &subcommand_argv(&["stack", "list"]))?
                    .file_keys_of::<ServerArgs>("server");
            let Some(args) = settings(&invocation, "stack list")? else {
                return Ok(());
            };
            stack_list(args.stack.catalog()?).await
        }
        Command::Router(_) => {
            let invocation =
                Invocation::<router::RouterArgs>::parse("router", &subcommand_argv(&["router"]))?
                    .file_keys_of::<ServerArgs>("server");
            let Some(args) = settings(&invocation, "router")? else {
                return Ok(());
            };
            router::run(args).await
        }
        Command::AdminBackup(_) => {
            let invocation = Invocation::<admin::BackupArgs>::parse(
                "admin:backup",
                &subcommand_argv(&["admin:backup"]),
            )?
            .file_keys_of::<ServerArgs>("server");
            match settings(&invocation, "admin:backup")? {
                Some(args) => admin::backup(args).await,
                None => Ok(()),
            }
        }
        Command::AdminRestore(_) => {
            let invocation = Invocation::<admin::RestoreArgs>::parse(
                "admin:restore",
                &subcommand_argv(&["admin:restore"]),
            )?
            .file_keys_of::<ServerArgs>("server");
            match settings(&invocation, "admin:restore")? {
                Some(args) => admin::restore(args).await,
                None => Ok(()),
            }
        }
        Command::Client(doppel_cli::Command::Completions(args)) => {
            // The whole command, `server` and `stack` included.
            use clap::CommandFactory;
            doppel_cli::completions::write(args.shell, &mut Cli::command(), &mut std::io::stdout());
            Ok(())
        }
        Command::Client(cmd) => doppel_cli::run(cmd).await.map_err(anyhow::Error::from),
        Command::GitHook { .. } => Ok(()),
    }
}

/// The command line, with the environment left to `config_file` for the subcommands that
/// read the config file: it reads `DOPPEL_*` itself and names a bad variable as such.
fn parse_cli() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command()
        .mut_subcommand("server", config_file::env_in_help_only)
        .mut_subcommand("router", config_file::env_in_help_only)
        .mut_subcommand("admin:backup", config_file::env_in_help_only)
        .mut_subcommand("admin:restore", config_file::env_in_help_only)
        .mut_subcommand("stack", |stack| {
            stack
                .mut_subcommand("build", config_file::env_in_help_only)
                .mut_subcommand("list", config_file::env_in_help_only)
        })
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The process's arguments from the (sub)subcommand's name on: `["stack", "build"]` turns
/// `doppel stack build --force` into `build --force`.
fn subcommand_argv(path: &[&str]) -> Vec<OsString> {
    let mut args = std::env::args_os().skip(1).peekable();
    for (i, name) in path.iter().enumerate() {
        while args.peek().is_some_and(|a| a != name) {
            args.next();
        }
        if i + 1 < path.len() {
            args.next();
        }
    }
    args.collect()
}

/// The subcommand's arguments with the environment and the config file layered in; `None`
/// when `--print-config` asked only to see them (they are printed).
fn settings<T: Args + clap::FromArgMatches>(
    invocation: &Invocation<T>,
    command: &str,
) -> anyhow::Result<Option<T>> {
    let resolved = config_file::load(invocation, &|name| std::env::var_os(name))
        .context("working out the settings")?;
    if resolved.print_config {
        print!("{}", resolved.to_toml(command));
        return Ok(None);
    }
    match &resolved.file {
        Some(path) => tracing::info!(file = %path.display(), "settings read from the config file"),
        None => tracing::info!(
            file = %invocation.location(&|name| std::env::var_os(name)).path.display(),
            "no config file; settings come from flags, environment and defaults"
        ),
    }
    Ok(Some(resolved.args))
}

fn server_config(args: ServerArgs) -> anyhow::Result<doppel_control::ServerConfig> {
    let mut cfg = doppel_control::ServerConfig::with_defaults();
    cfg.data_dir = args.data_dir;
    cfg.domain = args.domain.to_ascii_lowercase();
    cfg.http_port = args.http_port;
    cfg.https_port = args.https_port;
    cfg.rendezvous_port = args.rendezvous_port;
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
    cfg.spawn_router = args.router == "spawn";
    cfg.admin_email = args.admin_email.trim().to_string();
    let acme = *args.acme;
    cfg.acme = doppel_control::acme::AcmeSettings {
        directory: acme.acme_directory,
        email: acme.acme_email.filter(|e| !e.trim().is_empty()),
        ca_file: acme.acme_ca_file,
        challenge: doppel_control::acme::ChallengeKind::parse(&acme.acme_challenge)
            .unwrap_or(doppel_control::acme::ChallengeKind::Http01),
        renew_before: acme
            .acme_renew_before_hours
            .map(|h| Duration::from_secs(h.saturating_mul(3600))),
        platform: doppel_control::acme::PlatformCerts::parse(&acme.platform_certs)
            .unwrap_or_default(),
        platform_files: None,
    };
    match cfg.acme.platform {
        doppel_control::acme::PlatformCerts::Acme => {
            doppel_control::acme::platform::check_domain(&cfg.domain)?;
        }
        doppel_control::acme::PlatformCerts::Files => {
            let files = platform_cert_files(
                acme.platform_cert_file.clone(),
                acme.platform_key_file.clone(),
            )?;
            doppel_control::acme::files::check(&files, &cfg.domain)?;
            cfg.acme.platform_files = Some(files);
        }
        doppel_control::acme::PlatformCerts::Ca => {}
    }
    if cfg.acme.platform_files.is_none()
        && (acme.platform_cert_file.is_some() || acme.platform_key_file.is_some())
    {
        return Err(doppel_control::acme::files::FilesRefused::new(
            "--platform-cert-file and --platform-key-file are used only with --platform-certs \
             files; set it, or remove them",
        )
        .into());
    }
    cfg.backup_schedule_clock_offset = Duration::from_secs(args.backup_schedule_clock_offset);
    Ok(cfg)
}

/// Both files of `--platform-certs files`, or why not.
fn platform_cert_files(
    chain: Option<PathBuf>,
    key: Option<PathBuf>,
) -> Result<doppel_control::acme::CertFiles, doppel_control::acme::files::FilesRefused> {
    match (chain, key) {
        (Some(chain), Some(key)) => Ok(doppel_control::acme::CertFiles { chain, key }),
        _ => Err(doppel_control::acme::files::FilesRefused::new(
            "--platform-certs files needs --platform-cert-file (the PEM certificate chain for \
             the domain and its wildcard) and --platform-key-file (its private key)",
        )),
    }
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
        // rustls warns once per handshake about what clients send (an IP address as SNI, as
        // wrk and many scanners do): clients' faults, not the operator's, and a flood.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rustls=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use config_file::{FileText, Origin};
    use std::path::Path;

    const SHIPPED: &str = include_str!("../../../deploy/debian/doppel.toml");

    fn server(args: &[&str], env: &[(&str, &str)], file: Option<&str>) -> ServerArgs {
        let argv: Vec<OsString> = std::iter::once("server")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let env: Vec<(String, OsString)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let file = file.map(|text| FileText {
            path: Path::new("/etc/doppel/doppel.toml"),
            text,
        });
        let inv = Invocation::<ServerArgs>::parse("server", &argv).expect("parse");
        match inv.resolve(&lookup, file) {
            Ok(r) => r.args,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn server_flags_beat_environment_beat_file_beat_defaults() {
        let file = "http-port = 8080\ndomain = \"file.example\"\nbuild-timeout = 60\n";
        let env = [
            ("DOPPEL_HTTP_PORT", "9090"),
            ("DOPPEL_DOMAIN", "env.example"),
        ];
        let cfg =
            server_config(server(&["--domain", "Flag.Example"], &env, Some(file))).expect("config");
        assert_eq!(cfg.domain, "flag.example");
        assert_eq!(cfg.http_port, 9090);
        assert_eq!(cfg.build_timeout, Duration::from_secs(60));
        assert_eq!(cfg.https_port, 443);
        assert_eq!(cfg.data_dir, PathBuf::from("/var/lib/doppel"));
    }

    #[test]
    fn the_top_level_parse_leaves_variables_to_the_config_file_but_names_them() {
        use clap::CommandFactory;
        let cmd = config_file::env_in_help_only(ServerArgs::augment_args(clap::Command::new("s")));
        for arg in cmd.get_arguments().filter(|a| a.get_long().is_some()) {
            assert!(
                arg.get_env().is_none(),
                "{:?} still reads its variable",
                arg.get_id()
            );
        }
        let help = cmd.clone().render_help().to_string();
        assert!(help.contains("[env: DOPPEL_DATA_DIR]"), "{help}");
        assert!(help.contains("[env: DOPPEL_HTTPS_PORT]"), "{help}");
        // The whole CLI still builds with both subcommands changed.
        Cli::command()
            .mut_subcommand("server", config_file::env_in_help_only)
            .debug_assert();
    }

    /// `admin:backup`/`admin:restore` find the data directory and store where the server's
    /// config file puts them, and accept (ignore) its other keys.
    #[test]
    fn admin_commands_read_the_servers_config_file() {
        let file = "data-dir = \"/srv/doppel\"\nhttp-port = 8080\n";
        let argv: Vec<OsString> = ["admin:backup", "/tmp/b.tgz"].map(OsString::from).into();
        let inv = Invocation::<admin::BackupArgs>::parse("admin:backup", &argv)
            .expect("parse")
            .file_keys_of::<ServerArgs>("server");
        let none = |_: &str| None;
        let file = FileText {
            path: Path::new("/etc/doppel/doppel.toml"),
            text: file,
        };
        let args = match inv.resolve(&none, Some(file)) {
            Ok(r) => r.args,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(args.data.data_dir, PathBuf::from("/srv/doppel"));
        assert_eq!(args.data.database_url, None);
        assert_eq!(args.file, PathBuf::from("/tmp/b.tgz"));
        let argv: Vec<OsString> = ["admin:restore", "b.tgz", "--data-dir", "/x"]
            .map(OsString::from)
            .into();
        let inv = Invocation::<admin::RestoreArgs>::parse("admin:restore", &argv).expect("parse");
        let args = inv.resolve(&none, None).expect("resolve").args;
        assert_eq!(args.data.data_dir, PathBuf::from("/x"));
    }

    #[test]
    fn every_key_of_the_brief_is_a_server_key() {
        let keys = config_file::key_names::<ServerArgs>();
        for key in [
            "data-dir",
            "domain",
            "http-port",
            "https-port",
            "database-url",
            "build-ca-bundle",
            "build-timeout",
            "max-slug-mb",
            "bind",
            "default-stack",
            "debian-mirror",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
        }
    }

    /// deploy/debian/doppel.toml (installed as /etc/doppel/doppel.toml) documents every key,
    /// and its commented values are the defaults (or valid examples for keys without one).
    #[test]
    fn the_shipped_config_file_documents_every_key_with_its_default() {
        let commented: Vec<(&str, &str)> = SHIPPED
            .lines()
            .filter_map(|l| l.strip_prefix('#')?.split_once(" = "))
            .filter(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .collect();
        for key in config_file::key_names::<ServerArgs>() {
            assert!(
                commented.iter().any(|(k, _)| *k == key),
                "deploy/debian/doppel.toml does not mention `{key}`: add a commented \
                 `#{key} = <default>` line with a sentence about it"
            );
        }
        let uncommented: String = commented
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect();
        let argv = [OsString::from("server")];
        let inv = Invocation::<ServerArgs>::parse("server", &argv).expect("parse");
        let none = |_: &str| None;
        let defaults = inv.resolve(&none, None).expect("defaults");
        let file = FileText {
            path: Path::new("deploy/debian/doppel.toml"),
            text: &uncommented,
        };
        let shipped = match inv.resolve(&none, Some(file)) {
            Ok(r) => r,
            Err(e) => panic!("the commented lines of deploy/debian/doppel.toml: {e}"),
        };
        for (d, s) in defaults.settings.iter().zip(&shipped.settings) {
            assert_eq!(s.origin, Origin::File, "{}", s.key);
            if !d.values.is_empty() {
                assert_eq!(
                    d.values, s.values,
                    "deploy/debian/doppel.toml shows a default of `{}` that is not the flag's",
                    d.key
                );
            }
        }
    }
}

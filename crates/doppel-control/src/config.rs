//! The server's settings, with the defaults `doppel server` starts from.

use std::path::PathBuf;
use std::time::Duration;

/// Everything `doppel server` needs to start. The binary fills it from flags and `DOPPEL_*`
/// environment variables.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// State, repositories, build caches, the CA and the admin token live here.
    pub data_dir: PathBuf,
    /// Platform domain: the API at `https://<domain>`, environments at `https://<env>.<domain>`.
    pub domain: String,
    pub http_port: u16,
    pub https_port: u16,
    /// `postgres://…` to keep state in PostgreSQL; SQLite in the data dir when absent.
    pub database_url: Option<String>,
    /// A CA bundle trusted inside build containers (for pip/npm behind a TLS-intercepting proxy).
    pub build_ca_bundle: Option<PathBuf>,
    /// Longest a build may run before it is stopped and the push rejected.
    pub build_timeout: Duration,
    /// Largest compiled `/app` (or Dockerfile image) accepted.
    pub max_slug_bytes: u64,
    /// Memory, CPUs and processes one build may use.
    pub build_resources: doppel_docker::Limits,
    /// The range environment and build networks take their subnets from.
    pub network_pool: doppel_docker::SubnetPool,
    /// Largest git push body accepted.
    pub max_push_bytes: u64,
    /// How long a new web dyno has to accept connections on `$PORT` (Heroku's R10 is 60 s).
    pub boot_timeout: Duration,
    /// Address the listeners bind to.
    pub bind_addr: std::net::IpAddr,
    /// The TLS port clients attach to one-off dynos on (`rendezvous://<domain>:<port>/…`).
    pub rendezvous_port: u16,
    /// The stacks builds and dynos run on, the default one for new apps, and the Debian
    /// mirror they are made from (the default stack is made on first start).
    pub stacks: doppel_builder::StackCatalog,
    /// Where builds may download Python runtimes a stack does not carry
    /// (python-build-standalone's layout); without it only the stacks' Pythons are used.
    pub python_mirror: Option<String>,
    /// Start `doppel router` when none serves the data directory (false: a separate service
    /// runs it).
    pub spawn_router: bool,
    /// The email of the admin user made on first start (`admin@localhost`).
    pub admin_email: String,
    /// ACME (`--acme-directory`, `--acme-email`, `--acme-ca-file`, `--acme-challenge`,
    /// `--acme-renew-before`).
    pub acme: crate::acme::settings::AcmeSettings,
    /// Added to the clock the backup scheduler reads (tests prove schedules across days
    /// with it; 0 in real use).
    pub backup_schedule_clock_offset: Duration,
}

impl ServerConfig {
    /// The defaults of a fresh install: `/var/lib/doppel`, `localhost`, ports 80 and 443.
    pub fn with_defaults() -> ServerConfig {
        ServerConfig {
            data_dir: PathBuf::from("/var/lib/doppel"),
            domain: "localhost".to_string(),
            http_port: 80,
            https_port: 443,
            database_url: None,
            build_ca_bundle: None,
            build_timeout: Duration::from_secs(15 * 60),
            max_slug_bytes: 1024 * 1024 * 1024,
            build_resources: doppel_builder::BuildLimits::default().resources,
            network_pool: doppel_docker::SubnetPool::default_pool(),
            max_push_bytes: 1024 * 1024 * 1024,
            boot_timeout: Duration::from_secs(60),
            bind_addr: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            rendezvous_port: 5000,
            stacks: doppel_builder::StackCatalog::default(),
            python_mirror: None,
            spawn_router: true,
            admin_email: "admin@localhost".to_string(),
            acme: crate::acme::settings::AcmeSettings::default(),
            backup_schedule_clock_offset: Duration::ZERO,
        }
    }

    /// The database URL actually used: the configured one, or SQLite in the data dir.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("doppel.db").display()),
        }
    }
}

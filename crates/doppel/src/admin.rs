//! `doppel admin:backup FILE` and `doppel admin:restore FILE`: doppel's own state, on the data
//! directory (and store) that `doppel server` uses, read from the same flags, `DOPPEL_*`
//! variables and config file. The work is `doppel_control::admin`.

use crate::config_file::ConfigFlags;
use clap::Args;
use std::path::PathBuf;

/// `doppel admin:backup FILE`, run while the server runs or not.
#[derive(Args)]
pub struct BackupArgs {
    /// The archive to write (tar + gzip, mode 0600); replaced if it exists.
    pub file: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub config: ConfigFlags,
}

/// `doppel admin:restore FILE`, with no server running on the data directory.
#[derive(Args)]
pub struct RestoreArgs {
    /// An archive written by `doppel admin:backup`.
    pub file: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub config: ConfigFlags,
}

/// Where the installation's state is: the server's own keys of the same names.
#[derive(Args)]
pub struct DataArgs {
    /// The server's data directory (restore: an empty or missing one).
    #[arg(long, env = "DOPPEL_DATA_DIR", default_value = "/var/lib/doppel")]
    pub data_dir: PathBuf,
    /// postgres://… when the server keeps its state in PostgreSQL (restore: an empty database).
    #[arg(long, env = "DOPPEL_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DataArgs {
    fn database_url(&self) -> String {
        let mut cfg = doppel_control::ServerConfig::with_defaults();
        cfg.data_dir = self.data_dir.clone();
        cfg.database_url = self.database_url.clone();
        cfg.effective_database_url()
    }
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let manifest = doppel_control::admin::backup::backup(
        &args.data.data_dir,
        &args.data.database_url(),
        &args.file,
    )
    .await?;
    println!(
        "Backed up {} ({} store, schema {}, {} files) to {}",
        args.data.data_dir.display(),
        manifest.store_backend,
        manifest.schema_version,
        manifest.files.len(),
        args.file.display()
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let manifest = doppel_control::admin::restore::restore(
        &args.file,
        &args.data.data_dir,
        &args.data.database_url(),
    )
    .await?;
    println!(
        "Restored the backup of {} (doppel {}, schema {}) into {}.\n\
         Start the server on it; it rebuilds the images its releases run that Docker lacks \
         before it starts their dynos.",
        manifest.created_at,
        manifest.doppel_version,
        manifest.schema_version,
        args.data.data_dir.display()
    );
    Ok(())
}

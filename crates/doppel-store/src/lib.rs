//! doppel-store: doppel's control-plane state (users and tokens, apps and their two
//! environments, builds, releases, config vars, formations, promotions and parity marks,
//! rollouts, log drains, add-ons and their backups) over SQLite or PostgreSQL.
//!
//! The only crate that names sqlx. One code path on sqlx's Any driver with portable SQL
//! (`$N` placeholders, TEXT uuid ids, RFC 3339 UTC TEXT timestamps, JSON as TEXT); the schema
//! lives in `migrations/sqlite` and `migrations/postgres`, embedded and chosen at open.
//! Config values are encrypted at rest (see `crypto`); API tokens are kept only as digests.

mod access_passwords;
mod acme_certs;
mod addon_backups;
mod addons;
mod allowed_ips;
mod apps;
mod audit;
mod builds;
mod certs;
mod collaborators;
mod config;
mod crypto;
mod domains;
mod drains;
mod env_settings;
mod error;
mod formation;
mod parity_marks;
mod passwords;
mod promotions;
mod rebuilt_images;
mod releases;
mod rollouts;
mod schema_guard;
mod sessions;
mod snapshot;
mod users;
mod util;

pub use access_passwords::AccessPassword;
pub use acme_certs::{AcmeAttempt, AcmeCert, AcmeTarget};
pub use addon_backups::{Backup, BackupKind, BackupStatus, NewBackup};
pub use addons::{Addon, AddonCredentials, AddonState, Attachment, BackupSchedule, NewAddon};
pub use apps::{App, Environment};
pub use audit::{AuditEvent, AuditFilter, NewAuditEvent};
pub use builds::{Build, BuildOutcome, BuildStatus, INTERRUPTED_REASON};
pub use certs::SniEndpoint;
pub use collaborators::Collaborator;
pub use config::valid_config_key;
pub use domains::Domain;
pub use drains::LogDrain;
pub use error::{DatabaseError, Result, StoreError};
pub use formation::{FormationChange, FormationEntry, QuantityChange, DEFAULT_SIZE};
pub use parity_marks::ParityMark;
pub use passwords::MAX_PASSWORD_BYTES;
pub use promotions::{NewPromotion, Promotion, PromotionStatus};
pub use releases::{NewRelease, Release, ReleaseStatus};
pub use rollouts::{Rollout, RolloutKind, RolloutPhase, MAX_ROLLOUT_OUTPUT};
pub use sessions::Session;
pub use snapshot::{latest_schema_version, restore_snapshot, snapshot, SnapshotInfo};
pub use users::{TokenInfo, User, TOKEN_PREFIX};
pub use util::stamp;

use crate::crypto::Cipher;
use crate::error::DbContext;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 15_000;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The store: a connection pool and the cipher for secrets. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: Arc<Cipher>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Turns what the operator configured into a URL the Any driver accepts, and the backend.
fn normalize_url(url: &str) -> Result<(String, Backend)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_string(), Backend::Postgres));
    }
    let rest = match url.strip_prefix("sqlite:") {
        Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
        None if url.contains("://") => {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL scheme in {:?}; use sqlite:///path/to/doppel.db or postgres://…",
                url.split("://").next().unwrap_or_default()
            )))
        }
        None => url,
    };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(StoreError::Invalid(
            "the SQLite database URL names no file".to_string(),
        ));
    }
    if path == ":memory:" {
        return Ok(("sqlite::memory:".to_string(), Backend::Sqlite));
    }
    let mut encoded = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            ' ' => encoded.push_str("%20"),
            c => encoded.push(c),
        }
    }
    Ok((format!("sqlite://{encoded}?mode=rwc"), Backend::Sqlite))
}

/// Registers sqlx's Any drivers, once per process.
fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

impl Store {
    /// Opens (creating if missing, for SQLite) and migrates the database at `url`:
    /// `sqlite:///abs/path/doppel.db`, a plain path, or `postgres://…`. `secret_key` encrypts
    /// config values at rest. A database migrated by a newer doppel (holding migrations this
    /// build does not know) is refused with [`StoreError::NewerSchema`], unchanged.
    pub async fn open(url: &str, secret_key: [u8; 32]) -> Result<Store> {
        install_drivers();

        let (url, backend) = normalize_url(url)?;
        let options = AnyConnectOptions::from_str(&url).ctx("parsing the database URL")?;

        let pool = match backend {
            Backend::Sqlite => {
                // WAL is a property of the database file: set it once, on one connection,
                // before the pool opens several.
                {
                    use sqlx::ConnectOptions;
                    let mut conn = options.connect().await.ctx("opening the SQLite database")?;
                    conn.execute("PRAGMA journal_mode = WAL")
                        .await
                        .ctx("enabling WAL")?;
                    sqlx::Connection::close(conn)
                        .await
                        .ctx("closing the setup connection")?;
                }
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute(sqlx::AssertSqlSafe(format!(
                                "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"
                            )))
                            .await?;
                            Ok(())
                        })
                    })
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(options)
                    .await
                    .ctx("opening the SQLite pool")?
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options)
                .await
                .ctx("connecting to PostgreSQL")?,
        };

        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // A database a newer doppel migrated is refused before anything is written.
        schema_guard::refuse_newer_schema(&pool, backend, migrator).await?;
        migrator.run(&pool).await.map_err(|e| {
            StoreError::Migration(DatabaseError {
                context: "applying migrations".to_string(),
                source: Box::new(e),
            })
        })?;
        schema_guard::record_writer(&pool, migrator, env!("CARGO_PKG_VERSION")).await?;

        let store = Store {
            pool,
            backend,
            cipher: Arc::new(Cipher::new(secret_key)),
        };
        tracing::info!(backend = store.backend(), "store opened");
        Ok(store)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The unguessable token of a capability URL granting `purpose` (e.g. `build-output`)
    /// on object `id`: derived from the master key, so it needs no row and outlives restarts.
    pub fn capability(&self, purpose: &str, id: &str) -> String {
        self.cipher.capability(purpose, id)
    }

    /// Whether `token` is [`Store::capability`] of `purpose` on `id` (constant-time).
    pub fn check_capability(&self, purpose: &str, id: &str, token: &str) -> bool {
        self.cipher.check_capability(purpose, id, token)
    }

    /// Closes every connection of the pool; later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait on the busy timeout instead of failing
    /// when a read lock cannot be upgraded.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .ctx("beginning a write transaction"),
            Backend::Postgres => self.pool.begin().await.ctx("beginning a transaction"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        let (u, b) = normalize_url("sqlite:///var/lib/doppel/doppel.db").unwrap();
        assert_eq!(u, "sqlite:///var/lib/doppel/doppel.db?mode=rwc");
        assert_eq!(b, Backend::Sqlite);
        let (u, _) = normalize_url("/tmp/a b/doppel.db").unwrap();
        assert_eq!(u, "sqlite:///tmp/a%20b/doppel.db?mode=rwc");
        let (u, _) = normalize_url("sqlite:rel.db?mode=rwc").unwrap();
        assert_eq!(u, "sqlite://rel.db?mode=rwc");
        let (u, b) = normalize_url("postgres://u:p@h/db").unwrap();
        assert_eq!((u.as_str(), b), ("postgres://u:p@h/db", Backend::Postgres));
        assert!(normalize_url("mysql://x").is_err());
        assert!(normalize_url("sqlite://").is_err());
    }
}

//! Consistent snapshots of the whole store for `doppel admin:backup`, and putting one back
//! for `doppel admin:restore`, without migrating or locking out a running server.
//!
//! SQLite: `VACUUM INTO` on a read-only connection writes a consistent copy of the database
//! file while the server keeps writing (WAL readers see one transaction's state); restoring
//! copies that file into place. PostgreSQL: `pg_dump --format=custom` (one MVCC snapshot),
//! restored with `pg_restore --single-transaction` into an empty database. The password of a
//! PostgreSQL URL reaches the tools through `PGPASSWORD`, never their command line.

use crate::error::DbContext;
use crate::{normalize_url, Backend, Result, StoreError, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::path::Path;
use std::str::FromStr;

/// What a snapshot holds, for the backup's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// `"sqlite"` (a database file) or `"postgres"` (a `pg_dump` custom-format archive).
    pub backend: &'static str,
    /// The newest migration applied to the database the snapshot was taken of.
    pub schema_version: i64,
}

/// The newest migration this build of doppel knows (the same on both backends).
pub fn latest_schema_version() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .chain(POSTGRES_MIGRATIONS.iter())
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Writes a consistent snapshot of the database at `url` to `dest` (which must not exist)
/// while other processes keep using it. Applies no migration.
pub async fn snapshot(url: &str, dest: &Path) -> Result<SnapshotInfo> {
    crate::install_drivers();
    if dest.exists() {
        return Err(StoreError::Invalid(format!(
            "{} exists already; a snapshot is written to a new file",
            dest.display()
        )));
    }
    let (normalized, backend) = normalize_url(url)?;
    match backend {
        Backend::Sqlite => {
            let read_only = normalized.replace("?mode=rwc", "?mode=ro");
            let mut conn = AnyConnectOptions::from_str(&read_only)
                .ctx("parsing the database URL")?
                .connect()
                .await
                .ctx("opening the SQLite database read-only")?;
            let schema_version = schema_version(&mut conn).await?;
            let dest_text = dest
                .to_str()
                .ok_or_else(|| StoreError::Invalid(format!("{} is not UTF-8", dest.display())))?;
            sqlx::query("VACUUM INTO $1")
                .bind(dest_text.to_string())
                .execute(&mut conn)
                .await
                .ctx("copying the database (VACUUM INTO)")?;
            close(conn).await;
            Ok(SnapshotInfo {
                backend: "sqlite",
                schema_version,
            })
        }
        Backend::Postgres => {
            let mut conn = AnyConnectOptions::from_str(&normalized)
                .ctx("parsing the database URL")?
                .connect()
                .await
                .ctx("connecting to PostgreSQL")?;
            let schema_version = schema_version(&mut conn).await?;
            close(conn).await;
            let dest_arg = format!("--file={}", dest.display());
            run_pg_tool(
                "pg_dump",
                url,
                &["--format=custom", "--no-owner", &dest_arg],
            )
            .await?;
            Ok(SnapshotInfo {
                backend: "postgres",
                schema_version,
            })
        }
    }
}

/// Puts a snapshot written by [`snapshot`] (of `backend`) back as the database at `url`,
/// which must be empty: a SQLite file that does not exist yet, or a PostgreSQL database with
/// no table. Migrations to this build's schema run when the store is next opened.
pub async fn restore_snapshot(url: &str, backend: &str, snapshot: &Path) -> Result<()> {
    crate::install_drivers();
    let (normalized, target) = normalize_url(url)?;
    match (target, backend) {
        (Backend::Sqlite, "sqlite") => {
            let path = sqlite_path(url)?;
            if path.exists() {
                return Err(StoreError::Conflict(format!(
                    "the database {} exists already; restore into an empty data directory",
                    path.display()
                )));
            }
            std::fs::copy(snapshot, &path)
                .map(|_| ())
                .map_err(|e| StoreError::Invalid(format!("copying the snapshot to {}: {e}", path.display())))
        }
        (Backend::Postgres, "postgres") => {
            let mut conn = AnyConnectOptions::from_str(&normalized)
                .ctx("parsing the database URL")?
                .connect()
                .await
                .ctx("connecting to PostgreSQL")?;
            let tables: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_one(&mut conn)
            .await
            .ctx("counting the tables of the database")?
            .try_get("n")
            .ctx("reading the table count")?;
            close(conn).await;
            if tables > 0 {
                return Err(StoreError::Conflict(format!(
                    "the PostgreSQL database has {tables} table(s); restore into an empty database"
                )));
            }
            let file = snapshot.display().to_string();
            let args = ["--no-owner", "--single-transaction", "--exit-on-error", &file];
            run_pg_tool("pg_restore", url, &args).await
        }
        (_, other) => Err(StoreError::Invalid(format!(
            "the backup holds a {other} store but the server is configured for {}; set --database-url to match",
            match target {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            }
        ))),
    }
}

/// The file a SQLite URL (or plain path) names.
fn sqlite_path(url: &str) -> Result<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Invalid(
            "the SQLite database URL names no file".to_string(),
        ));
    }
    Ok(std::path::PathBuf::from(path))
}

async fn schema_version(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    let row = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_one(conn)
        .await
        .ctx("reading the schema version (is this a doppel database?)")?;
    let version: Option<i64> = row.try_get("v").ctx("reading the schema version")?;
    version.ok_or_else(|| StoreError::Invalid("the database has no migration applied".to_string()))
}

async fn close(conn: sqlx::AnyConnection) {
    if let Err(e) = sqlx::Connection::close(conn).await {
        tracing::warn!(error = %e, "closing the snapshot connection");
    }
}

/// Runs `pg_dump`/`pg_restore` on `url`, its password (if any) in `PGPASSWORD`.
async fn run_pg_tool(tool: &str, url: &str, args: &[&str]) -> Result<()> {
    let (url, password) = split_password(url);
    let mut cmd = tokio::process::Command::new(tool);
    cmd.arg(format!("--dbname={url}"))
        .args(args)
        .stdin(std::process::Stdio::null());
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let out = cmd.output().await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::Invalid(format!(
            "{tool} is not installed, and a PostgreSQL store is backed up and restored with \
             pg_dump and pg_restore: install PostgreSQL's client tools (on Debian: apt install \
             postgresql-client; their major version must be at least the server's)"
        )),
        _ => StoreError::Invalid(format!("running {tool}: {e}")),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(StoreError::Invalid(format!(
            "{tool} failed ({}): {}",
            out.status,
            stderr.trim()
        )));
    }
    Ok(())
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `Some("secret")`), the
/// password percent-decoded.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_string(), None);
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map(|i| scheme_end + i)
        .unwrap_or(url.len());
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &authority[..at];
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_string(), None);
    };
    let stripped = format!(
        "{}{user}{}{}",
        &url[..scheme_end],
        &authority[at..],
        &url[authority_end..]
    );
    (stripped, Some(percent_decode(password)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        let (url, pw) = split_password("postgres://doppel:s%40cret@127.0.0.1:5432/db?sslmode=off");
        assert_eq!(url, "postgres://doppel@127.0.0.1:5432/db?sslmode=off");
        assert_eq!(pw.as_deref(), Some("s@cret"));
        let (url, pw) = split_password("postgres://doppel@host/db");
        assert_eq!((url.as_str(), pw), ("postgres://doppel@host/db", None));
        let (url, pw) = split_password("postgres://host/db");
        assert_eq!((url.as_str(), pw), ("postgres://host/db", None));
    }

    #[test]
    fn the_latest_schema_is_a_migration_version() {
        assert!(latest_schema_version() >= 20261208400001);
    }
}

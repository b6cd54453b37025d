//! Downgrade refusal: before migrating, [`refuse_newer_schema`] checks that every migration
//! the database has applied is one this build knows. A database a newer doppel migrated holds
//! versions this one lacks; opening it then fails with [`StoreError::NewerSchema`], naming the
//! store's schema, this build's, and (from `schema_writers`) the doppel version that made it,
//! before anything is written. After migrating, [`record_writer`] notes which doppel version
//! first reached this build's schema.

use crate::error::DbContext;
use crate::{Backend, Result, StoreError};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};
use std::collections::HashSet;

/// Fails with [`StoreError::NewerSchema`] when the database at `pool` has applied a migration
/// `migrator` does not hold. A database with no migration table (a new one) passes.
pub(crate) async fn refuse_newer_schema(
    pool: &AnyPool,
    backend: Backend,
    migrator: &Migrator,
) -> Result<()> {
    let exists = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_name = '_sqlx_migrations' AND table_schema = current_schema()"
        }
    };
    let tables: i64 = sqlx::query(exists)
        .fetch_one(pool)
        .await
        .ctx("looking for the migration table")?
        .try_get("n")
        .ctx("reading the migration table count")?;
    if tables == 0 {
        return Ok(());
    }
    let applied: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
        .ctx("listing the applied migrations")?
        .iter()
        .map(|row| row.try_get::<i64, _>("version"))
        .collect::<std::result::Result<_, _>>()
        .ctx("reading the applied migrations")?;
    let known: HashSet<i64> = migrator.iter().map(|m| m.version).collect();
    let Some(store_schema) = applied.iter().copied().filter(|v| !known.contains(v)).max() else {
        return Ok(());
    };
    let known_schema = known.iter().copied().max().unwrap_or(0);
    Err(StoreError::NewerSchema {
        store_schema,
        known_schema,
        migrated_by: writer_of(pool, store_schema).await,
    })
}

/// The first doppel version recorded at `schema` or later (None when the table is missing or
/// holds none: the refusal then says "a newer doppel").
async fn writer_of(pool: &AnyPool, schema: i64) -> Option<String> {
    let row = sqlx::query(
        "SELECT doppel_version FROM schema_writers WHERE schema_version >= $1 \
         ORDER BY schema_version LIMIT 1",
    )
    .bind(schema)
    .fetch_optional(pool)
    .await;
    match row {
        Ok(Some(row)) => row.try_get("doppel_version").ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(error = %e, "no schema_writers table to name the newer doppel");
            None
        }
    }
}

/// Records `doppel_version` as the first version to open the database at this build's newest
/// schema (kept if one is recorded already).
pub(crate) async fn record_writer(
    pool: &AnyPool,
    migrator: &Migrator,
    doppel_version: &str,
) -> Result<()> {
    let schema = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    sqlx::query(
        "INSERT INTO schema_writers (schema_version, doppel_version, first_opened_at) \
         VALUES ($1, $2, $3) ON CONFLICT (schema_version) DO NOTHING",
    )
    .bind(schema)
    .bind(doppel_version.to_string())
    .bind(crate::util::now())
    .execute(pool)
    .await
    .ctx("recording the doppel version of the schema")?;
    Ok(())
}

impl crate::Store {
    /// The doppel versions that first opened the database at each schema, oldest first, as
    /// (schema version, doppel version).
    pub async fn schema_writers(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT schema_version, doppel_version FROM schema_writers ORDER BY schema_version",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("listing schema_writers")?;
        rows.iter()
            .map(|row| {
                Ok((
                    crate::util::get(row, "schema_writers", "schema_version")?,
                    crate::util::get(row, "schema_writers", "doppel_version")?,
                ))
            })
            .collect()
    }
}

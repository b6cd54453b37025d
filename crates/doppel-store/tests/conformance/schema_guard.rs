//! Conformance bodies for the downgrade refusal: a store a newer doppel migrated is refused,
//! unchanged, naming both schemas and the newer doppel (instantiated for both backends by
//! `conformance!` in `../conformance.rs`).

use super::{admin, app_with_envs, Db, KEY};
use doppel_store::{latest_schema_version, Store, StoreError};
use sqlx::Row;
use std::sync::Arc;

const THIS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a newer doppel leaves behind: one migration this build lacks, and its version noted.
async fn migrate_as_newer_doppel(db: &Db, schema: i64, version: Option<&str>) {
    let mut raw = db.raw().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer doppel', TRUE, $2, 0)",
    )
    .bind(schema)
    .bind(vec![0u8; 48])
    .execute(&mut raw)
    .await
    .unwrap();
    if let Some(version) = version {
        sqlx::query(
            "INSERT INTO schema_writers (schema_version, doppel_version, first_opened_at) \
             VALUES ($1, $2, '2030-01-01T00:00:00Z')",
        )
        .bind(schema)
        .bind(version.to_string())
        .execute(&mut raw)
        .await
        .unwrap();
    }
    sqlx::Connection::close(raw).await.unwrap();
}

async fn count(db: &Db, table: &str) -> i64 {
    let mut raw = db.raw().await;
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(&mut raw)
    .await
    .unwrap()
    .try_get("n")
    .unwrap();
    sqlx::Connection::close(raw).await.unwrap();
    n
}

pub async fn the_schema_records_the_doppel_that_first_opened_it(db: Arc<Db>) {
    let store = db.store().await;
    let mine = vec![(latest_schema_version(), THIS_VERSION.to_string())];
    assert_eq!(store.schema_writers().await.unwrap(), mine);
    store.close().await;
    // Opening again (a restart, or a reinstall of the same version) adds nothing.
    let store = db.store().await;
    assert_eq!(store.schema_writers().await.unwrap(), mine);
    store.close().await;
}

pub async fn a_store_a_newer_doppel_migrated_is_refused_unchanged(db: Arc<Db>) {
    let store = db.store().await;
    admin(&store).await;
    app_with_envs(&store, "kept").await;
    store.close().await;
    let known = latest_schema_version();
    let newer = known + 1;
    migrate_as_newer_doppel(&db, newer, Some("9.8.7")).await;
    let migrations = count(&db, "_sqlx_migrations").await;

    let err = Store::open(&db.url, KEY).await.unwrap_err();
    match &err {
        StoreError::NewerSchema {
            store_schema,
            known_schema,
            migrated_by,
        } => {
            assert_eq!((*store_schema, *known_schema), (newer, known));
            assert_eq!(migrated_by.as_deref(), Some("9.8.7"));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let message = err.to_string();
    for needle in [
        "doppel 9.8.7",
        &newer.to_string(),
        &known.to_string(),
        &format!("this doppel {THIS_VERSION}"),
        "Install doppel 9.8.7 or later",
        "doppel admin:restore",
    ] {
        assert!(
            message.contains(needle),
            "{needle:?} missing from: {message}"
        );
    }
    // Refused before anything was written: no migration, no version noted, the data kept.
    assert_eq!(count(&db, "_sqlx_migrations").await, migrations);
    assert_eq!(count(&db, "schema_writers").await, 2);
    assert_eq!(count(&db, "apps").await, 1);
    assert_eq!(count(&db, "users").await, 1);
}

pub async fn a_newer_store_without_a_recorded_version_is_refused_too(db: Arc<Db>) {
    db.store().await.close().await;
    let newer = latest_schema_version() + 10;
    migrate_as_newer_doppel(&db, newer, None).await;
    let mut raw = db.raw().await;
    sqlx::query("DELETE FROM schema_writers")
        .execute(&mut raw)
        .await
        .unwrap();
    sqlx::Connection::close(raw).await.unwrap();
    let err = Store::open(&db.url, KEY).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { store_schema, migrated_by: None, .. } if store_schema == newer),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("migrated by a newer doppel"),
        "{err}"
    );
}

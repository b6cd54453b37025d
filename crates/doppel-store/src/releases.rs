//! Releases: immutable rows (image + config snapshot + version) of one environment. The
//! version is `max + 1` computed inside the inserting transaction while the environment row
//! is locked, and `(env_id, version)` is unique, so concurrent releases get distinct versions.

use crate::crypto::release_aad;
use crate::error::{db_error, is_foreign_key_violation, DbContext, Result, StoreError};
use crate::util::{
    get, image_kind_from_str, new_id, now, process_types_from_json, process_types_to_json,
};
use crate::Store;
use doppel_types::{ImageKind, ProcessTypes};
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// Where a release is: pending while its dynos start, then succeeded or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleaseStatus {
    Pending,
    Succeeded,
    Failed,
}

impl ReleaseStatus {
    /// The word stored in the database (and used by Heroku's API).
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Pending => "pending",
            ReleaseStatus::Succeeded => "succeeded",
            ReleaseStatus::Failed => "failed",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<ReleaseStatus> {
        match s {
            "pending" => Some(ReleaseStatus::Pending),
            "succeeded" => Some(ReleaseStatus::Succeeded),
            "failed" => Some(ReleaseStatus::Failed),
            _ => None,
        }
    }
}

/// What the caller supplies for a new release; the store adds id, version and timestamps
/// and snapshots the environment's current config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelease {
    pub env_id: String,
    pub build_id: Option<String>,
    pub image_id: String,
    pub image_kind: ImageKind,
    pub process_types: ProcessTypes,
    pub description: String,
    pub user_id: Option<String>,
    pub status: ReleaseStatus,
    /// The config the release runs with; `None` snapshots the environment's config as it is.
    pub config: Option<BTreeMap<String, String>>,
}

/// One release of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: String,
    pub env_id: String,
    pub version: i64,
    pub build_id: Option<String>,
    pub image_id: String,
    pub image_kind: ImageKind,
    pub process_types: ProcessTypes,
    pub description: String,
    pub status: ReleaseStatus,
    pub user_id: Option<String>,
    /// For a promoted release: the staging release whose image it runs.
    pub source_release_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Release {
    /// Whether the release runs an image. A release made by a config change before any build
    /// (as Heroku's clients expect one to exist) carries only config: nothing runs.
    pub fn has_image(&self) -> bool {
        !self.image_id.is_empty()
    }
}

const RELEASE_COLUMNS: &str = "id, env_id, version, build_id, image_id, image_kind, \
     process_types, description, status, user_id, source_release_id, created_at, updated_at";

fn release_from_row(row: &AnyRow) -> Result<Release> {
    let id: String = get(row, "releases", "id")?;
    let what = format!("release {id}");
    let status: String = get(row, "releases", "status")?;
    let status = ReleaseStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown status {status:?}")))?;
    let kind: String = get(row, "releases", "image_kind")?;
    let types: String = get(row, "releases", "process_types")?;
    Ok(Release {
        env_id: get(row, "releases", "env_id")?,
        version: get(row, "releases", "version")?,
        build_id: get(row, "releases", "build_id")?,
        image_id: get(row, "releases", "image_id")?,
        image_kind: image_kind_from_str(&kind, &what)?,
        process_types: process_types_from_json(&types, &what)?,
        description: get(row, "releases", "description")?,
        status,
        user_id: get(row, "releases", "user_id")?,
        source_release_id: get(row, "releases", "source_release_id")?,
        created_at: get(row, "releases", "created_at")?,
        updated_at: get(row, "releases", "updated_at")?,
        id,
    })
}

impl Store {
    /// Inserts a release with the next version of its environment and a snapshot of the
    /// environment's config, in one transaction.
    pub async fn create_release(&self, new: &NewRelease) -> Result<Release> {
        self.insert_release(new, None).await
    }

    /// Inserts the release a promotion makes (see [`Store::create_release`]), recording the
    /// staging release it came from and linking it to the promotion in the same transaction.
    /// `Conflict` (and nothing inserted) unless the promotion is pending without a release.
    pub async fn create_promoted_release(
        &self,
        new: &NewRelease,
        promotion_id: &str,
        source_release_id: &str,
    ) -> Result<Release> {
        self.insert_release(new, Some((promotion_id, source_release_id)))
            .await
    }

    async fn insert_release(
        &self,
        new: &NewRelease,
        promotion: Option<(&str, &str)>,
    ) -> Result<Release> {
        let process_types = process_types_to_json(&new.process_types)?;
        let mut tx = self.begin_write().await?;
        // Serializes release creation per environment (PostgreSQL row lock; SQLite holds the
        // write lock already), so max(version) + 1 below cannot be computed twice.
        Store::lock_environment(&mut tx, &new.env_id, false).await?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM releases WHERE env_id = $1",
        )
        .bind(&new.env_id)
        .fetch_one(&mut *tx)
        .await
        .ctx("computing the next release version")?;
        let ts = now();
        let release = Release {
            id: new_id(),
            env_id: new.env_id.clone(),
            version,
            build_id: new.build_id.clone(),
            image_id: new.image_id.clone(),
            image_kind: new.image_kind,
            process_types: new.process_types.clone(),
            description: new.description.clone(),
            status: new.status,
            user_id: new.user_id.clone(),
            source_release_id: promotion.map(|(_, source)| source.to_string()),
            created_at: ts.clone(),
            updated_at: ts,
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO releases ({RELEASE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(&release.id)
        .bind(&release.env_id)
        .bind(release.version)
        .bind(release.build_id.as_deref())
        .bind(&release.image_id)
        .bind(release.image_kind.as_str())
        .bind(&process_types)
        .bind(&release.description)
        .bind(release.status.as_str())
        .bind(release.user_id.as_deref())
        .bind(release.source_release_id.as_deref())
        .bind(&release.created_at)
        .bind(&release.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "build {} or user {}",
                    new.build_id.as_deref().unwrap_or("-"),
                    new.user_id.as_deref().unwrap_or("-")
                ))
            } else {
                db_error(e, "inserting a release")
            }
        })?;

        let config = match &new.config {
            Some(explicit) => {
                if let Some(bad) = explicit.keys().find(|k| !crate::valid_config_key(k)) {
                    return Err(StoreError::Invalid(format!(
                        "config var key {bad:?} may only contain letters, digits and underscores"
                    )));
                }
                explicit.clone()
            }
            None => self.read_config(&mut tx, &new.env_id).await?,
        };
        for (key, value) in &config {
            let sealed = self.cipher.seal(
                &release_aad(&release.id, key),
                value,
                &format!("config var {key} of release {}", release.id),
            )?;
            sqlx::query(
                "INSERT INTO release_config_vars (release_id, key, value) VALUES ($1, $2, $3)",
            )
            .bind(&release.id)
            .bind(key.as_str())
            .bind(sealed)
            .execute(&mut *tx)
            .await
            .ctx("snapshotting config into a release")?;
        }
        if let Some((promotion_id, _)) = promotion {
            Store::link_promotion(&mut tx, promotion_id, &release.id).await?;
        }
        tx.commit().await.ctx("committing a release")?;
        tracing::info!(
            env = %release.env_id,
            version = release.version,
            status = release.status.as_str(),
            "created release"
        );
        Ok(release)
    }

    /// Sets a release's status (the only thing about a release that changes).
    pub async fn set_release_status(&self, release_id: &str, status: ReleaseStatus) -> Result<()> {
        let done = sqlx::query("UPDATE releases SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now())
            .bind(release_id)
            .execute(&self.pool)
            .await
            .ctx("setting a release's status")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("release {release_id}")));
        }
        tracing::info!(release = %release_id, status = status.as_str(), "release status set");
        Ok(())
    }

    /// Marks a pending release succeeded; with `apply_config`, the environment's config
    /// becomes the release's snapshot in the same transaction (config changes and rollbacks
    /// take effect only when their release serves).
    pub async fn succeed_release(&self, release_id: &str, apply_config: bool) -> Result<()> {
        let release = self
            .release(release_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("release {release_id}")))?;
        let snapshot = if apply_config {
            Some(self.release_config(release_id).await?)
        } else {
            None
        };
        let mut tx = self.begin_write().await?;
        Store::lock_environment(&mut tx, &release.env_id, true).await?;
        let done = sqlx::query(
            "UPDATE releases SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(ReleaseStatus::Succeeded.as_str())
        .bind(now())
        .bind(release_id)
        .bind(ReleaseStatus::Pending.as_str())
        .execute(&mut *tx)
        .await
        .ctx("marking a release succeeded")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "release {release_id} is not pending any more"
            )));
        }
        if let Some(config) = snapshot {
            self.replace_config(&mut tx, &release.env_id, &config)
                .await?;
        }
        tx.commit().await.ctx("committing a succeeded release")?;
        tracing::info!(release = %release_id, apply_config, "release succeeded");
        Ok(())
    }

    /// Marks every pending release failed (call at startup: a rollout cut off by a crash
    /// never finished its health check, so it must not become current). Returns how many.
    pub async fn fail_interrupted_releases(&self) -> Result<u64> {
        let done =
            sqlx::query("UPDATE releases SET status = $1, updated_at = $2 WHERE status = $3")
                .bind(ReleaseStatus::Failed.as_str())
                .bind(now())
                .bind(ReleaseStatus::Pending.as_str())
                .execute(&self.pool)
                .await
                .ctx("failing interrupted releases")?;
        if done.rows_affected() > 0 {
            tracing::warn!(
                count = done.rows_affected(),
                "marked releases interrupted by a restart as failed"
            );
        }
        Ok(done.rows_affected())
    }

    /// A release by id.
    pub async fn release(&self, release_id: &str) -> Result<Option<Release>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE id = $1"
        )))
        .bind(release_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a release")?;
        row.as_ref().map(release_from_row).transpose()
    }

    /// The newest succeeded release of an environment: what should be serving.
    pub async fn current_release(&self, env_id: &str) -> Result<Option<Release>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE env_id = $1 AND status = $2 \
             ORDER BY version DESC LIMIT 1"
        )))
        .bind(env_id)
        .bind(ReleaseStatus::Succeeded.as_str())
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up the current release")?;
        row.as_ref().map(release_from_row).transpose()
    }

    /// An environment's releases, ascending by version.
    pub async fn list_releases(&self, env_id: &str) -> Result<Vec<Release>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE env_id = $1 ORDER BY version"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing releases")?;
        rows.iter().map(release_from_row).collect()
    }

    /// The config snapshot taken when the release was created, decrypted.
    pub async fn release_config(&self, release_id: &str) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query("SELECT key, value FROM release_config_vars WHERE release_id = $1")
            .bind(release_id)
            .fetch_all(&self.pool)
            .await
            .ctx("reading a release's config")?;
        if rows.is_empty() && self.release(release_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("release {release_id}")));
        }
        let mut vars = BTreeMap::new();
        for row in &rows {
            let key: String = get(row, "release_config_vars", "key")?;
            let sealed: String = get(row, "release_config_vars", "value")?;
            let value = self.cipher.open(
                &release_aad(release_id, &key),
                &sealed,
                &format!("config var {key} of release {release_id}"),
            )?;
            vars.insert(key, value);
        }
        Ok(vars)
    }
}

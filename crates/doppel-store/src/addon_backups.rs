//! Add-on backups, Heroku-style: numbered per environment and kind (`b001` captured by hand,
//! `a001` by the schedule, `r001` a restore), with the file's size and checksum, the row
//! counts the capture saw, and whether restoring it into a scratch database gave the same
//! counts. A row outlives the add-on it was taken of.

use crate::error::{db_error, DbContext, Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// What made a backup row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackupKind {
    /// `b`: captured on request (also the final backup of a destroyed add-on).
    Manual,
    /// `a`: captured by the daily schedule.
    Scheduled,
    /// `r`: a restore into the environment's add-on.
    Restore,
}

impl BackupKind {
    pub fn letter(self) -> char {
        match self {
            BackupKind::Manual => 'b',
            BackupKind::Scheduled => 'a',
            BackupKind::Restore => 'r',
        }
    }

    pub fn from_letter(c: char) -> Option<BackupKind> {
        match c {
            'b' => Some(BackupKind::Manual),
            'a' => Some(BackupKind::Scheduled),
            'r' => Some(BackupKind::Restore),
            _ => None,
        }
    }
}

/// Where a backup (or restore) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackupStatus {
    Running,
    Succeeded,
    Failed,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Running => "running",
            BackupStatus::Succeeded => "succeeded",
            BackupStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<BackupStatus> {
        match s {
            "running" => Some(BackupStatus::Running),
            "succeeded" => Some(BackupStatus::Succeeded),
            "failed" => Some(BackupStatus::Failed),
            _ => None,
        }
    }
}

/// One backup or restore of an environment's add-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub id: String,
    pub env_id: String,
    /// `None` once the add-on is gone.
    pub addon_id: Option<String>,
    pub addon_name: String,
    pub service: String,
    pub version: Option<String>,
    pub kind: BackupKind,
    pub num: i64,
    pub status: BackupStatus,
    pub size_bytes: Option<i64>,
    /// `blake3:<hex>` of the file.
    pub checksum: Option<String>,
    /// The file, relative to the data directory.
    pub file: Option<String>,
    /// Rows per table the capture saw (`{"public.items": 1000}`).
    pub counts: BTreeMap<String, i64>,
    /// `None`: not verified yet; `Some(true)`: a scratch restore gave the same counts.
    pub verified: Option<bool>,
    pub verify_message: Option<String>,
    /// For restores: the backup restored (`myapp::b001`).
    pub source: Option<String>,
    pub note: Option<String>,
    pub error: Option<String>,
    pub user_id: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl Backup {
    /// Heroku's name for it: `b001`, `a012`, `r003`.
    pub fn label(&self) -> String {
        format!("{}{:03}", self.kind.letter(), self.num)
    }
}

/// What the caller supplies for a new backup row (status `running`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewBackup {
    pub env_id: String,
    pub addon_id: Option<String>,
    pub addon_name: String,
    pub service: String,
    pub version: Option<String>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub user_id: Option<String>,
}

const COLUMNS: &str = "id, env_id, addon_id, addon_name, service, version, kind, num, status, \
     size_bytes, checksum, file, counts, verified, verify_message, source, note, error, user_id, \
     created_at, finished_at";

fn from_row(row: &AnyRow) -> Result<Backup> {
    let t = "addon_backups";
    let id: String = get(row, t, "id")?;
    let kind: String = get(row, t, "kind")?;
    let kind = kind
        .chars()
        .next()
        .and_then(BackupKind::from_letter)
        .ok_or_else(|| StoreError::Corrupt(format!("backup {id}: unknown kind {kind:?}")))?;
    let status: String = get(row, t, "status")?;
    let status = BackupStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("backup {id}: unknown status {status:?}")))?;
    let counts: Option<String> = get(row, t, "counts")?;
    let counts = match counts {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            StoreError::Corrupt(format!("backup {id}: counts are not valid JSON: {e}"))
        })?,
        None => BTreeMap::new(),
    };
    let verified: Option<i64> = get(row, t, "verified")?;
    Ok(Backup {
        env_id: get(row, t, "env_id")?,
        addon_id: get(row, t, "addon_id")?,
        addon_name: get(row, t, "addon_name")?,
        service: get(row, t, "service")?,
        version: get(row, t, "version")?,
        kind,
        num: get(row, t, "num")?,
        status,
        size_bytes: get(row, t, "size_bytes")?,
        checksum: get(row, t, "checksum")?,
        file: get(row, t, "file")?,
        counts,
        verified: verified.map(|v| v != 0),
        verify_message: get(row, t, "verify_message")?,
        source: get(row, t, "source")?,
        note: get(row, t, "note")?,
        error: get(row, t, "error")?,
        user_id: get(row, t, "user_id")?,
        created_at: get(row, t, "created_at")?,
        finished_at: get(row, t, "finished_at")?,
        id,
    })
}

/// `Conflict` unless an update touched the one running row it meant.
fn running_row(affected: u64, id: &str) -> Result<()> {
    if affected == 0 {
        return Err(StoreError::Conflict(format!(
            "backup {id} does not exist or is not running any more"
        )));
    }
    Ok(())
}

impl Store {
    /// Records a running backup (or restore) with the next number of its kind in the
    /// environment, computed in the inserting transaction.
    pub async fn create_backup(&self, new: &NewBackup, kind: BackupKind) -> Result<Backup> {
        let mut tx = self.begin_write().await?;
        Store::lock_environment(&mut tx, &new.env_id, false).await?;
        let num: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(num), 0) + 1 FROM addon_backups WHERE env_id = $1 AND kind = $2",
        )
        .bind(&new.env_id)
        .bind(kind.letter().to_string())
        .fetch_one(&mut *tx)
        .await
        .ctx("numbering a backup")?;
        let id = new_id();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO addon_backups ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             NULL, NULL, NULL, NULL, NULL, NULL, $10, $11, NULL, $12, $13, NULL)"
        )))
        .bind(&id)
        .bind(&new.env_id)
        .bind(new.addon_id.as_deref())
        .bind(&new.addon_name)
        .bind(&new.service)
        .bind(new.version.as_deref())
        .bind(kind.letter().to_string())
        .bind(num)
        .bind(BackupStatus::Running.as_str())
        .bind(new.source.as_deref())
        .bind(new.note.as_deref())
        .bind(new.user_id.as_deref())
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "inserting a backup"))?;
        tx.commit().await.ctx("committing a backup")?;
        self.backup(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("backup {id}")))
    }

    /// Records a captured file: size, checksum, path and the counts the capture saw.
    pub async fn finish_backup(
        &self,
        id: &str,
        size_bytes: u64,
        checksum: &str,
        file: &str,
        counts: &BTreeMap<String, i64>,
    ) -> Result<()> {
        let counts = serde_json::to_string(counts)
            .map_err(|e| StoreError::Invalid(format!("counts cannot be serialized: {e}")))?;
        let size = i64::try_from(size_bytes)
            .map_err(|_| StoreError::Invalid(format!("backup size {size_bytes} is too large")))?;
        let done = sqlx::query(
            "UPDATE addon_backups SET status = $1, size_bytes = $2, checksum = $3, file = $4, \
             counts = $5, finished_at = $6 WHERE id = $7 AND status = 'running'",
        )
        .bind(BackupStatus::Succeeded.as_str())
        .bind(size)
        .bind(checksum)
        .bind(file)
        .bind(counts)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("recording a captured backup")?;
        running_row(done.rows_affected(), id)
    }

    /// Marks a running backup or restore succeeded with nothing more to record (restores).
    pub async fn succeed_backup(&self, id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE addon_backups SET status = $1, finished_at = $2 \
             WHERE id = $3 AND status = 'running'",
        )
        .bind(BackupStatus::Succeeded.as_str())
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("recording a finished restore")?;
        running_row(done.rows_affected(), id)
    }

    /// Marks a running backup or restore failed, saying why.
    pub async fn fail_backup(&self, id: &str, error: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE addon_backups SET status = $1, error = $2, finished_at = $3 \
             WHERE id = $4 AND status = 'running'",
        )
        .bind(BackupStatus::Failed.as_str())
        .bind(error)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("recording a failed backup")?;
        running_row(done.rows_affected(), id)
    }

    /// Records the outcome of restoring a backup into a scratch database.
    pub async fn set_backup_verified(&self, id: &str, ok: bool, message: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE addon_backups SET verified = $1, verify_message = $2 WHERE id = $3",
        )
        .bind(i64::from(ok))
        .bind(message)
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("recording a backup's verification")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("backup {id}")));
        }
        Ok(())
    }

    /// A backup by id.
    pub async fn backup(&self, id: &str) -> Result<Option<Backup>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM addon_backups WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a backup")?;
        row.as_ref().map(from_row).transpose()
    }

    /// A backup of an environment by its Heroku name (`b001`); `None` for a malformed name.
    pub async fn backup_by_label(&self, env_id: &str, label: &str) -> Result<Option<Backup>> {
        let mut chars = label.chars();
        let Some(kind) = chars.next().and_then(BackupKind::from_letter) else {
            return Ok(None);
        };
        let Ok(num) = chars.as_str().parse::<i64>() else {
            return Ok(None);
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM addon_backups WHERE env_id = $1 AND kind = $2 AND num = $3"
        )))
        .bind(env_id)
        .bind(kind.letter().to_string())
        .bind(num)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a backup")?;
        row.as_ref().map(from_row).transpose()
    }

    /// An environment's backups and restores, oldest first.
    pub async fn backups_of_env(&self, env_id: &str) -> Result<Vec<Backup>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM addon_backups WHERE env_id = $1 ORDER BY created_at, kind, num"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing backups")?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes a backup's row (the caller removes its file).
    pub async fn delete_backup(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM addon_backups WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("deleting a backup")?;
        Ok(())
    }

    /// Marks every running backup and restore failed (call at startup: whatever a restart
    /// cut off did not finish). Returns how many.
    pub async fn fail_interrupted_backups(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE addon_backups SET status = $1, error = $2, finished_at = $3 WHERE status = $4",
        )
        .bind(BackupStatus::Failed.as_str())
        .bind("interrupted by a restart of doppel")
        .bind(now())
        .bind(BackupStatus::Running.as_str())
        .execute(&self.pool)
        .await
        .ctx("failing interrupted backups")?;
        if done.rows_affected() > 0 {
            tracing::warn!(
                count = done.rows_affected(),
                "marked backups interrupted by a restart as failed"
            );
        }
        Ok(done.rows_affected())
    }
}

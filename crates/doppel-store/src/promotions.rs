//! Promotions: one row per promotion of a staging release to production, `pending` until the
//! production release it made serves (`succeeded`) or fails (`failed`). At most one promotion
//! per target environment is pending at a time (a partial unique index), so two promotions
//! never interleave. The production release is linked to its promotion in the transaction
//! that inserts it ([`Store::create_promoted_release`]), so a promotion never gets two
//! releases and a restart can tell how far a promotion got. Also here: the per-app rule on
//! direct pushes to production.

use crate::error::{db_error, is_unique_violation, DbContext, Result, StoreError};
use crate::util::{get, get_bool, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// Where a promotion is (the state of its one target, in Heroku's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromotionStatus {
    Pending,
    Succeeded,
    Failed,
}

impl PromotionStatus {
    /// The word stored in the database (Heroku's promotion-target status).
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionStatus::Pending => "pending",
            PromotionStatus::Succeeded => "succeeded",
            PromotionStatus::Failed => "failed",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<PromotionStatus> {
        match s {
            "pending" => Some(PromotionStatus::Pending),
            "succeeded" => Some(PromotionStatus::Succeeded),
            "failed" => Some(PromotionStatus::Failed),
            _ => None,
        }
    }
}

/// One promotion, with its one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub id: String,
    /// The id of its target (Heroku's promotion-target id).
    pub target_id: String,
    pub app_id: String,
    pub source_env_id: String,
    pub target_env_id: String,
    pub source_release_id: String,
    /// The production release it made, once that release row exists.
    pub target_release_id: Option<String>,
    pub status: PromotionStatus,
    pub error_message: Option<String>,
    /// Promoted despite drift.
    pub forced: bool,
    /// Why it was forced.
    pub reason: Option<String>,
    pub user_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What the caller supplies for a new promotion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPromotion {
    pub app_id: String,
    pub source_env_id: String,
    pub target_env_id: String,
    pub source_release_id: String,
    pub forced: bool,
    pub reason: Option<String>,
    pub user_id: Option<String>,
}

const COLUMNS: &str = "id, target_id, app_id, source_env_id, target_env_id, source_release_id, \
     target_release_id, status, error_message, forced, reason, user_id, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Promotion> {
    let t = "promotions";
    let id: String = get(row, t, "id")?;
    let status: String = get(row, t, "status")?;
    let status = PromotionStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("promotion {id}: unknown status {status:?}")))?;
    Ok(Promotion {
        target_id: get(row, t, "target_id")?,
        app_id: get(row, t, "app_id")?,
        source_env_id: get(row, t, "source_env_id")?,
        target_env_id: get(row, t, "target_env_id")?,
        source_release_id: get(row, t, "source_release_id")?,
        target_release_id: get(row, t, "target_release_id")?,
        status,
        error_message: get(row, t, "error_message")?,
        forced: get_bool(row, t, "forced")?,
        reason: get(row, t, "reason")?,
        user_id: get(row, t, "user_id")?,
        created_at: get(row, t, "created_at")?,
        updated_at: get(row, t, "updated_at")?,
        id,
    })
}

impl Store {
    /// Records a new pending promotion. `Conflict` when a promotion to the same environment
    /// is still pending; `NotFound` when an environment, release or user does not exist.
    pub async fn create_promotion(&self, new: &NewPromotion) -> Result<Promotion> {
        let ts = now();
        let promotion = Promotion {
            id: new_id(),
            target_id: new_id(),
            app_id: new.app_id.clone(),
            source_env_id: new.source_env_id.clone(),
            target_env_id: new.target_env_id.clone(),
            source_release_id: new.source_release_id.clone(),
            target_release_id: None,
            status: PromotionStatus::Pending,
            error_message: None,
            forced: new.forced,
            reason: new.reason.clone(),
            user_id: new.user_id.clone(),
            created_at: ts.clone(),
            updated_at: ts,
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO promotions ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, NULL, $8, $9, $10, $11, $11)"
        )))
        .bind(&promotion.id)
        .bind(&promotion.target_id)
        .bind(&promotion.app_id)
        .bind(&promotion.source_env_id)
        .bind(&promotion.target_env_id)
        .bind(&promotion.source_release_id)
        .bind(promotion.status.as_str())
        .bind(i64::from(promotion.forced))
        .bind(promotion.reason.as_deref())
        .bind(promotion.user_id.as_deref())
        .bind(&promotion.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!(
                    "a promotion to environment {} is already in progress",
                    new.target_env_id
                ))
            } else if crate::error::is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "environment, release {} or user of the promotion",
                    new.source_release_id
                ))
            } else {
                db_error(e, "inserting a promotion")
            }
        })?;
        tracing::info!(promotion = %promotion.id, target = %promotion.target_env_id, "promotion started");
        Ok(promotion)
    }

    /// Records `release_id` as the release a pending promotion made, inside the transaction
    /// that inserts the release. `Conflict` unless the promotion is pending without one.
    pub(crate) async fn link_promotion(
        tx: &mut sqlx::AnyConnection,
        promotion_id: &str,
        release_id: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE promotions SET target_release_id = $1, updated_at = $2 \
             WHERE id = $3 AND status = $4 AND target_release_id IS NULL",
        )
        .bind(release_id)
        .bind(now())
        .bind(promotion_id)
        .bind(PromotionStatus::Pending.as_str())
        .execute(&mut *tx)
        .await
        .ctx("linking a release to its promotion")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "promotion {promotion_id} is not waiting for a release"
            )));
        }
        Ok(())
    }

    /// A promotion by its id or its target's id.
    pub async fn promotion(&self, id: &str) -> Result<Option<Promotion>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM promotions WHERE id = $1 OR target_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a promotion")?;
        row.as_ref().map(from_row).transpose()
    }

    /// An app's promotions, oldest first.
    pub async fn list_promotions(&self, app_id: &str) -> Result<Vec<Promotion>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM promotions WHERE app_id = $1 ORDER BY created_at, id"
        )))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing promotions")?;
        rows.iter().map(from_row).collect()
    }

    /// Every pending promotion (at startup: the ones a restart cut off).
    pub async fn pending_promotions(&self) -> Result<Vec<Promotion>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM promotions WHERE status = $1 ORDER BY created_at, id"
        )))
        .bind(PromotionStatus::Pending.as_str())
        .fetch_all(&self.pool)
        .await
        .ctx("listing pending promotions")?;
        rows.iter().map(from_row).collect()
    }

    /// Ends a pending promotion as `succeeded` or `failed` (with the reason). `Conflict` if it
    /// already ended, `Invalid` for `Pending`, `NotFound` for an unknown id.
    pub async fn finish_promotion(
        &self,
        id: &str,
        status: PromotionStatus,
        error_message: Option<&str>,
    ) -> Result<Promotion> {
        if status == PromotionStatus::Pending {
            return Err(StoreError::Invalid(
                "a promotion ends succeeded or failed".to_string(),
            ));
        }
        let done = sqlx::query(
            "UPDATE promotions SET status = $1, error_message = $2, updated_at = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(status.as_str())
        .bind(error_message)
        .bind(now())
        .bind(id)
        .bind(PromotionStatus::Pending.as_str())
        .execute(&self.pool)
        .await
        .ctx("finishing a promotion")?;
        let promotion = self
            .promotion(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("promotion {id}")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "promotion {id} already {}",
                promotion.status.as_str()
            )));
        }
        tracing::info!(promotion = %id, status = status.as_str(), "promotion finished");
        Ok(promotion)
    }

    /// Whether production of the app accepts git pushes (off unless an admin allowed them).
    pub async fn direct_pushes_allowed(&self, app_id: &str) -> Result<bool> {
        let value: Option<i64> =
            sqlx::query_scalar("SELECT allow_direct_push FROM apps WHERE id = $1")
                .bind(app_id)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading an app's push rule")?;
        value
            .map(|v| v != 0)
            .ok_or_else(|| StoreError::NotFound(format!("app {app_id}")))
    }

    /// Allows or forbids git pushes to the app's production environment.
    pub async fn set_direct_pushes(&self, app_id: &str, allowed: bool) -> Result<()> {
        let done = sqlx::query("UPDATE apps SET allow_direct_push = $1 WHERE id = $2")
            .bind(i64::from(allowed))
            .bind(app_id)
            .execute(&self.pool)
            .await
            .ctx("setting an app's push rule")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("app {app_id}")));
        }
        tracing::info!(app = %app_id, allowed, "direct pushes to production set");
        Ok(())
    }
}

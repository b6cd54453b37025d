//! Parity marks: an admin's statement that one difference between an app's staging and
//! production is intended, with the reason, kept and shown by parity. A mark names a
//! difference by aspect and item (`config` / `FEATURE_X`); marking it again replaces the reason.

use crate::error::{db_error, is_foreign_key_violation, DbContext, Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// One intended difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParityMark {
    pub id: String,
    pub app_id: String,
    pub aspect: String,
    pub item: String,
    pub reason: String,
    pub user_id: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, app_id, aspect, item, reason, user_id, created_at";

fn from_row(row: &AnyRow) -> Result<ParityMark> {
    let t = "parity_marks";
    Ok(ParityMark {
        id: get(row, t, "id")?,
        app_id: get(row, t, "app_id")?,
        aspect: get(row, t, "aspect")?,
        item: get(row, t, "item")?,
        reason: get(row, t, "reason")?,
        user_id: get(row, t, "user_id")?,
        created_at: get(row, t, "created_at")?,
    })
}

impl Store {
    /// Marks a difference intended (or replaces the reason of an existing mark). `Invalid`
    /// without a reason, aspect or item; `NotFound` for an unknown app or user.
    pub async fn set_parity_mark(
        &self,
        app_id: &str,
        aspect: &str,
        item: &str,
        reason: &str,
        user_id: Option<&str>,
    ) -> Result<ParityMark> {
        if aspect.trim().is_empty() || item.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a parity mark names an aspect and an item".to_string(),
            ));
        }
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a parity mark needs a reason".to_string(),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM parity_marks WHERE app_id = $1 AND aspect = $2 AND item = $3")
            .bind(app_id)
            .bind(aspect)
            .bind(item)
            .execute(&mut *tx)
            .await
            .ctx("replacing a parity mark")?;
        let mark = ParityMark {
            id: new_id(),
            app_id: app_id.to_string(),
            aspect: aspect.to_string(),
            item: item.to_string(),
            reason: reason.trim().to_string(),
            user_id: user_id.map(str::to_string),
            created_at: now(),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO parity_marks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .bind(&mark.id)
        .bind(&mark.app_id)
        .bind(&mark.aspect)
        .bind(&mark.item)
        .bind(&mark.reason)
        .bind(mark.user_id.as_deref())
        .bind(&mark.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("app {app_id} or user"))
            } else {
                db_error(e, "inserting a parity mark")
            }
        })?;
        tx.commit().await.ctx("committing a parity mark")?;
        tracing::info!(app = %app_id, aspect, item, "parity difference marked intended");
        Ok(mark)
    }

    /// An app's marks, by aspect and item.
    pub async fn parity_marks(&self, app_id: &str) -> Result<Vec<ParityMark>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM parity_marks WHERE app_id = $1 ORDER BY aspect, item"
        )))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading parity marks")?;
        rows.iter().map(from_row).collect()
    }

    /// Removes a mark; `NotFound` when there is none.
    pub async fn delete_parity_mark(&self, app_id: &str, aspect: &str, item: &str) -> Result<()> {
        let done =
            sqlx::query("DELETE FROM parity_marks WHERE app_id = $1 AND aspect = $2 AND item = $3")
                .bind(app_id)
                .bind(aspect)
                .bind(item)
                .execute(&self.pool)
                .await
                .ctx("deleting a parity mark")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("parity mark {aspect}/{item}")));
        }
        Ok(())
    }
}

//! Formation: process type → quantity and size for one environment, the desired state the
//! reconciler converges Docker to.

use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use doppel_types::ProcessTypes;
use sqlx::any::AnyRow;

/// The dyno size given to new formation entries.
pub const DEFAULT_SIZE: &str = doppel_types::DEFAULT_DYNO_SIZE;

/// One process type's desired dynos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormationEntry {
    pub id: String,
    pub env_id: String,
    pub process_type: String,
    pub quantity: i64,
    pub size: String,
    pub created_at: String,
    pub updated_at: String,
}

/// How a change sets a quantity: to a number, or by a difference (`+1`, `-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityChange {
    Set(i64),
    Add(i64),
}

/// One change of one process type's entry (scaling, resizing, or both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormationChange {
    pub process_type: String,
    pub quantity: Option<QuantityChange>,
    /// A dyno size name, already validated by the caller.
    pub size: Option<String>,
}

const FORMATION_COLUMNS: &str = "id, env_id, process_type, quantity, size, created_at, updated_at";

fn entry_from_row(row: &AnyRow) -> Result<FormationEntry> {
    Ok(FormationEntry {
        id: get(row, "formations", "id")?,
        env_id: get(row, "formations", "env_id")?,
        process_type: get(row, "formations", "process_type")?,
        quantity: get(row, "formations", "quantity")?,
        size: get(row, "formations", "size")?,
        created_at: get(row, "formations", "created_at")?,
        updated_at: get(row, "formations", "updated_at")?,
    })
}

impl Store {
    /// An environment's formation, by process type.
    pub async fn formation(&self, env_id: &str) -> Result<Vec<FormationEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FORMATION_COLUMNS} FROM formations WHERE env_id = $1 ORDER BY process_type"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading a formation")?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Adds an entry for each process type that has none (`web` with quantity 1, others 0,
    /// size `standard-1X`); never changes existing entries. Returns the whole formation.
    pub async fn ensure_formation(
        &self,
        env_id: &str,
        process_types: &ProcessTypes,
    ) -> Result<Vec<FormationEntry>> {
        let mut tx = self.begin_write().await?;
        Store::lock_environment(&mut tx, env_id, false).await?;
        let ts = now();
        for process_type in process_types.keys() {
            let quantity: i64 = if process_type == "web" { 1 } else { 0 };
            sqlx::query(
                "INSERT INTO formations (id, env_id, process_type, quantity, size, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
                 ON CONFLICT (env_id, process_type) DO NOTHING",
            )
            .bind(new_id())
            .bind(env_id)
            .bind(process_type.as_str())
            .bind(quantity)
            .bind(DEFAULT_SIZE)
            .bind(&ts)
            .execute(&mut *tx)
            .await
            .ctx("adding a formation entry")?;
        }
        tx.commit().await.ctx("committing a formation")?;
        self.formation(env_id).await
    }

    /// Changes the quantity and/or size of an existing entry (scaling). `NotFound` when the
    /// environment has no entry for `process_type`; `Invalid` for a negative quantity.
    pub async fn update_formation(
        &self,
        env_id: &str,
        process_type: &str,
        quantity: Option<i64>,
        size: Option<&str>,
    ) -> Result<FormationEntry> {
        if quantity.is_some_and(|q| q < 0) {
            return Err(StoreError::Invalid(format!(
                "quantity for {process_type} must not be negative"
            )));
        }
        let done = sqlx::query(
            "UPDATE formations SET quantity = COALESCE($1, quantity), size = COALESCE($2, size), \
             updated_at = $3 WHERE env_id = $4 AND process_type = $5",
        )
        .bind(quantity)
        .bind(size)
        .bind(now())
        .bind(env_id)
        .bind(process_type)
        .execute(&self.pool)
        .await
        .ctx("updating a formation entry")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "formation entry {process_type} of environment {env_id}"
            )));
        }
        self.formation(env_id)
            .await?
            .into_iter()
            .find(|e| e.process_type == process_type)
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "formation entry {process_type} of environment {env_id}"
                ))
            })
    }

    /// Applies `changes` in one transaction, all or none. Relative quantities are resolved
    /// against the stored ones under the environment's lock (so two `+1`s make `+2`). A
    /// resulting quantity below 0 or above `max_quantity` is `Invalid` (naming the type and the
    /// limit), a type without an entry `NotFound`; either way nothing changes. Returns the
    /// changed entries in the order first named.
    pub async fn change_formation(
        &self,
        env_id: &str,
        changes: &[FormationChange],
        max_quantity: i64,
    ) -> Result<Vec<FormationEntry>> {
        let mut tx = self.begin_write().await?;
        Store::lock_environment(&mut tx, env_id, false).await?;
        let ts = now();
        let mut order: Vec<&str> = Vec::new();
        for change in changes {
            let missing = || {
                StoreError::NotFound(format!(
                    "formation entry {} of environment {env_id}",
                    change.process_type
                ))
            };
            let current: i64 = sqlx::query_scalar(
                "SELECT quantity FROM formations WHERE env_id = $1 AND process_type = $2",
            )
            .bind(env_id)
            .bind(change.process_type.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading a formation entry")?
            .ok_or_else(missing)?;
            let quantity = match change.quantity {
                Some(QuantityChange::Set(n)) => Some(n),
                Some(QuantityChange::Add(d)) => Some(current.saturating_add(d)),
                None => None,
            };
            if let Some(q) = quantity.filter(|q| !(0..=max_quantity).contains(q)) {
                return Err(StoreError::Invalid(format!(
                    "{} would have {q} dynos; a process type runs from 0 to {max_quantity} dynos",
                    change.process_type
                )));
            }
            sqlx::query(
                "UPDATE formations SET quantity = COALESCE($1, quantity), \
                 size = COALESCE($2, size), updated_at = $3 \
                 WHERE env_id = $4 AND process_type = $5",
            )
            .bind(quantity)
            .bind(change.size.as_deref())
            .bind(&ts)
            .bind(env_id)
            .bind(change.process_type.as_str())
            .execute(&mut *tx)
            .await
            .ctx("changing a formation entry")?;
            if !order.contains(&change.process_type.as_str()) {
                order.push(&change.process_type);
            }
        }
        tx.commit().await.ctx("committing a formation change")?;
        let all = self.formation(env_id).await?;
        Ok(order
            .iter()
            .filter_map(|t| all.iter().find(|e| e.process_type == *t).cloned())
            .collect())
    }
}

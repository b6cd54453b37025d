//! Collaborators: which users may see and change which apps. One row per (app, user): no
//! environment means both environments of the app, otherwise only the one named. Admins see
//! everything without a row.

use crate::error::{db_error, is_foreign_key_violation, DbContext, Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// One user's access to one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collaborator {
    pub id: String,
    pub app_id: String,
    /// `None`: both environments; otherwise the one environment's id.
    pub env_id: Option<String>,
    pub user_id: String,
    pub email: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Collaborator {
    /// Whether this access covers the environment `env_id`.
    pub fn covers(&self, env_id: &str) -> bool {
        self.env_id.as_deref().is_none_or(|e| e == env_id)
    }
}

const COLUMNS: &str = "c.id, c.app_id, c.env_id, c.user_id, u.email, c.created_at, c.updated_at";

fn from_row(row: &AnyRow) -> Result<Collaborator> {
    Ok(Collaborator {
        id: get(row, "collaborators", "id")?,
        app_id: get(row, "collaborators", "app_id")?,
        env_id: get(row, "collaborators", "env_id")?,
        user_id: get(row, "collaborators", "user_id")?,
        email: get(row, "collaborators", "email")?,
        created_at: get(row, "collaborators", "created_at")?,
        updated_at: get(row, "collaborators", "updated_at")?,
    })
}

impl Store {
    /// The collaborators of an app, by email.
    pub async fn collaborators(&self, app_id: &str) -> Result<Vec<Collaborator>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM collaborators c JOIN users u ON u.id = c.user_id \
             WHERE c.app_id = $1 ORDER BY u.email"
        )))
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing collaborators")?;
        rows.iter().map(from_row).collect()
    }

    /// Every access a user has, one per app.
    pub async fn access_of(&self, user_id: &str) -> Result<Vec<Collaborator>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM collaborators c JOIN users u ON u.id = c.user_id \
             WHERE c.user_id = $1"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing a user's access")?;
        rows.iter().map(from_row).collect()
    }

    /// Grants `user_id` access to the app (`env_id` `None`: both environments). A second
    /// grant widens or narrows the first; granting one environment to a user who has the
    /// other gives both.
    pub async fn grant_access(
        &self,
        app_id: &str,
        user_id: &str,
        env_id: Option<&str>,
    ) -> Result<Collaborator> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, env_id FROM collaborators WHERE app_id = $1 AND user_id = $2",
        )
        .bind(app_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .ctx("reading access")?;
        let ts = now();
        match existing {
            Some((id, current)) => {
                let widened = match (current.as_deref(), env_id) {
                    (Some(a), Some(b)) if a == b => Some(a.to_string()),
                    _ => None,
                };
                sqlx::query("UPDATE collaborators SET env_id = $1, updated_at = $2 WHERE id = $3")
                    .bind(widened)
                    .bind(&ts)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .ctx("updating access")?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO collaborators (id, app_id, env_id, user_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(new_id())
                .bind(app_id)
                .bind(env_id)
                .bind(user_id)
                .bind(&ts)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if is_foreign_key_violation(&e) {
                        StoreError::NotFound(format!("app {app_id} or user {user_id}"))
                    } else {
                        db_error(e, "granting access")
                    }
                })?;
            }
        }
        tx.commit().await.ctx("committing access")?;
        tracing::info!(app = %app_id, user = %user_id, env = ?env_id, "granted access");
        self.collaborators(app_id)
            .await?
            .into_iter()
            .find(|c| c.user_id == user_id)
            .ok_or_else(|| StoreError::NotFound(format!("access of user {user_id}")))
    }

    /// Removes a user's access to an app; `false` when there was none.
    pub async fn revoke_access(&self, app_id: &str, user_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM collaborators WHERE app_id = $1 AND user_id = $2")
            .bind(app_id)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .ctx("revoking access")?;
        tracing::info!(app = %app_id, user = %user_id, "revoked access");
        Ok(done.rows_affected() > 0)
    }

    /// Narrows a user's access to the app down to the one environment `env_id` (how access
    /// to the other environment is taken away). `false` when the user has no access.
    pub async fn restrict_access(&self, app_id: &str, user_id: &str, env_id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE collaborators SET env_id = $1, updated_at = $2 \
             WHERE app_id = $3 AND user_id = $4",
        )
        .bind(env_id)
        .bind(now())
        .bind(app_id)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("environment {env_id}"))
            } else {
                db_error(e, "narrowing access")
            }
        })?;
        if done.rows_affected() > 0 {
            tracing::info!(app = %app_id, user = %user_id, env = %env_id, "narrowed access");
        }
        Ok(done.rows_affected() > 0)
    }

    /// Digests of the valid tokens of every user with access to `env_id` (the router checks a
    /// private environment's Basic auth against these), admins included.
    pub async fn env_token_digests(
        &self,
        app_id: &str,
        env_id: &str,
    ) -> Result<std::collections::HashSet<String>> {
        let digests: Vec<String> = sqlx::query_scalar(
            "SELECT t.digest FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.revoked_at IS NULL AND (u.admin = 1 OR EXISTS ( \
               SELECT 1 FROM collaborators c WHERE c.user_id = u.id AND c.app_id = $1 \
               AND (c.env_id IS NULL OR c.env_id = $2)))",
        )
        .bind(app_id)
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing an environment's token digests")?;
        Ok(digests.into_iter().collect())
    }
}

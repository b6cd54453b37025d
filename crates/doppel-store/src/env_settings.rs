//! Settings of one environment that are not releases: the stack its next build runs on,
//! maintenance mode and session affinity.

use crate::error::{DbContext, Result, StoreError};
use crate::util::now;
use crate::{Environment, Store};

impl Store {
    /// Sets the stack `env_id`'s next build runs on (a stack's canonical name; the caller
    /// checks it names a stack). Returns the environment as it is now.
    pub async fn set_build_stack(&self, env_id: &str, stack: &str) -> Result<Environment> {
        if stack.trim().is_empty() {
            return Err(StoreError::Invalid("a stack name is required".to_string()));
        }
        let done =
            sqlx::query("UPDATE environments SET build_stack = $1, updated_at = $2 WHERE id = $3")
                .bind(stack)
                .bind(now())
                .bind(env_id)
                .execute(&self.pool)
                .await
                .ctx("setting an environment's stack")?;
        self.updated_environment(env_id, done.rows_affected()).await
    }

    /// Turns maintenance mode of `env_id` on or off. Returns the environment as it is now.
    pub async fn set_maintenance(&self, env_id: &str, on: bool) -> Result<Environment> {
        let done =
            sqlx::query("UPDATE environments SET maintenance = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(on))
                .bind(now())
                .bind(env_id)
                .execute(&self.pool)
                .await
                .ctx("setting maintenance mode")?;
        self.updated_environment(env_id, done.rows_affected()).await
    }

    /// Turns session affinity (`http-session-affinity`) of an environment on or off.
    pub async fn set_session_affinity(&self, env_id: &str, on: bool) -> Result<Environment> {
        let done = sqlx::query(
            "UPDATE environments SET session_affinity = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(i64::from(on))
        .bind(now())
        .bind(env_id)
        .execute(&self.pool)
        .await
        .ctx("setting session affinity")?;
        self.updated_environment(env_id, done.rows_affected()).await
    }

    async fn updated_environment(&self, env_id: &str, rows: u64) -> Result<Environment> {
        let missing = || StoreError::NotFound(format!("environment {env_id}"));
        if rows == 0 {
            return Err(missing());
        }
        self.environment(env_id).await?.ok_or_else(missing)
    }
}

//! Private environments' own access passwords: a second credential for the router's Basic
//! auth besides the tokens of users with access. Only the digest the router checks
//! (`doppel_types::token_digest`) is kept, never the password; one per environment.

use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, now};
use crate::Store;
use std::collections::HashMap;

/// When and by whom an environment's access password was set (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPassword {
    pub env_id: String,
    /// The user who set it (none once that user is gone is fine: the audit log keeps who).
    pub set_by: Option<String>,
    pub set_at: String,
}

impl Store {
    /// Sets (or replaces) `env_id`'s access password, keeping only its digest.
    /// `Invalid` for an empty password, `NotFound` for an unknown environment.
    pub async fn set_access_password(
        &self,
        env_id: &str,
        password: &str,
        set_by: Option<&str>,
    ) -> Result<AccessPassword> {
        if password.is_empty() {
            return Err(StoreError::Invalid(
                "an access password cannot be empty".to_string(),
            ));
        }
        if self.environment(env_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("environment {env_id}")));
        }
        let set_at = now();
        sqlx::query(
            "INSERT INTO env_access_passwords (env_id, digest, set_by, set_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (env_id) DO UPDATE SET \
             digest = excluded.digest, set_by = excluded.set_by, set_at = excluded.set_at",
        )
        .bind(env_id)
        .bind(doppel_types::token_digest(password))
        .bind(set_by)
        .bind(&set_at)
        .execute(&self.pool)
        .await
        .ctx("setting an access password")?;
        Ok(AccessPassword {
            env_id: env_id.to_string(),
            set_by: set_by.map(str::to_string),
            set_at,
        })
    }

    /// Removes `env_id`'s access password; false if it had none.
    pub async fn remove_access_password(&self, env_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM env_access_passwords WHERE env_id = $1")
            .bind(env_id)
            .execute(&self.pool)
            .await
            .ctx("removing an access password")?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether `env_id` has an access password, and since when.
    pub async fn access_password(&self, env_id: &str) -> Result<Option<AccessPassword>> {
        let row = sqlx::query(
            "SELECT env_id, set_by, set_at FROM env_access_passwords WHERE env_id = $1",
        )
        .bind(env_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading an access password")?;
        let t = "env_access_passwords";
        row.map(|row| {
            Ok(AccessPassword {
                env_id: get(&row, t, "env_id")?,
                set_by: get(&row, t, "set_by")?,
                set_at: get(&row, t, "set_at")?,
            })
        })
        .transpose()
    }

    /// Every environment's access password digest, by environment id (for the route table).
    pub async fn access_password_digests(&self) -> Result<HashMap<String, String>> {
        let rows = sqlx::query("SELECT env_id, digest FROM env_access_passwords")
            .fetch_all(&self.pool)
            .await
            .ctx("listing access password digests")?;
        let t = "env_access_passwords";
        rows.iter()
            .map(|row| Ok((get(row, t, "env_id")?, get(row, t, "digest")?)))
            .collect()
    }
}

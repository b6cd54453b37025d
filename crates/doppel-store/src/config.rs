//! Config vars of an environment: keys in clear, values encrypted at rest with
//! AAD = `env_id ‖ 0 ‖ key`, so a value copied to another environment or key fails to decrypt.

use crate::crypto::config_aad;
use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, now};
use crate::Store;
use std::collections::BTreeMap;

/// Whether `key` is a valid config var name (`^\w+$`, ASCII).
pub fn valid_config_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Store {
    /// An environment's config vars, decrypted.
    pub async fn config_vars(&self, env_id: &str) -> Result<BTreeMap<String, String>> {
        let mut conn = self.pool.acquire().await.ctx("acquiring a connection")?;
        self.read_config(&mut conn, env_id).await
    }

    /// Reads and decrypts an environment's config on `conn` (inside a transaction or not).
    pub(crate) async fn read_config(
        &self,
        conn: &mut sqlx::AnyConnection,
        env_id: &str,
    ) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query("SELECT key, value FROM config_vars WHERE env_id = $1")
            .bind(env_id)
            .fetch_all(&mut *conn)
            .await
            .ctx("reading config vars")?;
        let mut vars = BTreeMap::new();
        for row in &rows {
            let key: String = get(row, "config_vars", "key")?;
            let sealed: String = get(row, "config_vars", "value")?;
            let value = self.cipher.open(
                &config_aad(env_id, &key),
                &sealed,
                &format!("config var {key} of environment {env_id}"),
            )?;
            vars.insert(key, value);
        }
        Ok(vars)
    }

    /// One config var of every environment that has it, decrypted: env id → value (for
    /// the few vars the platform itself reads, such as `ERROR_PAGE_URL`).
    pub async fn config_var_of_all(&self, key: &str) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query("SELECT env_id, value FROM config_vars WHERE key = $1")
            .bind(key)
            .fetch_all(&self.pool)
            .await
            .ctx("reading a config var of every environment")?;
        let mut out = BTreeMap::new();
        for row in &rows {
            let env_id: String = get(row, "config_vars", "env_id")?;
            let sealed: String = get(row, "config_vars", "value")?;
            let value = self.cipher.open(
                &config_aad(&env_id, key),
                &sealed,
                &format!("config var {key} of environment {env_id}"),
            )?;
            out.insert(env_id, value);
        }
        Ok(out)
    }

    /// Makes an environment's config exactly `config` (inside the caller's transaction).
    pub(crate) async fn replace_config(
        &self,
        conn: &mut sqlx::AnyConnection,
        env_id: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<()> {
        sqlx::query("DELETE FROM config_vars WHERE env_id = $1")
            .bind(env_id)
            .execute(&mut *conn)
            .await
            .ctx("clearing config vars")?;
        let ts = now();
        for (key, value) in config {
            let sealed = self.cipher.seal(
                &config_aad(env_id, key),
                value,
                &format!("config var {key} of environment {env_id}"),
            )?;
            sqlx::query(
                "INSERT INTO config_vars (env_id, key, value, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(env_id)
            .bind(key.as_str())
            .bind(sealed)
            .bind(&ts)
            .execute(&mut *conn)
            .await
            .ctx("writing a config var")?;
        }
        Ok(())
    }

    /// Applies `changes` (`None` deletes a key) in one transaction and returns the full
    /// config afterwards. `Invalid` for a key outside `^\w+$`, `NotFound` for an unknown
    /// environment.
    pub async fn set_config_vars(
        &self,
        env_id: &str,
        changes: &BTreeMap<String, Option<String>>,
    ) -> Result<BTreeMap<String, String>> {
        if let Some(bad) = changes.keys().find(|k| !valid_config_key(k)) {
            return Err(StoreError::Invalid(format!(
                "config var key {bad:?} may only contain letters, digits and underscores"
            )));
        }
        let mut tx = self.begin_write().await?;
        Store::lock_environment(&mut tx, env_id, true).await?;
        let ts = now();
        for (key, value) in changes {
            match value {
                Some(value) => {
                    let sealed = self.cipher.seal(
                        &config_aad(env_id, key),
                        value,
                        &format!("config var {key} of environment {env_id}"),
                    )?;
                    sqlx::query(
                        "INSERT INTO config_vars (env_id, key, value, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $4) \
                         ON CONFLICT (env_id, key) DO UPDATE \
                         SET value = excluded.value, updated_at = excluded.updated_at",
                    )
                    .bind(env_id)
                    .bind(key.as_str())
                    .bind(sealed)
                    .bind(&ts)
                    .execute(&mut *tx)
                    .await
                    .ctx("writing a config var")?;
                }
                None => {
                    sqlx::query("DELETE FROM config_vars WHERE env_id = $1 AND key = $2")
                        .bind(env_id)
                        .bind(key.as_str())
                        .execute(&mut *tx)
                        .await
                        .ctx("deleting a config var")?;
                }
            }
        }
        let vars = self.read_config(&mut tx, env_id).await?;
        tx.commit().await.ctx("committing config vars")?;
        // Key names only: values are secrets.
        tracing::info!(
            env = %env_id,
            keys = ?changes.keys().collect::<Vec<_>>(),
            "config vars changed"
        );
        Ok(vars)
    }
}

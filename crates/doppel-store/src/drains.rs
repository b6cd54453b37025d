//! Log drains: where an environment's log stream is also sent (syslog over TCP or TLS, or
//! HTTPS). A drain's URL may carry credentials, so it is kept encrypted at rest, with a
//! digest that makes the same URL unique per environment.

use crate::error::{
    db_error, is_foreign_key_violation, is_unique_violation, DbContext, Result, StoreError,
};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// One drain of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDrain {
    pub id: String,
    pub env_id: String,
    /// Decrypted.
    pub url: String,
    /// Heroku's drain token (`d.<uuid>`): the syslog host name of every line sent to it.
    pub token: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, env_id, url, token, created_at, updated_at";

/// Associated data binding a sealed drain URL to its row.
fn drain_aad(id: &str) -> Vec<u8> {
    format!("drain:{id}").into_bytes()
}

fn url_digest(env_id: &str, url: &str) -> String {
    doppel_types::token_digest(&format!("{env_id}\n{url}"))
}

impl Store {
    fn drain_from_row(&self, row: &AnyRow) -> Result<LogDrain> {
        let t = "log_drains";
        let id: String = get(row, t, "id")?;
        let sealed: String = get(row, t, "url")?;
        let url = self
            .cipher
            .open(&drain_aad(&id), &sealed, &format!("the URL of drain {id}"))?;
        Ok(LogDrain {
            env_id: get(row, t, "env_id")?,
            url,
            token: get(row, t, "token")?,
            created_at: get(row, t, "created_at")?,
            updated_at: get(row, t, "updated_at")?,
            id,
        })
    }

    /// Adds a drain; the same URL twice on one environment is `Conflict`.
    pub async fn add_log_drain(&self, env_id: &str, url: &str) -> Result<LogDrain> {
        let ts = now();
        let id = new_id();
        let drain = LogDrain {
            url: url.to_string(),
            env_id: env_id.to_string(),
            token: format!("d.{}", new_id()),
            created_at: ts.clone(),
            updated_at: ts,
            id,
        };
        let sealed = self.cipher.seal(
            &drain_aad(&drain.id),
            url,
            &format!("the URL of drain {}", drain.id),
        )?;
        sqlx::query(
            "INSERT INTO log_drains (id, env_id, url, url_digest, token, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&drain.id)
        .bind(env_id)
        .bind(sealed)
        .bind(url_digest(env_id, url))
        .bind(&drain.token)
        .bind(&drain.created_at)
        .bind(&drain.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("environment {env_id}"))
            } else if is_unique_violation(&e) {
                StoreError::Conflict("this drain is already added to the app".to_string())
            } else {
                db_error(e, "adding a log drain")
            }
        })?;
        tracing::info!(env = %env_id, drain = %drain.id, "log drain added");
        Ok(drain)
    }

    /// An environment's drains, oldest first.
    pub async fn log_drains(&self, env_id: &str) -> Result<Vec<LogDrain>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM log_drains WHERE env_id = $1 ORDER BY created_at, id"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing log drains")?;
        rows.iter().map(|r| self.drain_from_row(r)).collect()
    }

    /// Every environment's drains.
    pub async fn all_log_drains(&self) -> Result<Vec<LogDrain>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM log_drains ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing every log drain")?;
        rows.iter().map(|r| self.drain_from_row(r)).collect()
    }

    /// Removes the drain of `env_id` named by its id, token or URL; returns it.
    pub async fn remove_log_drain(&self, env_id: &str, which: &str) -> Result<LogDrain> {
        let drain = self
            .log_drains(env_id)
            .await?
            .into_iter()
            .find(|d| d.id == which || d.token == which || d.url == which)
            .ok_or_else(|| StoreError::NotFound("that log drain".to_string()))?;
        sqlx::query("DELETE FROM log_drains WHERE id = $1")
            .bind(&drain.id)
            .execute(&self.pool)
            .await
            .ctx("removing a log drain")?;
        tracing::info!(env = %env_id, drain = %drain.id, "log drain removed");
        Ok(drain)
    }
}

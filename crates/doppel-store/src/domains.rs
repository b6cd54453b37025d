//! Custom domains: host names the router sends to one environment, unique across the
//! installation. The caller validates and normalizes the host name (lowercase, no trailing
//! dot); the store keeps it unique and bounds how many one environment has.

use crate::error::{db_error, is_foreign_key_violation, is_unique_violation, DbContext};
use crate::error::{Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// One custom domain of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: String,
    pub env_id: String,
    /// Lowercase, without a trailing dot.
    pub hostname: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, env_id, hostname, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Domain> {
    Ok(Domain {
        id: get(row, "domains", "id")?,
        env_id: get(row, "domains", "env_id")?,
        hostname: get(row, "domains", "hostname")?,
        created_at: get(row, "domains", "created_at")?,
        updated_at: get(row, "domains", "updated_at")?,
    })
}

impl Store {
    /// Adds `hostname` to `env_id`. `NameTaken` when any environment already has it;
    /// `Invalid` when the environment already has `max_per_env` domains; `NotFound` when the
    /// environment does not exist. The count and the insert are one transaction.
    pub async fn add_domain(
        &self,
        env_id: &str,
        hostname: &str,
        max_per_env: usize,
    ) -> Result<Domain> {
        let mut tx = self.begin_write().await?;
        Store::lock_environment(&mut tx, env_id, false).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domains WHERE env_id = $1")
            .bind(env_id)
            .fetch_one(&mut *tx)
            .await
            .ctx("counting an environment's domains")?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= max_per_env {
            return Err(StoreError::Invalid(format!(
                "an environment has at most {max_per_env} custom domains; remove one first"
            )));
        }
        let ts = now();
        let domain = Domain {
            id: new_id(),
            env_id: env_id.to_string(),
            hostname: hostname.to_string(),
            created_at: ts.clone(),
            updated_at: ts,
        };
        sqlx::query(
            "INSERT INTO domains (id, env_id, hostname, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&domain.id)
        .bind(&domain.env_id)
        .bind(&domain.hostname)
        .bind(&domain.created_at)
        .bind(&domain.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::NameTaken(hostname.to_string())
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("environment {env_id}"))
            } else {
                db_error(e, "adding a domain")
            }
        })?;
        tx.commit().await.ctx("committing a domain")?;
        tracing::info!(env = %env_id, hostname, "added domain");
        Ok(domain)
    }

    /// The custom domains of one environment, by host name.
    pub async fn domains(&self, env_id: &str) -> Result<Vec<Domain>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM domains WHERE env_id = $1 ORDER BY hostname"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing an environment's domains")?;
        rows.iter().map(from_row).collect()
    }

    /// Every custom domain of the installation, by host name (for the route table).
    pub async fn all_domains(&self) -> Result<Vec<Domain>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM domains ORDER BY hostname"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing domains")?;
        rows.iter().map(from_row).collect()
    }

    /// A domain by id or host name, whichever environment has it.
    pub async fn domain(&self, id_or_hostname: &str) -> Result<Option<Domain>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM domains WHERE id = $1 OR hostname = $1"
        )))
        .bind(id_or_hostname)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a domain")?;
        row.as_ref().map(from_row).transpose()
    }

    /// Removes domain `domain_id` of `env_id`; `false` when that environment has no such domain.
    pub async fn remove_domain(&self, env_id: &str, domain_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM domains WHERE id = $1 AND env_id = $2")
            .bind(domain_id)
            .bind(env_id)
            .execute(&self.pool)
            .await
            .ctx("removing a domain")?;
        if done.rows_affected() > 0 {
            tracing::info!(env = %env_id, domain = %domain_id, "removed domain");
        }
        Ok(done.rows_affected() > 0)
    }
}

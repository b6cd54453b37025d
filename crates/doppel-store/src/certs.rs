//! Certificates of custom domains: uploaded ones (Heroku's SNI endpoints, one environment's),
//! the environments with ACM (ACME) on and the ACME account per directory (the ACME
//! certificates themselves are in `acme_certs.rs`). Private keys and account credentials are
//! sealed with the master key; the caller validates chains and keys before storing them.

use crate::error::{db_error, is_foreign_key_violation, DbContext};
use crate::error::{Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// An uploaded certificate chain and its key, served for the environment's custom domains it
/// covers. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SniEndpoint {
    pub id: String,
    pub env_id: String,
    /// Unique across the installation (`sni-<8 hex>`).
    pub name: String,
    /// PEM, leaf first.
    pub certificate_chain: String,
    /// PEM, decrypted.
    pub private_key: String,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for SniEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniEndpoint")
            .field("id", &self.id)
            .field("env_id", &self.env_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn sni_aad(id: &str) -> Vec<u8> {
    format!("sni-endpoint:{id}").into_bytes()
}

fn acme_account_aad(directory: &str) -> Vec<u8> {
    format!("acme-account:{directory}").into_bytes()
}

const SNI_COLUMNS: &str =
    "id, env_id, name, certificate_chain, private_key, created_at, updated_at";
impl Store {
    fn sni_from_row(&self, row: &AnyRow) -> Result<SniEndpoint> {
        let t = "sni_endpoints";
        let id: String = get(row, t, "id")?;
        let sealed: String = get(row, t, "private_key")?;
        let private_key = self.cipher.open(
            &sni_aad(&id),
            &sealed,
            &format!("the key of SNI endpoint {id}"),
        )?;
        Ok(SniEndpoint {
            env_id: get(row, t, "env_id")?,
            name: get(row, t, "name")?,
            certificate_chain: get(row, t, "certificate_chain")?,
            private_key,
            created_at: get(row, t, "created_at")?,
            updated_at: get(row, t, "updated_at")?,
            id,
        })
    }

    /// Stores an uploaded certificate for `env_id`. `NotFound` for an unknown environment.
    pub async fn create_sni_endpoint(
        &self,
        env_id: &str,
        chain: &str,
        key: &str,
    ) -> Result<SniEndpoint> {
        let id = new_id();
        let ts = now();
        let sealed = self
            .cipher
            .seal(&sni_aad(&id), key, "an SNI endpoint's key")?;
        let name = format!("sni-{}", &id[..8]);
        sqlx::query(
            "INSERT INTO sni_endpoints (id, env_id, name, certificate_chain, private_key, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(env_id)
        .bind(&name)
        .bind(chain)
        .bind(&sealed)
        .bind(&ts)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("environment {env_id}"))
            } else {
                db_error(e, "adding an SNI endpoint")
            }
        })?;
        tracing::info!(env = %env_id, sni_endpoint = %name, "added SNI endpoint");
        Ok(SniEndpoint {
            id,
            env_id: env_id.to_string(),
            name,
            certificate_chain: chain.to_string(),
            private_key: key.to_string(),
            created_at: ts.clone(),
            updated_at: ts,
        })
    }

    /// The SNI endpoints of one environment, oldest first.
    pub async fn sni_endpoints(&self, env_id: &str) -> Result<Vec<SniEndpoint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNI_COLUMNS} FROM sni_endpoints WHERE env_id = $1 ORDER BY created_at, id"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing SNI endpoints")?;
        rows.iter().map(|r| self.sni_from_row(r)).collect()
    }

    /// Every SNI endpoint of the installation (for the route table).
    pub async fn all_sni_endpoints(&self) -> Result<Vec<SniEndpoint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNI_COLUMNS} FROM sni_endpoints ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing SNI endpoints")?;
        rows.iter().map(|r| self.sni_from_row(r)).collect()
    }

    /// Replaces the chain and key of endpoint `id` of `env_id`; `NotFound` when it has none.
    pub async fn update_sni_endpoint(
        &self,
        env_id: &str,
        id: &str,
        chain: &str,
        key: &str,
    ) -> Result<SniEndpoint> {
        let sealed = self
            .cipher
            .seal(&sni_aad(id), key, "an SNI endpoint's key")?;
        let done = sqlx::query(
            "UPDATE sni_endpoints SET certificate_chain = $1, private_key = $2, updated_at = $3 \
             WHERE id = $4 AND env_id = $5",
        )
        .bind(chain)
        .bind(&sealed)
        .bind(now())
        .bind(id)
        .bind(env_id)
        .execute(&self.pool)
        .await
        .ctx("updating an SNI endpoint")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("SNI endpoint {id}")));
        }
        self.sni_endpoints(env_id)
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("SNI endpoint {id}")))
    }

    /// Removes endpoint `id` of `env_id`; `false` when that environment has no such endpoint.
    pub async fn remove_sni_endpoint(&self, env_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sni_endpoints WHERE id = $1 AND env_id = $2")
            .bind(id)
            .bind(env_id)
            .execute(&self.pool)
            .await
            .ctx("removing an SNI endpoint")?;
        Ok(done.rows_affected() > 0)
    }

    /// Turns ACM on or off for `env_id`. Off also forgets its domains' ACME certificates.
    pub async fn set_acm(&self, env_id: &str, on: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if on {
            sqlx::query(
                "INSERT INTO acm_environments (env_id, enabled_at) VALUES ($1, $2) \
                 ON CONFLICT (env_id) DO NOTHING",
            )
            .bind(env_id)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_foreign_key_violation(&e) {
                    StoreError::NotFound(format!("environment {env_id}"))
                } else {
                    db_error(e, "turning ACM on")
                }
            })?;
        } else {
            sqlx::query("DELETE FROM acm_environments WHERE env_id = $1")
                .bind(env_id)
                .execute(&mut *tx)
                .await
                .ctx("turning ACM off")?;
            sqlx::query(
                "DELETE FROM acme_certs WHERE domain_id IN \
                 (SELECT id FROM domains WHERE env_id = $1)",
            )
            .bind(env_id)
            .execute(&mut *tx)
            .await
            .ctx("forgetting ACME certificates")?;
        }
        tx.commit().await.ctx("committing ACM")?;
        Ok(())
    }

    /// The environments with ACM on.
    pub async fn acm_environments(&self) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT env_id FROM acm_environments ORDER BY env_id")
            .fetch_all(&self.pool)
            .await
            .ctx("listing ACM environments")
    }

    /// Whether `env_id` has ACM on.
    pub async fn acm_enabled(&self, env_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM acm_environments WHERE env_id = $1")
            .bind(env_id)
            .fetch_one(&self.pool)
            .await
            .ctx("reading ACM")?;
        Ok(n > 0)
    }

    /// The ACME account credentials (JSON) for `directory`, if one was created.
    pub async fn acme_account(&self, directory: &str) -> Result<Option<String>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT credentials FROM acme_accounts WHERE directory = $1")
                .bind(directory)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading the ACME account")?;
        sealed
            .map(|s| {
                self.cipher
                    .open(&acme_account_aad(directory), &s, "the ACME account")
            })
            .transpose()
    }

    /// Keeps the ACME account credentials (JSON) for `directory`; the first one stays.
    pub async fn save_acme_account(&self, directory: &str, credentials: &str) -> Result<()> {
        let sealed = self.cipher.seal(
            &acme_account_aad(directory),
            credentials,
            "the ACME account",
        )?;
        sqlx::query(
            "INSERT INTO acme_accounts (directory, credentials, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (directory) DO NOTHING",
        )
        .bind(directory)
        .bind(&sealed)
        .bind(now())
        .execute(&self.pool)
        .await
        .ctx("saving the ACME account")?;
        Ok(())
    }
}

//! ACME certificates and the state of getting them, for two kinds of target with the same
//! columns: a custom domain (table `acme_certs`, keyed by the domain's id, removed with the
//! domain) and one of the platform's own host names (table `platform_certs`, keyed by the
//! host name: the platform host, `dashboard.<domain>`, `<env>.<domain>`). Keys are sealed
//! with the master key.

use crate::error::{db_error, is_foreign_key_violation, DbContext};
use crate::error::{Result, StoreError};
use crate::util::{get, now};
use crate::Store;
use sqlx::any::AnyRow;

/// Whose ACME certificate a row is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AcmeTarget {
    /// A custom domain, by its id (`acme_certs`).
    Domain(String),
    /// A platform host name (`platform_certs`, keyed by the row's host name).
    Platform,
}

impl AcmeTarget {
    fn table(&self) -> &'static str {
        match self {
            AcmeTarget::Domain(_) => "acme_certs",
            AcmeTarget::Platform => "platform_certs",
        }
    }

    fn key_column(&self) -> &'static str {
        match self {
            AcmeTarget::Domain(_) => "domain_id",
            AcmeTarget::Platform => "hostname",
        }
    }

    /// The value of the row's key column.
    fn key<'a>(&'a self, hostname: &'a str) -> &'a str {
        match self {
            AcmeTarget::Domain(id) => id,
            AcmeTarget::Platform => hostname,
        }
    }

    /// What the sealed key is bound to.
    fn aad(&self, hostname: &str) -> Vec<u8> {
        match self {
            AcmeTarget::Domain(id) => format!("acme-cert:{id}").into_bytes(),
            AcmeTarget::Platform => format!("platform-cert:{hostname}").into_bytes(),
        }
    }

    /// The custom domain's id, for a custom domain's row.
    pub fn domain_id(&self) -> Option<&str> {
        match self {
            AcmeTarget::Domain(id) => Some(id),
            AcmeTarget::Platform => None,
        }
    }
}

/// Where getting an ACME certificate for one host name stands. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct AcmeCert {
    pub target: AcmeTarget,
    pub hostname: String,
    /// `pending`, `cert issued`, `failing` (retrying), `failed`.
    pub status: String,
    pub reason: Option<String>,
    /// The last issued chain and key (kept while a renewal is pending or failing).
    pub certificate_chain: Option<String>,
    pub private_key: Option<String>,
    pub expires_at: Option<String>,
    pub issued_at: Option<String>,
    /// Failed attempts since the last success.
    pub attempts: i64,
    /// No new attempt before this time (back-off after a failure).
    pub next_attempt_at: Option<String>,
    pub updated_at: String,
}

impl std::fmt::Debug for AcmeCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeCert")
            .field("target", &self.target)
            .field("hostname", &self.hostname)
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("expires_at", &self.expires_at)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// An attempt's outcome that is not a certificate: status, reason and back-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeAttempt {
    pub status: String,
    pub reason: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
}

/// The columns both tables share (each also has its key column; `hostname` is the platform
/// table's).
const COLUMNS: &str = "hostname, status, reason, certificate_chain, private_key, \
     expires_at, issued_at, attempts, next_attempt_at, updated_at";

impl Store {
    fn acme_from_row(&self, kind: &AcmeTarget, row: &AnyRow) -> Result<AcmeCert> {
        let t = kind.table();
        let hostname: String = get(row, t, "hostname")?;
        let target = match kind {
            AcmeTarget::Domain(_) => AcmeTarget::Domain(get(row, t, "domain_id")?),
            AcmeTarget::Platform => AcmeTarget::Platform,
        };
        let sealed: Option<String> = get(row, t, "private_key")?;
        let private_key = sealed
            .map(|s| {
                self.cipher.open(
                    &target.aad(&hostname),
                    &s,
                    &format!("the ACME key of {hostname}"),
                )
            })
            .transpose()?;
        Ok(AcmeCert {
            status: get(row, t, "status")?,
            reason: get(row, t, "reason")?,
            certificate_chain: get(row, t, "certificate_chain")?,
            private_key,
            expires_at: get(row, t, "expires_at")?,
            issued_at: get(row, t, "issued_at")?,
            attempts: get(row, t, "attempts")?,
            next_attempt_at: get(row, t, "next_attempt_at")?,
            updated_at: get(row, t, "updated_at")?,
            target,
            hostname,
        })
    }

    async fn acme_rows(&self, kind: AcmeTarget) -> Result<Vec<AcmeCert>> {
        let (table, key) = (kind.table(), kind.key_column());
        let extra = if key == "hostname" {
            String::new()
        } else {
            format!(", {key}")
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}{extra} FROM {table} ORDER BY hostname"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing ACME certificates")?;
        rows.iter().map(|r| self.acme_from_row(&kind, r)).collect()
    }

    /// Every custom domain's ACME certificate row (issued or being obtained).
    pub async fn acme_certs(&self) -> Result<Vec<AcmeCert>> {
        self.acme_rows(AcmeTarget::Domain(String::new())).await
    }

    /// Every platform host name's ACME certificate row (issued or being obtained).
    pub async fn platform_certs(&self) -> Result<Vec<AcmeCert>> {
        self.acme_rows(AcmeTarget::Platform).await
    }

    /// Forgets the platform host name's ACME row (a name no longer wanted); `false` when it
    /// had none.
    pub async fn remove_platform_cert(&self, hostname: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM platform_certs WHERE hostname = $1")
            .bind(hostname)
            .execute(&self.pool)
            .await
            .ctx("removing a platform certificate")?;
        Ok(done.rows_affected() > 0)
    }

    /// Records an attempt's status for `hostname` of `target` (keeps an issued chain and
    /// key). `NotFound` for a custom domain that does not exist.
    pub async fn set_acme_attempt(
        &self,
        target: &AcmeTarget,
        hostname: &str,
        attempt: &AcmeAttempt,
    ) -> Result<()> {
        let (table, key) = (target.table(), target.key_column());
        let (columns, values) = key_columns(target);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({columns}status, reason, attempts, next_attempt_at, \
             updated_at) VALUES ({values}$3, $4, $5, $6, $7) \
             ON CONFLICT ({key}) DO UPDATE SET hostname = $2, status = $3, reason = $4, \
             attempts = $5, next_attempt_at = $6, updated_at = $7"
        )))
        .bind(target.key(hostname))
        .bind(hostname)
        .bind(&attempt.status)
        .bind(&attempt.reason)
        .bind(attempt.attempts)
        .bind(&attempt.next_attempt_at)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(|e| not_found_or(e, target, "recording an ACME attempt"))?;
        Ok(())
    }

    /// Stores an issued certificate for `hostname` of `target`: status `cert issued`, no
    /// back-off. `NotFound` for a custom domain that does not exist.
    pub async fn store_acme_cert(
        &self,
        target: &AcmeTarget,
        hostname: &str,
        chain: &str,
        key: &str,
        expires_at: &str,
    ) -> Result<()> {
        let sealed = self
            .cipher
            .seal(&target.aad(hostname), key, "an ACME certificate's key")?;
        let ts = now();
        let (table, key_column) = (target.table(), target.key_column());
        let (columns, values) = key_columns(target);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({columns}status, reason, certificate_chain, private_key, \
             expires_at, issued_at, attempts, next_attempt_at, updated_at) \
             VALUES ({values}'cert issued', NULL, $3, $4, $5, $6, 0, NULL, $6) \
             ON CONFLICT ({key_column}) DO UPDATE SET hostname = $2, status = 'cert issued', \
             reason = NULL, certificate_chain = $3, private_key = $4, expires_at = $5, issued_at = $6, \
             attempts = 0, next_attempt_at = NULL, updated_at = $6"
        )))
        .bind(target.key(hostname))
        .bind(hostname)
        .bind(chain)
        .bind(&sealed)
        .bind(expires_at)
        .bind(&ts)
        .execute(&self.pool)
        .await
        .map_err(|e| not_found_or(e, target, "storing an ACME certificate"))?;
        tracing::info!(hostname, expires_at, "stored ACME certificate");
        Ok(())
    }
}

/// The insert's leading columns and placeholders: `$1` is the key, `$2` the host name (the
/// same value for a platform name: its insert names the column once, its update sets it).
fn key_columns(target: &AcmeTarget) -> (&'static str, &'static str) {
    match target {
        AcmeTarget::Domain(_) => ("domain_id, hostname, ", "$1, $2, "),
        AcmeTarget::Platform => ("hostname, ", "$1, "),
    }
}

fn not_found_or(e: sqlx::Error, target: &AcmeTarget, doing: &str) -> StoreError {
    match target {
        AcmeTarget::Domain(id) if is_foreign_key_violation(&e) => {
            StoreError::NotFound(format!("domain {id}"))
        }
        _ => db_error(e, doing),
    }
}

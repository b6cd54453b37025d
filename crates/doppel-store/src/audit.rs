//! The audit log: who changed what, when, from where and through which client. Rows outlive
//! the app they describe (no foreign keys), so a destroyed app's history stays readable.

use crate::error::{DbContext, Result};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: String,
    pub app_id: String,
    pub app_name: String,
    pub env_id: Option<String>,
    pub env_name: Option<String>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    /// What happened, e.g. `config.set`, `release.rollback`, `promotion.forced`.
    pub action: String,
    /// JSON details without secrets.
    pub details: String,
    /// `api`, `git`, `doppel-cli`, `heroku-cli`, `heroku3`, `dashboard`…
    pub client: String,
    pub address: Option<String>,
    pub created_at: String,
}

/// A new event (id and time are given by the store).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewAuditEvent {
    pub app_id: String,
    pub app_name: String,
    pub env_id: Option<String>,
    pub env_name: Option<String>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub action: String,
    pub details: String,
    pub client: String,
    pub address: Option<String>,
}

/// Which events to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub env_id: Option<String>,
    /// A user's id or email.
    pub user: Option<String>,
    pub limit: Option<u32>,
}

const COLUMNS: &str = "id, app_id, app_name, env_id, env_name, user_id, user_email, action, \
                       details, client, address, created_at";

fn from_row(row: &AnyRow) -> Result<AuditEvent> {
    let t = "audit_events";
    Ok(AuditEvent {
        id: get(row, t, "id")?,
        app_id: get(row, t, "app_id")?,
        app_name: get(row, t, "app_name")?,
        env_id: get(row, t, "env_id")?,
        env_name: get(row, t, "env_name")?,
        user_id: get(row, t, "user_id")?,
        user_email: get(row, t, "user_email")?,
        action: get(row, t, "action")?,
        details: get(row, t, "details")?,
        client: get(row, t, "client")?,
        address: get(row, t, "address")?,
        created_at: get(row, t, "created_at")?,
    })
}

impl Store {
    /// Records one event.
    pub async fn record_audit(&self, event: &NewAuditEvent) -> Result<AuditEvent> {
        let recorded = AuditEvent {
            id: new_id(),
            app_id: event.app_id.clone(),
            app_name: event.app_name.clone(),
            env_id: event.env_id.clone(),
            env_name: event.env_name.clone(),
            user_id: event.user_id.clone(),
            user_email: event.user_email.clone(),
            action: event.action.clone(),
            details: event.details.clone(),
            client: event.client.clone(),
            address: event.address.clone(),
            created_at: now(),
        };
        // `seq` orders events recorded within the same second.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_events ({COLUMNS}, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events))"
        )))
        .bind(&recorded.id)
        .bind(&recorded.app_id)
        .bind(&recorded.app_name)
        .bind(recorded.env_id.as_deref())
        .bind(recorded.env_name.as_deref())
        .bind(recorded.user_id.as_deref())
        .bind(recorded.user_email.as_deref())
        .bind(&recorded.action)
        .bind(&recorded.details)
        .bind(&recorded.client)
        .bind(recorded.address.as_deref())
        .bind(&recorded.created_at)
        .execute(&self.pool)
        .await
        .ctx("recording an audit event")?;
        Ok(recorded)
    }

    /// An app's events, newest first.
    pub async fn audit_events(
        &self,
        app_id: &str,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEvent>> {
        let limit = i64::from(filter.limit.unwrap_or(1000).clamp(1, 10_000));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_events WHERE app_id = $1 \
             AND ($2 IS NULL OR env_id = $2) \
             AND ($3 IS NULL OR user_id = $3 OR user_email = $3) \
             ORDER BY seq DESC LIMIT $4"
        )))
        .bind(app_id)
        .bind(filter.env_id.as_deref())
        .bind(filter.user.as_deref())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the audit log")?;
        rows.iter().map(from_row).collect()
    }
}

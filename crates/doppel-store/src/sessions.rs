//! Dashboard sessions: a browser signed in as a user until the session expires or is ended.
//! The browser holds a random secret (in a cookie); the store keeps only its digest, so a
//! copy of the database signs nobody in.

use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, now, stamp};
use crate::{Store, User};
use doppel_types::token_digest;
use sqlx::any::AnyRow;
use std::time::Duration;

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The digest of the browser's secret: what names the session on the server.
    pub digest: String,
    pub user_id: String,
    pub created_at: String,
    pub expires_at: String,
    /// The address it signed in from.
    pub address: Option<String>,
}

const COLUMNS: &str = "digest, user_id, created_at, expires_at, address";

fn from_row(row: &AnyRow) -> Result<Session> {
    let t = "dashboard_sessions";
    Ok(Session {
        digest: get(row, t, "digest")?,
        user_id: get(row, t, "user_id")?,
        created_at: get(row, t, "created_at")?,
        expires_at: get(row, t, "expires_at")?,
        address: get(row, t, "address")?,
    })
}

/// A new session secret: 32 random bytes as hex.
fn generate_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Store {
    /// Starts a session of `user_id` that lasts `lifetime`; returns the secret for the
    /// browser (shown once) and the session.
    pub async fn create_session(
        &self,
        user_id: &str,
        lifetime: Duration,
        address: Option<&str>,
    ) -> Result<(String, Session)> {
        let secret = generate_secret();
        let created = time::OffsetDateTime::now_utc();
        let session = Session {
            digest: token_digest(&secret),
            user_id: user_id.to_string(),
            created_at: stamp(created),
            expires_at: stamp(created + lifetime),
            address: address.map(str::to_string),
        };
        sqlx::query(
            "INSERT INTO dashboard_sessions (digest, user_id, created_at, expires_at, address) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.digest)
        .bind(&session.user_id)
        .bind(&session.created_at)
        .bind(&session.expires_at)
        .bind(&session.address)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if crate::error::is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("user {user_id}"))
            } else {
                crate::error::db_error(e, "starting a dashboard session")
            }
        })?;
        Ok((secret, session))
    }

    /// The live session whose secret is `secret`, with its user; `None` when it is unknown,
    /// ended or expired.
    pub async fn session(&self, secret: &str) -> Result<Option<(Session, User)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM dashboard_sessions WHERE digest = $1 AND expires_at > $2"
        )))
        .bind(token_digest(secret))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a dashboard session")?;
        let Some(session) = row.as_ref().map(from_row).transpose()? else {
            return Ok(None);
        };
        Ok(self.user(&session.user_id).await?.map(|u| (session, u)))
    }

    /// Ends the session whose secret is `secret`; `false` when there was none.
    pub async fn end_session(&self, secret: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM dashboard_sessions WHERE digest = $1")
            .bind(token_digest(secret))
            .execute(&self.pool)
            .await
            .ctx("ending a dashboard session")?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session of `user_id`; returns how many there were.
    pub async fn end_sessions_of(&self, user_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM dashboard_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .ctx("ending a user's dashboard sessions")?;
        Ok(done.rows_affected())
    }

    /// Removes expired sessions; returns how many.
    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= $1")
            .bind(now())
            .execute(&self.pool)
            .await
            .ctx("removing expired dashboard sessions")?;
        Ok(done.rows_affected())
    }
}

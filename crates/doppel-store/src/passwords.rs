//! Users' dashboard passwords, kept only as Argon2id PHC strings (`$argon2id$v=19$…`, a
//! memory-hard hash with its own random salt). Hashing runs on the blocking pool, at most two
//! at a time, so a burst of sign-ins cannot take every core or much memory (19 MiB each).

use crate::error::{DbContext, Result, StoreError};
use crate::util::now;
use crate::{Store, User};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// Longest password accepted (hashing cost does not grow with it much, but nothing needs more).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes running at once.
static HASHING: Semaphore = Semaphore::const_new(2);

/// A hash nobody's password has, checked when an email is unknown so that the answer takes
/// as long as for a known one.
static DECOY: OnceLock<Option<String>> = OnceLock::new();

fn hash_now(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Crypto(format!("hashing a password: {e}")))
}

fn matches_now(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _slot = HASHING
        .acquire()
        .await
        .map_err(|_| StoreError::Crypto("the password hasher is closed".to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Crypto(format!("the password hasher failed: {e}")))
}

fn check_length(password: &str) -> Result<()> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::Invalid(format!(
            "a password has 1 to {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

impl Store {
    /// Sets `user_id`'s password (replacing any earlier one) and ends every dashboard session
    /// of that user, in one transaction: whoever knew the old password is signed out.
    pub async fn set_password(&self, user_id: &str, password: &str) -> Result<()> {
        check_length(password)?;
        let owned = password.to_string();
        let hash = hashing(move || hash_now(&owned)).await??;
        let mut tx = self.begin_write().await?;
        let updated =
            sqlx::query("UPDATE user_passwords SET hash = $1, set_at = $2 WHERE user_id = $3")
                .bind(&hash)
                .bind(now())
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .ctx("changing a password")?;
        if updated.rows_affected() == 0 {
            sqlx::query("INSERT INTO user_passwords (user_id, hash, set_at) VALUES ($1, $2, $3)")
                .bind(user_id)
                .bind(&hash)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    if crate::error::is_foreign_key_violation(&e) {
                        StoreError::NotFound(format!("user {user_id}"))
                    } else {
                        crate::error::db_error(e, "setting a password")
                    }
                })?;
        }
        sqlx::query("DELETE FROM dashboard_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .ctx("ending the sessions of a user whose password changed")?;
        tx.commit().await.ctx("committing a password")?;
        tracing::info!(user = %user_id, "password set; the user's dashboard sessions ended");
        Ok(())
    }

    /// Whether `user_id` has a password.
    pub async fn has_password(&self, user_id: &str) -> Result<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM user_passwords WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await
                .ctx("looking up a password")?;
        Ok(found.is_some())
    }

    /// The user with email `email` if `password` is theirs; `None` for a wrong password, an
    /// unknown email or a user without a password (told apart neither by answer nor by time).
    pub async fn check_password(&self, email: &str, password: &str) -> Result<Option<User>> {
        if check_length(password).is_err() {
            return Ok(None);
        }
        let user = self
            .user(email.trim())
            .await?
            .filter(|u| u.email == email.trim());
        let hash = match &user {
            Some(u) => sqlx::query_scalar::<_, String>(
                "SELECT hash FROM user_passwords WHERE user_id = $1",
            )
            .bind(&u.id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a password hash")?,
            None => None,
        };
        let owned = password.to_string();
        let matched = hashing(move || match hash {
            Some(h) => matches_now(&owned, &h),
            None => {
                let decoy = DECOY.get_or_init(|| hash_now("doppel decoy password").ok());
                if let Some(d) = decoy {
                    matches_now(&owned, d);
                }
                false
            }
        })
        .await?;
        Ok(user.filter(|_| matched))
    }
}

//! Users and API tokens. A token is 32 random bytes shown once as `dpl_` + hex; the store
//! keeps only `doppel_types::token_digest(token)`.

use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, get_bool, new_id, now};
use crate::Store;
use doppel_types::token_digest;
use sqlx::any::AnyRow;
use std::collections::HashSet;

/// What every token doppel issues starts with.
pub const TOKEN_PREFIX: &str = "dpl_";

/// A person (or robot) who can call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub admin: bool,
    pub created_at: String,
}

const USER_COLUMNS: &str = "id, email, admin, created_at";

fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: get(row, "users", "id")?,
        email: get(row, "users", "email")?,
        admin: get_bool(row, "users", "admin")?,
        created_at: get(row, "users", "created_at")?,
    })
}

/// A new plaintext token: `dpl_` + 64 hex digits.
fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// One API token as its owner sees it (never the secret, which only its creation returns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub user_id: String,
    pub description: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

const TOKEN_COLUMNS: &str = "id, user_id, description, created_at, last_used_at, revoked_at";

fn token_from_row(row: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: get(row, "api_tokens", "id")?,
        user_id: get(row, "api_tokens", "user_id")?,
        description: get(row, "api_tokens", "description")?,
        created_at: get(row, "api_tokens", "created_at")?,
        last_used_at: get(row, "api_tokens", "last_used_at")?,
        revoked_at: get(row, "api_tokens", "revoked_at")?,
    })
}

async fn insert_token(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    description: &str,
) -> Result<String> {
    insert_token_with_id(conn, user_id, description)
        .await
        .map(|(_, token)| token)
}

async fn insert_token_with_id(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    description: &str,
) -> Result<(String, String)> {
    let token = generate_token();
    let id = new_id();
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, digest, description, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(token_digest(&token))
    .bind(description)
    .bind(now())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if crate::error::is_foreign_key_violation(&e) {
            StoreError::NotFound(format!("user {user_id}"))
        } else {
            crate::error::db_error(e, "inserting an API token")
        }
    })?;
    Ok((id, token))
}

impl Store {
    /// Creates the first user (an admin) and a token for it, only when no user exists yet.
    /// Returns the user and the plaintext token then (the only time it is shown), `None`
    /// otherwise.
    pub async fn ensure_admin(&self, email: &str) -> Result<Option<(User, String)>> {
        let mut tx = self.begin_write().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await
            .ctx("counting users")?;
        if count > 0 {
            return Ok(None);
        }
        let user = User {
            id: new_id(),
            email: email.to_string(),
            admin: true,
            created_at: now(),
        };
        sqlx::query("INSERT INTO users (id, email, admin, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&user.id)
            .bind(&user.email)
            .bind(1_i64)
            .bind(&user.created_at)
            .execute(&mut *tx)
            .await
            .ctx("inserting the admin user")?;
        let token = insert_token(&mut tx, &user.id, "created at first start").await?;
        tx.commit().await.ctx("committing the admin user")?;
        tracing::info!(user = %user.id, email = %user.email, "created the admin user");
        Ok(Some((user, token)))
    }

    /// Creates a user; `NameTaken` when the email is in use.
    pub async fn create_user(&self, email: &str, admin: bool) -> Result<User> {
        let user = User {
            id: new_id(),
            email: email.to_string(),
            admin,
            created_at: now(),
        };
        sqlx::query("INSERT INTO users (id, email, admin, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&user.id)
            .bind(&user.email)
            .bind(i64::from(admin))
            .bind(&user.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    StoreError::NameTaken(format!("a user with email {email} exists"))
                } else {
                    crate::error::db_error(e, "inserting a user")
                }
            })?;
        Ok(user)
    }

    /// A user by id or email.
    pub async fn user(&self, id_or_email: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1 OR email = $1"
        )))
        .bind(id_or_email)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a user")?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Issues a new token for `user_id` and returns it in plaintext (shown once).
    pub async fn create_token(&self, user_id: &str, description: &str) -> Result<String> {
        self.issue_token(user_id, description)
            .await
            .map(|(_, token)| token)
    }

    /// Issues a new token; returns its id and the plaintext (shown once).
    pub async fn issue_token(&self, user_id: &str, description: &str) -> Result<(String, String)> {
        let mut conn = self.pool.acquire().await.ctx("acquiring a connection")?;
        let issued = insert_token_with_id(&mut conn, user_id, description).await?;
        tracing::info!(user = %user_id, token = %issued.0, "issued an API token");
        Ok(issued)
    }

    /// A user's tokens (revoked ones too), oldest first.
    pub async fn tokens(&self, user_id: &str) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing API tokens")?;
        rows.iter().map(token_from_row).collect()
    }

    /// The token `token_id`, if it exists.
    pub async fn token(&self, token_id: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        )))
        .bind(token_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up an API token")?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Revokes the token `token_id` of `user_id`; `false` when there was no such valid token.
    pub async fn revoke_token_id(&self, user_id: &str, token_id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(token_id)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .ctx("revoking an API token")?;
        if done.rows_affected() > 0 {
            tracing::info!(user = %user_id, token = %token_id, "revoked an API token");
        }
        Ok(done.rows_affected() > 0)
    }

    /// Every user, by email.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY email"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing users")?;
        rows.iter().map(user_from_row).collect()
    }

    /// The user a token belongs to, if the token is valid; records its use.
    pub async fn authenticate(&self, token: &str) -> Result<Option<User>> {
        let digest = token_digest(token);
        let user_id: Option<String> = sqlx::query_scalar(
            "UPDATE api_tokens SET last_used_at = $1 \
             WHERE digest = $2 AND revoked_at IS NULL RETURNING user_id",
        )
        .bind(now())
        .bind(&digest)
        .fetch_optional(&self.pool)
        .await
        .ctx("checking an API token")?;
        match user_id {
            Some(id) => self.user(&id).await,
            None => Ok(None),
        }
    }

    /// Revokes a token; `false` when no valid token matched.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE digest = $2 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(token_digest(token))
        .execute(&self.pool)
        .await
        .ctx("revoking an API token")?;
        Ok(done.rows_affected() > 0)
    }

    /// Digests of every valid token (the router checks staging Basic auth against these).
    pub async fn token_digests(&self) -> Result<HashSet<String>> {
        let digests: Vec<String> =
            sqlx::query_scalar("SELECT digest FROM api_tokens WHERE revoked_at IS NULL")
                .fetch_all(&self.pool)
                .await
                .ctx("listing token digests")?;
        Ok(digests.into_iter().collect())
    }
}

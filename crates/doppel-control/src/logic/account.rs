//! Users and their API tokens (Heroku's OAuth authorizations). Admins create users; every
//! user manages their own tokens.

use super::access::require_admin;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{TokenInfo, User};

/// A new user, its first token and its first dashboard password (both shown once).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user: User,
    pub token: String,
    pub password: String,
}

/// Creates a user (admins only) with a first API token and a generated dashboard password.
pub async fn create_user(
    state: &AppState,
    actor: &Actor,
    email: &str,
    admin: bool,
) -> Result<NewUser, LogicError> {
    require_admin(actor)?;
    let email = email.trim();
    if !valid_email(email) {
        return Err(LogicError::Invalid(format!(
            "{email:?} is not an email address such as dev@example.com"
        )));
    }
    let user = state.store().create_user(email, admin).await?;
    let token = state
        .store()
        .create_token(&user.id, &format!("first token of {email}"))
        .await?;
    let password = super::passwords::generate();
    state.store().set_password(&user.id, &password).await?;
    tracing::info!(user = %user.email, by = %actor.user.email, admin, "created user");
    if admin {
        // An admin may use every staging environment with their first token.
        crate::routes::publish(state).await;
    }
    Ok(NewUser {
        user,
        token,
        password,
    })
}

/// Every user (admins only).
pub async fn list_users(state: &AppState, actor: &Actor) -> Result<Vec<User>, LogicError> {
    require_admin(actor)?;
    Ok(state.store().list_users().await?)
}

/// A user by id or email: yourself, or anyone for an admin.
pub async fn user(state: &AppState, actor: &Actor, id_or_email: &str) -> Result<User, LogicError> {
    if id_or_email == "~" || id_or_email == actor.user.id || id_or_email == actor.user.email {
        return Ok(actor.user.clone());
    }
    require_admin(actor).map_err(|_| LogicError::not_found("user", id_or_email))?;
    state
        .store()
        .user(id_or_email)
        .await?
        .ok_or_else(|| LogicError::not_found("user", id_or_email))
}

/// What a new token is asked to be (`POST /oauth/authorizations`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    pub description: Option<String>,
    /// Heroku's OAuth scopes; doppel tokens carry all of their user's access (`global`).
    pub scope: Option<Vec<String>>,
    /// Seconds until the token expires, as the client sent it; doppel tokens do not expire.
    pub expires_in: Option<String>,
}

/// Issues a token for the actor; returns its record and the secret (shown once).
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    request: &TokenRequest,
) -> Result<(TokenInfo, String), LogicError> {
    if request.expires_in.is_some() {
        return Err(LogicError::Invalid(
            "doppel API tokens do not expire; create one without an expiry and revoke it when it is no longer needed (`heroku authorizations:revoke ID`).".to_string(),
        ));
    }
    if let Some(other) = request
        .scope
        .iter()
        .flatten()
        .find(|s| s.trim() != "global")
    {
        return Err(LogicError::Invalid(format!(
            "doppel API tokens carry all of their user's access (scope \"global\"); scope {other:?} is not available."
        )));
    }
    let description = request.description.as_deref().unwrap_or("").trim();
    if description.len() > 200 || description.chars().any(char::is_control) {
        return Err(LogicError::Invalid(
            "a token's description is one line of at most 200 characters".to_string(),
        ));
    }
    let (id, secret) = state
        .store()
        .issue_token(&actor.user.id, description)
        .await?;
    let info = state
        .store()
        .token(&id)
        .await?
        .ok_or_else(|| LogicError::not_found("authorization", &id))?;
    // Staging admits the tokens the route table carries: the new one works there at once.
    crate::routes::publish(state).await;
    tracing::info!(user = %actor.user.email, token = %info.id, "created token");
    Ok((info, secret))
}

/// The actor's tokens.
pub async fn tokens(state: &AppState, actor: &Actor) -> Result<Vec<TokenInfo>, LogicError> {
    Ok(state.store().tokens(&actor.user.id).await?)
}

/// One of the actor's tokens.
pub async fn token(state: &AppState, actor: &Actor, id: &str) -> Result<TokenInfo, LogicError> {
    match state.store().token(id).await? {
        Some(t) if t.user_id == actor.user.id => Ok(t),
        _ => Err(LogicError::not_found("authorization", id)),
    }
}

/// Revokes one of the actor's tokens; the router stops accepting it on the next table.
pub async fn revoke_token(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<TokenInfo, LogicError> {
    let found = token(state, actor, id).await?;
    state.store().revoke_token_id(&actor.user.id, id).await?;
    // Staging checks tokens against the digests the route table carries.
    crate::routes::publish(state).await;
    tracing::info!(user = %actor.user.email, token = %id, "revoked token");
    Ok(state.store().token(id).await?.unwrap_or(found))
}

/// A plausible email: one `@` with text on both sides, no spaces (`admin@localhost` is fine).
fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.len() <= 254
                && !domain.contains('@')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn emails() {
        assert!(valid_email("dev@example.com"));
        assert!(!valid_email("dev"));
        assert!(valid_email("admin@localhost"));
        assert!(!valid_email("dev@"));
        assert!(!valid_email("a b@example.com"));
        assert!(!valid_email("@example.com"));
    }
}

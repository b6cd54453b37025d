//! Dashboard passwords and sign-in. Every user may have one password (kept by the store as an
//! Argon2id hash): admins set anyone's, a user their own. Signing in with it starts a session
//! that lasts [`SESSION_LIFETIME`] unless it is ended first (signing out, a new password).
//! Passwords are never logged nor recorded, not even in the audit log.

use super::access::require_admin;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{Session, User, MAX_PASSWORD_BYTES};
use rand::Rng;
use std::time::Duration;

/// Shortest password a person may choose (generated ones are longer).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// How long a dashboard session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// Characters of generated passwords: no look-alikes (0/O, 1/l/I), easy to read out.
const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Length of generated passwords (about 117 bits).
const GENERATED_CHARS: usize = 20;

/// A new random password for a person to change or keep.
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_CHARS)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Refuses passwords too short to resist guessing, too long to hash cheaply, or holding
/// control characters (which no form can type back).
pub fn validate(password: &str) -> Result<(), LogicError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(LogicError::Invalid(format!(
            "A password needs at least {MIN_PASSWORD_CHARS} characters; a few unrelated words make a good one."
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(LogicError::Invalid(format!(
            "A password may have at most {MAX_PASSWORD_BYTES} bytes."
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(LogicError::Invalid(
            "A password cannot hold control characters (tabs, line breaks…).".to_string(),
        ));
    }
    Ok(())
}

/// Sets the password of `account` (an email or id; `~` is the actor): an admin's for anyone,
/// anyone's for themselves. `None` generates one. Ends every dashboard session of the user.
/// Returns the user and the generated password (shown once), if one was generated.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    account: &str,
    password: Option<&str>,
) -> Result<(User, Option<String>), LogicError> {
    let user = if account == "~" || account == actor.user.id || account == actor.user.email {
        actor.user.clone()
    } else {
        require_admin(actor).map_err(|_| LogicError::not_found("user", account))?;
        state
            .store()
            .user(account)
            .await?
            .ok_or_else(|| LogicError::not_found("user", account))?
    };
    let (chosen, generated) = match password {
        Some(p) => {
            validate(p)?;
            (p.to_string(), None)
        }
        None => {
            let p = generate();
            (p.clone(), Some(p))
        }
    };
    state.store().set_password(&user.id, &chosen).await?;
    tracing::info!(user = %user.email, by = %actor.user.email, client = %actor.client, "password set");
    Ok((user, generated))
}

/// Signs in with email and password: a new session and its secret (for the browser's
/// cookie), or `None` when they do not match (an unknown email and a wrong password look
/// the same).
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    address: Option<std::net::IpAddr>,
) -> Result<Option<(String, Session, User)>, LogicError> {
    let Some(user) = state.store().check_password(email, password).await? else {
        tracing::info!(address = ?address, "dashboard sign-in refused: wrong email or password");
        return Ok(None);
    };
    let address = address.map(|a| a.to_string());
    let (secret, session) = state
        .store()
        .create_session(&user.id, SESSION_LIFETIME, address.as_deref())
        .await?;
    tracing::info!(user = %user.email, address = ?address, "signed in to the dashboard");
    Ok(Some((secret, session, user)))
}

/// The session behind a browser's secret, with its user, while it lasts.
pub async fn session(
    state: &AppState,
    secret: &str,
) -> Result<Option<(Session, User)>, LogicError> {
    Ok(state.store().session(secret).await?)
}

/// Ends the session behind a browser's secret (signing out).
pub async fn sign_out(state: &AppState, secret: &str) -> Result<(), LogicError> {
    if state.store().end_session(secret).await? {
        tracing::info!("signed out of the dashboard");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_valid_and_differ() {
        let a = generate();
        assert_eq!(a.chars().count(), GENERATED_CHARS);
        assert!(validate(&a).is_ok());
        assert_ne!(a, generate());
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn weak_or_strange_passwords_are_refused() {
        assert!(validate("short").is_err());
        assert!(validate("ten chars!").is_ok());
        assert!(validate("with a\nline break").is_err());
        assert!(validate(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}

//! Private environments' own access password: besides the tokens of users with access, the
//! router admits a private (staging) environment's visitors with this one password, given as
//! HTTP Basic auth (any user name), so a reviewer without a doppel account can look at
//! staging. Anyone with access to the environment may set, rotate or remove it. The store
//! keeps only the digest the router checks; the password is shown once and never logged,
//! audited or answered again.

use super::access::{self, EnvAccess};
use super::{passwords, Actor, LogicError};
use crate::state::AppState;
use doppel_store::AccessPassword;

/// Shortest access password a person may choose. The router checks it by a fast digest (on
/// every request), so it must be long enough that guessing from a digest is hopeless.
pub const MIN_ACCESS_PASSWORD_CHARS: usize = 16;

/// Longest access password accepted.
pub const MAX_ACCESS_PASSWORD_BYTES: usize = 256;

/// An environment and its access password, if it has one (never the password).
#[derive(Debug, Clone)]
pub struct AccessPasswordState {
    pub target: EnvAccess,
    pub password: Option<AccessPassword>,
}

/// Whether `env_name` is private and has an access password.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env_name: &str,
) -> Result<AccessPasswordState, LogicError> {
    let target = access::environment(state, actor, env_name).await?;
    let password = state.store().access_password(&target.env.id).await?;
    Ok(AccessPasswordState { target, password })
}

/// Sets (or rotates) `env_name`'s access password: `chosen`, or a generated one when `None`.
/// Returns the new state and the generated password (to show once). Only private
/// environments take one; the route table is published, so it works within a second.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    env_name: &str,
    chosen: Option<&str>,
) -> Result<(AccessPasswordState, Option<String>), LogicError> {
    let target = access::environment(state, actor, env_name).await?;
    if !target.env.private {
        return Err(LogicError::Invalid(format!(
            "{} is public: the router asks no credentials there, so an access password would change nothing. Set it on the private environment ({}-staging).",
            target.env.name, target.app.name
        )));
    }
    if let Some(password) = chosen {
        validate(password)?;
    }
    let generated = chosen.is_none().then(passwords::generate);
    let password = chosen.or(generated.as_deref()).unwrap_or_default();
    let rotated = state
        .store()
        .access_password(&target.env.id)
        .await?
        .is_some();
    let set = state
        .store()
        .set_access_password(&target.env.id, password, Some(&actor.user.id))
        .await?;
    crate::routes::publish(state).await;
    let action = if rotated {
        "access_password.rotate"
    } else {
        "access_password.set"
    };
    tracing::info!(env = %target.env.name, user = %actor.user.email, "{action}");
    let details = serde_json::json!({ "generated": generated.is_some() });
    super::audit::record(
        state,
        actor,
        &target.app,
        Some(&target.env),
        action,
        details,
    )
    .await;
    let state = AccessPasswordState {
        target,
        password: Some(set),
    };
    Ok((state, generated))
}

/// Removes `env_name`'s access password (only tokens of users with access pass afterwards).
/// Removing none changes and records nothing.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    env_name: &str,
) -> Result<AccessPasswordState, LogicError> {
    let target = access::environment(state, actor, env_name).await?;
    if state.store().remove_access_password(&target.env.id).await? {
        crate::routes::publish(state).await;
        tracing::info!(env = %target.env.name, user = %actor.user.email, "access_password.remove");
        let details = serde_json::json!({});
        super::audit::record(
            state,
            actor,
            &target.app,
            Some(&target.env),
            "access_password.remove",
            details,
        )
        .await;
    }
    Ok(AccessPasswordState {
        target,
        password: None,
    })
}

/// Refuses chosen passwords too short for a fast digest, too long, or holding control
/// characters (which a browser's login prompt cannot type).
pub fn validate(password: &str) -> Result<(), LogicError> {
    if password.chars().count() < MIN_ACCESS_PASSWORD_CHARS {
        return Err(LogicError::Invalid(format!(
            "An access password needs at least {MIN_ACCESS_PASSWORD_CHARS} characters; leave it out to have one generated."
        )));
    }
    if password.len() > MAX_ACCESS_PASSWORD_BYTES {
        return Err(LogicError::Invalid(format!(
            "An access password may have at most {MAX_ACCESS_PASSWORD_BYTES} bytes."
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(LogicError::Invalid(
            "An access password cannot hold control characters (tabs, line breaks…).".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_passwords_must_be_long_and_printable() {
        assert!(validate("short").is_err());
        assert!(validate(&"x".repeat(MIN_ACCESS_PASSWORD_CHARS - 1)).is_err());
        assert!(validate(&"x".repeat(MIN_ACCESS_PASSWORD_CHARS)).is_ok());
        assert!(validate(&"x".repeat(MAX_ACCESS_PASSWORD_BYTES + 1)).is_err());
        assert!(validate("a long password\twith a tab").is_err());
        assert!(validate(&passwords::generate()).is_ok());
    }
}

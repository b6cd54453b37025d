//! An environment's features (Heroku's `/apps/{app}/features`, `heroku features`): doppel has
//! one, `http-session-affinity`, the router's sticky sessions. Turning it on or off publishes
//! the route table; parity shows an environment pair that differs.

use super::platform::Feature;
use super::{access, Actor, LogicError};
use crate::state::AppState;
use doppel_store::Environment;

/// Heroku's name of session affinity.
pub const SESSION_AFFINITY: &str = "http-session-affinity";

/// What `heroku features` says of it.
const SESSION_AFFINITY_TEXT: &str = "Route each client's requests to the same web dyno \
     (a heroku-session-affinity cookie set by the router), for apps that keep sessions or \
     socket state in a dyno's memory.";

fn session_affinity(env: &Environment) -> Feature {
    Feature {
        name: SESSION_AFFINITY.to_string(),
        description: SESSION_AFFINITY_TEXT.to_string(),
        enabled: env.session_affinity,
    }
}

/// An environment's features (the environment must be visible to the actor).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Feature>), LogicError> {
    let found = access::environment(state, actor, env).await?;
    let features = vec![session_affinity(&found.env)];
    Ok((found.env, features))
}

/// One feature of an environment by name.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    env: &str,
    name: &str,
) -> Result<Feature, LogicError> {
    let (_, features) = list(state, actor, env).await?;
    features
        .into_iter()
        .find(|f| f.name == name)
        .ok_or_else(|| LogicError::not_found("feature", name))
}

/// Turns a feature of an environment on or off (anyone who may use the environment, as
/// `maintenance:on`). Setting the state it is in changes nothing and records nothing.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    env: &str,
    name: &str,
    enabled: bool,
) -> Result<Feature, LogicError> {
    let found = access::environment(state, actor, env).await?;
    if name != SESSION_AFFINITY {
        return Err(LogicError::not_found("feature", name));
    }
    if found.env.session_affinity == enabled {
        return Ok(session_affinity(&found.env));
    }
    let updated = state
        .store()
        .set_session_affinity(&found.env.id, enabled)
        .await?;
    crate::routes::publish(state).await;
    let action = if enabled {
        "feature.enable"
    } else {
        "feature.disable"
    };
    tracing::info!(env = %updated.name, user = %actor.user.email, feature = name, "{action}");
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&updated),
        action,
        serde_json::json!({ "feature": name }),
    )
    .await;
    Ok(session_affinity(&updated))
}

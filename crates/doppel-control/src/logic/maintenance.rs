//! Maintenance mode of an environment: while it is on, the router answers every request with
//! 503 and the maintenance page (H80); the dynos keep running, so turning it off is instant.

use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, Environment};

/// Turns maintenance mode of `env` on or off and publishes the route table. Setting the mode
/// it is already in changes nothing and records nothing.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    app: &App,
    env: &Environment,
    on: bool,
) -> Result<Environment, LogicError> {
    if env.maintenance == on {
        return Ok(env.clone());
    }
    let updated = state.store().set_maintenance(&env.id, on).await?;
    crate::routes::publish(state).await;
    let action = if on {
        "maintenance.on"
    } else {
        "maintenance.off"
    };
    tracing::info!(env = %env.name, user = %actor.user.email, "{action}");
    super::audit::record(state, actor, app, Some(env), action, serde_json::json!({})).await;
    Ok(updated)
}

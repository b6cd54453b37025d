//! Automated Certificate Management of an environment (`certs:auto:enable`, Heroku's
//! `POST|PATCH|DELETE /apps/{app}/acm`): while on, the ACM task (`crate::acme`) gets and renews
//! ACME certificates for the environment's custom domains that no uploaded certificate covers.

use super::access::{self, EnvAccess};
use super::apps::{self, EnvView};
use super::{Actor, LogicError};
use crate::state::AppState;

/// Turns ACM on (`true`) or off for the environment; the environment as the API shows it.
/// Setting what already holds changes and records nothing. Off forgets the ACME certificates
/// (their domains fall back to the default certificate).
pub async fn set(
    state: &AppState,
    actor: &Actor,
    env: &str,
    on: bool,
) -> Result<EnvView, LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, env).await?;
    if state.store().acm_enabled(&env.id).await? != on {
        state.store().set_acm(&env.id, on).await?;
        let action = if on { "acm.enable" } else { "acm.disable" };
        super::audit::record(
            state,
            actor,
            &app,
            Some(&env),
            action,
            serde_json::json!({}),
        )
        .await;
        tracing::info!(env = %env.name, user = %actor.user.email, "{action}");
        crate::routes::publish(state).await;
    }
    state.acme().wake();
    apps::show(state, actor, &env.id).await
}

/// `PATCH /apps/{app}/acm`: asks the ACM task for a pass now (failed domains wait for their
/// back-off; this does not skip it).
pub async fn refresh(state: &AppState, actor: &Actor, env: &str) -> Result<EnvView, LogicError> {
    let EnvAccess { env, .. } = access::environment(state, actor, env).await?;
    if !state.store().acm_enabled(&env.id).await? {
        return Err(LogicError::Invalid(format!(
            "ACM is off for {}; turn it on first (certs:auto:enable).",
            env.name
        )));
    }
    state.acme().wake();
    apps::show(state, actor, &env.id).await
}

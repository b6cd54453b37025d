//! Pipelines as the Heroku API sees doppel: every app is a pipeline of the same name and id,
//! coupling its staging environment (stage `staging`) and its production environment (stage
//! `production`); a coupling's id is its environment's id. Pipelines and couplings are made
//! and removed with their app, never on their own. Also the app's rule on direct pushes to
//! production, which only admins change.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, AuditEvent, Environment, Release};

/// Every pipeline the actor may see (each with the environments the actor may see).
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<App>, LogicError> {
    access::visible_apps(state, actor).await
}

/// The pipeline named by `id_or_name` (the app's id or name), if the actor may see it.
pub async fn show(state: &AppState, actor: &Actor, id_or_name: &str) -> Result<App, LogicError> {
    list(state, actor)
        .await?
        .into_iter()
        .find(|a| a.id == id_or_name || a.name == id_or_name)
        .ok_or_else(|| LogicError::not_found("pipeline", id_or_name))
}

/// The coupling of environment `name_or_id` (an environment's name or id, which is also its
/// coupling's id).
pub async fn coupling(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
) -> Result<EnvAccess, LogicError> {
    access::environment(state, actor, name_or_id)
        .await
        .map_err(|e| match e {
            LogicError::NotFound { .. } => LogicError::not_found("pipeline coupling", name_or_id),
            other => other,
        })
}

/// The current release of each environment of the pipeline the actor may see.
pub async fn latest_releases(
    state: &AppState,
    actor: &Actor,
    id_or_name: &str,
) -> Result<Vec<(Environment, Release)>, LogicError> {
    let app = show(state, actor, id_or_name).await?;
    let mut out = Vec::new();
    for env in app.environments {
        if let Some(release) = state.store().current_release(&env.id).await? {
            out.push((env, release));
        }
    }
    Ok(out)
}

/// Whether production of app `name` takes git pushes besides promotions.
pub async fn direct_pushes(
    state: &AppState,
    actor: &Actor,
    name: &str,
) -> Result<(App, bool), LogicError> {
    let app = access::whole_app(state, actor, name).await?;
    let allowed = state.store().direct_pushes_allowed(&app.id).await?;
    Ok((app, allowed))
}

/// Allows or forbids git pushes to production of app `name`. Admins only; audited.
pub async fn set_direct_pushes(
    state: &AppState,
    actor: &Actor,
    name: &str,
    allowed: bool,
) -> Result<(App, bool), LogicError> {
    let app = access::whole_app(state, actor, name).await?;
    access::require_admin(actor)?;
    state.store().set_direct_pushes(&app.id, allowed).await?;
    super::audit::record(
        state,
        actor,
        &app,
        app.environment(doppel_types::Stage::Production),
        "app.direct_pushes",
        serde_json::json!({ "allowed": allowed }),
    )
    .await;
    tracing::info!(app = %app.name, allowed, user = %actor.user.email, "direct pushes to production set");
    Ok((app, allowed))
}

/// The audit log of pipeline `name`, newest first: both environments, or only `env` (which
/// must be one of them), optionally only `user`'s changes.
pub async fn audit(
    state: &AppState,
    actor: &Actor,
    name: &str,
    env: Option<&str>,
    user: Option<&str>,
    limit: Option<u32>,
) -> Result<Vec<AuditEvent>, LogicError> {
    if let Some(env) = env {
        let app = show(state, actor, name).await?;
        if !app
            .environments
            .iter()
            .any(|e| e.name == env || e.id == env)
        {
            return Err(LogicError::Invalid(format!(
                "{env} is not an environment of {}: name {}-staging or {}.",
                app.name, app.name, app.name
            )));
        }
    }
    super::audit::events(state, actor, name, env, user, limit).await
}

//! Stacks as users see them: the list (with which are made), one stack by name, alias or id,
//! and setting the stack an environment's next build runs on (`stack:set`).

use super::{Actor, LogicError};
use crate::state::AppState;
use crate::workflows::stacks::{stack_id, statuses};
use doppel_builder::StackSpec;
use doppel_store::{App, Environment};

/// One stack of the installation.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub spec: &'static StackSpec,
    /// Stable across installations (see [`stack_id`]).
    pub id: String,
    /// Both of its images are made (builds on it start at once).
    pub built: bool,
    /// New apps build on it.
    pub default: bool,
}

/// Every stack, oldest suite first, with whether its images are made.
pub async fn list(state: &AppState) -> Result<Vec<StackInfo>, LogicError> {
    let all = statuses(state)
        .await
        .map_err(|e| LogicError::internal("look at the stack images", e))?;
    Ok(all
        .into_iter()
        .map(|s| StackInfo {
            spec: s.spec,
            id: stack_id(s.spec.name),
            built: s.built,
            default: s.default,
        })
        .collect())
}

/// The stacks an environment may build on: every stack (the environment must be visible).
pub async fn available(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<Vec<StackInfo>, LogicError> {
    super::access::environment(state, actor, env).await?;
    list(state).await
}

/// One stack by name, alias or id.
pub async fn show(state: &AppState, name_or_id: &str) -> Result<StackInfo, LogicError> {
    let not_found = || LogicError::not_found("stack", name_or_id);
    let spec = resolve(state, name_or_id).map_err(|_| not_found())?;
    list(state)
        .await?
        .into_iter()
        .find(|s| std::ptr::eq(s.spec, spec))
        .ok_or_else(not_found)
}

/// The stack `wanted` names (a name, an alias or an id); an unknown one is bad input whose
/// message lists the stacks there are.
pub fn resolve(state: &AppState, wanted: &str) -> Result<&'static StackSpec, LogicError> {
    let stacks = &state.config().stacks;
    match stacks.resolve(wanted) {
        Ok(spec) => Ok(spec),
        Err(unknown) => stacks
            .stacks()
            .iter()
            .find(|s| stack_id(s.name) == wanted.trim())
            .ok_or_else(|| LogicError::Invalid(format!("Cannot use that stack: {unknown}."))),
    }
}

/// A stack name as the API shows it: the canonical name of a known stack or alias
/// (`heroku-24` → `debian-12`), any other name as it is.
pub fn canonical(state: &AppState, name: &str) -> String {
    state
        .config()
        .stacks
        .resolve(name)
        .map(|s| s.name.to_string())
        .unwrap_or_else(|_| name.to_string())
}

/// Makes `stack` the one `env`'s next build runs on. The running release is untouched: the
/// next push builds on the new stack (making its images first when they are missing).
pub async fn set(
    state: &AppState,
    actor: &Actor,
    app: &App,
    env: &Environment,
    stack: &'static StackSpec,
) -> Result<Environment, LogicError> {
    if env.build_stack == stack.name {
        return Ok(env.clone());
    }
    let updated = state.store().set_build_stack(&env.id, stack.name).await?;
    tracing::info!(env = %env.name, from = %env.build_stack, to = %stack.name, user = %actor.user.email, "set the stack of the next build");
    super::audit::record(
        state,
        actor,
        app,
        Some(env),
        "stack.set",
        serde_json::json!({ "from": env.build_stack, "to": stack.name }),
    )
    .await;
    Ok(updated)
}

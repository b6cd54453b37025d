//! Builds of an environment: listing, one build, its output.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{Build, Environment};

/// An environment's builds, oldest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Build>), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let builds = state.store().list_builds(&access.env.id).await?;
    Ok((access.env, builds))
}

/// One build of an environment.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    build_id: &str,
) -> Result<(Environment, Build), LogicError> {
    let access = access::environment(state, actor, env).await?;
    match state.store().build(build_id).await? {
        Some(b) if b.env_id == access.env.id => Ok((access.env, b)),
        _ => Err(LogicError::not_found("build", build_id)),
    }
}

//! Releases of an environment: listing and finding one by id or version.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{Environment, Release};

/// An environment's releases (oldest first) and the version of its current one.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Release>, Option<i64>), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let current = state
        .store()
        .current_release(&access.env.id)
        .await?
        .map(|r| r.version);
    let releases = state.store().list_releases(&access.env.id).await?;
    Ok((access.env, releases, current))
}

/// One release by id or version (`v3` and `3` both name version 3).
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    release: &str,
) -> Result<(Environment, Release, Option<i64>), LogicError> {
    let (env, releases, current) = list(state, actor, env).await?;
    let found = find(&releases, release)?;
    Ok((env, found.clone(), current))
}

/// The release `wanted` (id, `vN` or `N`) among `releases`.
pub fn find<'a>(releases: &'a [Release], wanted: &str) -> Result<&'a Release, LogicError> {
    let version = wanted.trim_start_matches('v');
    releases
        .iter()
        .find(|r| r.id == wanted || r.version.to_string() == version)
        .ok_or_else(|| LogicError::not_found("release", wanted))
}

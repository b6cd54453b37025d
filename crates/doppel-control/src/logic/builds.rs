//! Builds of an environment: listing, one build, the release each made, and its output,
//! streamed live while it runs and stored once it ends, through an unguessable URL that needs
//! no token (a capability, as Heroku's `output_stream_url`).

use super::access;
use super::{Actor, LogicError};
use crate::outputs::OutputReader;
use crate::state::AppState;
use doppel_store::{Build, Environment, Release};
use std::collections::HashMap;

/// The capability purpose of build output URLs.
const OUTPUT_PURPOSE: &str = "build-output";

/// The path a build's output is served under (the API routes it without authentication).
pub const OUTPUT_ROUTE: &str = "/streams/builds/{build}/{token}";

/// A build with what its API object shows besides the row.
#[derive(Debug, Clone)]
pub struct BuildView {
    pub build: Build,
    /// The id of the release the build made, if it made one.
    pub release_id: Option<String>,
    pub output_stream_url: String,
}

/// A build's output: following the live one, or the stored copy.
#[derive(Debug)]
pub enum BuildOutput {
    Live(OutputReader),
    Stored(String),
}

/// An environment's builds, oldest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<BuildView>), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let builds = state.store().list_builds(&access.env.id).await?;
    let releases = releases_by_build(state, &access.env).await?;
    let views = builds
        .into_iter()
        .map(|b| view(state, b, &releases))
        .collect();
    Ok((access.env, views))
}

/// One build of an environment.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    build_id: &str,
) -> Result<(Environment, BuildView), LogicError> {
    let access = access::environment(state, actor, env).await?;
    match state.store().build(build_id).await? {
        Some(b) if b.env_id == access.env.id => {
            let releases = releases_by_build(state, &access.env).await?;
            let v = view(state, b, &releases);
            Ok((access.env, v))
        }
        _ => Err(LogicError::not_found("build", build_id)),
    }
}

/// The output of build `build_id` for whoever holds its URL's `token`: live while the build
/// runs, stored afterwards. A wrong token is answered as an unknown build.
pub async fn output(
    state: &AppState,
    build_id: &str,
    token: &str,
) -> Result<BuildOutput, LogicError> {
    let not_found = || LogicError::not_found("build", build_id);
    if !state
        .store()
        .check_capability(OUTPUT_PURPOSE, build_id, token)
    {
        return Err(not_found());
    }
    if let Some(live) = state.outputs().get(build_id) {
        return Ok(BuildOutput::Live(live.reader()));
    }
    let stored = state
        .store()
        .build_output(build_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(BuildOutput::Stored(stored))
}

/// The output of build `build_id` of environment `env` for an actor who may use it (the
/// dashboard follows builds this way): live while it runs, stored afterwards.
pub async fn follow(
    state: &AppState,
    actor: &Actor,
    env: &str,
    build_id: &str,
) -> Result<BuildOutput, LogicError> {
    let (_, found) = show(state, actor, env, build_id).await?;
    if let Some(live) = state.outputs().get(&found.build.id) {
        return Ok(BuildOutput::Live(live.reader()));
    }
    let stored = state.store().build_output(&found.build.id).await?;
    Ok(BuildOutput::Stored(stored.unwrap_or_default()))
}

/// The capability URL of build `build_id`'s output.
pub fn output_url(state: &AppState, build_id: &str) -> String {
    let token = state.store().capability(OUTPUT_PURPOSE, build_id);
    let path = OUTPUT_ROUTE
        .replace("{build}", build_id)
        .replace("{token}", &token);
    format!("{}{path}", state.urls().platform())
}

fn view(state: &AppState, build: Build, releases: &HashMap<String, String>) -> BuildView {
    BuildView {
        release_id: releases.get(&build.id).cloned(),
        output_stream_url: output_url(state, &build.id),
        build,
    }
}

/// Build id → the first release made from it (later ones are rollbacks to it).
async fn releases_by_build(
    state: &AppState,
    env: &Environment,
) -> Result<HashMap<String, String>, LogicError> {
    let releases: Vec<Release> = state.store().list_releases(&env.id).await?;
    let mut map = HashMap::new();
    for r in releases {
        if let Some(build) = r.build_id {
            map.entry(build).or_insert(r.id);
        }
    }
    Ok(map)
}

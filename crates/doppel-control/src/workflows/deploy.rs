//! Deploying a push: build the commit, then hand the image to the release workflow, and
//! tell the pusher every step as `remote:` lines. The build row is written before the
//! build starts and finished after it, so a crash leaves a `pending` build that the next
//! start marks failed; a release row is written only for a finished build.

use super::release::{self, ReleaseRequest};
use crate::outputs::LiveOutput;
use crate::state::AppState;
use doppel_builder::{BuildLimits, BuildOutput, BuildRequest};
use doppel_git::{ProgressSink, Push};
use doppel_store::{BuildOutcome, Environment};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Longest build log kept in the store (the live stream to git is not cut).
const MAX_STORED_LOG: usize = 512 * 1024;

/// Builds and releases `commit` of a push to `env`. `Err` rejects the push.
pub async fn deploy_push(
    state: &AppState,
    env: &Environment,
    push: &Push,
    commit: &str,
    branch: &str,
    out: &ProgressSink,
) -> Result<(), String> {
    let lock = state.env_lock(&env.id);
    if lock.try_lock().is_err() {
        out.line("-----> Waiting for the previous deploy of this environment to finish...")
            .await;
    }
    let _guard = lock.lock().await;
    out.line(&format!("Building source ({branch} {})...", short(commit)))
        .await;
    let build = state
        .store()
        .create_build(&env.id, commit, push.pusher.as_deref())
        .await
        .map_err(|e| internal("recording the build", e))?;
    // Readers of the build's output URL follow this until the stored copy is written.
    let live = state.outputs().start(&build.id);
    let (result, log) = run_build(state, env, push, commit, &build.id, live.output(), out).await;
    let output = match result {
        Ok(output) => output,
        Err(reason) => {
            out.line(&format!(" !     {reason}")).await;
            out.line(" !     Push failed").await;
            let outcome = BuildOutcome::Failed {
                reason: reason.clone(),
            };
            if let Err(e) = state.store().finish_build(&build.id, &outcome, &log).await {
                tracing::error!(error = %e, build = %build.id, "could not record failed build");
            }
            drop(live);
            return Err(format!("!\tPush rejected to {}.", env.name));
        }
    };
    let outcome = BuildOutcome::Succeeded {
        image_id: output.image_id.clone(),
        image_kind: output.kind,
        process_types: output.process_types.clone(),
        buildpack: output.buildpack.clone(),
        stack: output.stack.clone(),
        size_bytes: i64::try_from(output.size_bytes).unwrap_or(i64::MAX),
    };
    let finished = state.store().finish_build(&build.id, &outcome, &log).await;
    drop(live);
    finished.map_err(|e| internal("recording the build", e))?;
    release(
        state,
        env,
        &output,
        &build.id,
        commit,
        push.pusher.clone(),
        out,
    )
    .await
}

/// Shows the Dockerfile app's process types, then releases the build through the release
/// workflow (the caller holds the environment's lock).
async fn release(
    state: &AppState,
    env: &Environment,
    output: &BuildOutput,
    build_id: &str,
    commit: &str,
    pusher: Option<String>,
    out: &ProgressSink,
) -> Result<(), String> {
    if output.kind == doppel_types::ImageKind::Dockerfile {
        out.line("-----> Discovering process types").await;
        let types: Vec<&str> = output.process_types.keys().map(String::as_str).collect();
        if types.is_empty() {
            out.line("       web runs the image's CMD").await;
        } else {
            out.line(&format!(
                "       Procfile declares types -> {}",
                types.join(", ")
            ))
            .await;
        }
    }
    let request = ReleaseRequest {
        image_id: output.image_id.clone(),
        image_kind: output.kind,
        process_types: output.process_types.clone(),
        build_id: Some(build_id.to_string()),
        description: format!("Deploy {}", short(commit)),
        user_id: pusher,
        config: None,
    };
    release::release_locked(state, env, request, out)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Runs the builder, relaying its lines live to git and to the build's output stream, and
/// keeping a copy for the store.
async fn run_build(
    state: &AppState,
    env: &Environment,
    push: &Push,
    commit: &str,
    build_id: &str,
    live: Arc<LiveOutput>,
    out: &ProgressSink,
) -> (Result<BuildOutput, String>, String) {
    let workdir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            return (
                Err(internal("creating a build directory", e)),
                String::new(),
            )
        }
    };
    let source_tar = workdir.path().join("source.tar");
    if let Err(e) = push.archive(commit, &source_tar).await {
        return (Err(internal("reading the pushed commit", e)), String::new());
    }
    let request = match build_request(state, env, build_id, commit, source_tar, Some(out)).await {
        Ok(request) => request,
        Err(msg) => return (Err(msg), String::new()),
    };
    let (tx, mut rx) = mpsc::channel::<String>(256);
    let relay_out = out.clone();
    let (hub, env_id) = (state.logs().clone(), env.id.clone());
    let relay = tokio::spawn(async move {
        let mut kept = String::new();
        while let Some(line) = rx.recv().await {
            live.push(&line);
            hub.heroku(&env_id, "build", line.clone());
            relay_out.line(&line).await;
            if kept.len() < MAX_STORED_LOG {
                kept.push_str(&line);
                kept.push('\n');
            }
        }
        kept
    });
    let result = doppel_builder::build(state.runtime(), request, tx)
        .await
        .map_err(|e| e.to_string());
    let log = relay.await.unwrap_or_default();
    (result, log)
}

/// What the builder needs to build `commit` (unpacked at `source_tar`) for `env`: its config,
/// the build network, its stack's images (made if missing, progress to `out`), the limits.
pub(crate) async fn build_request(
    state: &AppState,
    env: &Environment,
    build_id: &str,
    commit: &str,
    source_tar: std::path::PathBuf,
    out: Option<&ProgressSink>,
) -> Result<BuildRequest, String> {
    let config = state
        .store()
        .config_vars(&env.id)
        .await
        .map_err(|e| internal("reading config vars", e))?;
    let network = crate::networks::ensure_build(state)
        .await
        .map_err(|e| internal("preparing the build network", e))?;
    let cache_dir = state.config().data_dir.join("cache").join(&env.id);
    let stack_name = super::stacks::build_stack_for(state, env).name;
    let stack = super::stacks::ensure(state, stack_name, out)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, stack = stack_name, "stack images unavailable");
            format!(
                "the images of stack {stack_name} could not be made ({e}); an admin can retry with `doppel stack build {stack_name}`"
            )
        })?;
    let mut build_env = state.config().stacks.build_env();
    if let Some(mirror) = &state.config().python_mirror {
        build_env.insert("DOPPEL_PYTHON_MIRROR".to_string(), mirror.clone());
    }
    Ok(BuildRequest {
        build_id: build_id.to_string(),
        env_name: env.name.clone(),
        app_name: env.app_name.clone(),
        commit: commit.to_string(),
        source_tar,
        config,
        stack,
        build_env,
        cache_dir,
        ca_bundle: state.config().build_ca_bundle.clone(),
        limits: BuildLimits {
            timeout: state.config().build_timeout,
            max_slug_bytes: state.config().max_slug_bytes,
            resources: state.config().build_resources,
        },
        network: Some(network),
        image_repo: format!("doppel/app-{}-{}", state.instance_id(), env.name),
    })
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

fn internal(context: &str, err: impl std::fmt::Display) -> String {
    tracing::error!(error = %err, "{context}");
    format!("doppel failed while {context}; the server log has the details")
}

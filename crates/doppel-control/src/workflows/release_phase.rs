//! The release phase: when a release's Procfile declares `release:`, that command runs in a
//! one-off dyno (`release.N`) of the new release, with its config, before any dyno boots on
//! it. Its output goes to the log stream, to whoever waits (the pusher's terminal), and is
//! kept with the rollout; a non-zero exit, a crash or the one-hour limit fails the release.

use std::time::Duration;

use doppel_store::{Environment, Release};
use futures_util::StreamExt;

use super::dynos::{self, WantedDyno};
use super::progress::Progress;
use crate::labels::{LABEL_ROLE, ROLE_RELEASE};
use crate::logs::{LogLine, SOURCE_APP};
use crate::state::AppState;

/// Heroku's limit for a release phase.
pub const TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Runs the release command of `release`; `Err` says why the release must fail.
pub async fn run(
    state: &AppState,
    env: &Environment,
    release: &Release,
    config: &std::collections::BTreeMap<String, String>,
    network: &str,
    rollout_id: &str,
    progress: &dyn Progress,
) -> Result<(), String> {
    let index = rand::random_range(1000..10000);
    let wanted = WantedDyno {
        process_type: "release".to_string(),
        index,
        size: doppel_types::DEFAULT_DYNO_SIZE.to_string(),
    };
    let name = wanted.name();
    let mut spec = dynos::spec(state.instance_id(), env, release, &wanted, config, network)?;
    spec.labels
        .insert(LABEL_ROLE.to_string(), ROLE_RELEASE.to_string());
    let rt = state.runtime();
    let hub = state.logs();
    progress.line("-----> Running release command...").await;
    let id = rt
        .create_dyno(spec)
        .await
        .map_err(|e| format!("the release command could not be started: {e}"))?;
    let table = &state.supervisor().table;
    // This task reads the output itself; no follower is started for it.
    table.start_following(&id);
    let command = release
        .process_types
        .get("release")
        .cloned()
        .unwrap_or_default();
    hub.heroku(
        &env.id,
        &name,
        format!("Starting process with command `{command}`"),
    );
    let outcome = match rt.start(&id).await {
        Ok(()) => watch(state, env, &id, &name, progress).await,
        Err(e) => Err(format!("the release command could not be started: {e}")),
    };
    table.stop_following(&id, true);
    let (result, output) = match outcome {
        Ok((0, output)) => (Ok(()), output),
        Ok((code, output)) => (
            Err(format!("the release command exited with status {code}")),
            output,
        ),
        Err(reason) => (Err(reason), String::new()),
    };
    if let Err(e) = state.store().set_rollout_output(rollout_id, &output).await {
        tracing::warn!(rollout = %rollout_id, error = %e, "could not keep the release phase's output");
    }
    if let Err(e) = crate::supervisor::retire::remove(state, &id).await {
        tracing::warn!(container = %id, error = %e, "could not remove the release phase's dyno");
    }
    match &result {
        Ok(()) => progress.line("       Release command done.").await,
        Err(reason) => {
            progress
                .line(&format!(" !     Release command failed: {reason}"))
                .await
        }
    }
    result
}

/// Relays the output until the command exits; returns its exit code and output.
async fn watch(
    state: &AppState,
    env: &Environment,
    id: &str,
    name: &str,
    progress: &dyn Progress,
) -> Result<(i64, String), String> {
    let rt = state.runtime();
    let hub = state.logs();
    let mut lines = rt
        .follow_logs(id, None)
        .await
        .map_err(|e| format!("the release command's output could not be read: {e}"))?;
    let mut output = String::new();
    let relay = async {
        while let Some(line) = lines.next().await {
            let Ok(line) = line else { break };
            progress.line(&format!("       {}", line.text)).await;
            if output.len() < doppel_store::MAX_ROLLOUT_OUTPUT {
                output.push_str(&line.text);
                output.push('\n');
            }
            hub.dyno_output(
                &env.id,
                id,
                LogLine {
                    time: line.time,
                    source: SOURCE_APP.to_string(),
                    process: name.to_string(),
                    text: line.text,
                },
            );
        }
    };
    let both = async { tokio::join!(rt.wait(id), relay).0 };
    let Ok(code) = tokio::time::timeout(TIMEOUT, both).await else {
        let _ = rt.kill(id).await;
        return Err(format!(
            "the release command ran longer than {} minutes",
            TIMEOUT.as_secs() / 60
        ));
    };
    let code = code.map_err(|e| format!("the release command's exit could not be read: {e}"))?;
    Ok((code, output))
}

//! Docker's event stream: a dyno that exits, is killed by the OOM killer or is removed by
//! hand wakes the supervisor at once, and the platform's lines (`Process exited with status
//! 137`, `State changed from up to crashed`) go into the log stream. The stream ends when the
//! engine restarts: it is opened again (with a pass to repair anything missed).

use std::time::Duration;

use doppel_docker::{ContainerAction, ContainerEvent};
use futures_util::StreamExt;

use super::table::Phase;
use crate::labels::{LABEL_DYNO, LABEL_ENV_ID, LABEL_ROLE, ROLE_DYNO, ROLE_RELEASE, ROLE_RUN};
use crate::state::AppState;

/// Follows the engine's events forever.
pub async fn listen(state: AppState) {
    let mut pause = Duration::from_secs(1);
    loop {
        match state.runtime().events(&state.instance_filter()).await {
            Ok(mut events) => {
                state.supervisor().wake();
                while let Some(event) = events.next().await {
                    match event {
                        Ok(event) => {
                            pause = Duration::from_secs(1);
                            handle(&state, &event).await;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "Docker's event stream failed");
                            break;
                        }
                    }
                }
                tracing::warn!(
                    "Docker's event stream ended (was the engine restarted?); listening again"
                );
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen to Docker's events; retrying"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

/// Reacts to one event.
pub async fn handle(state: &AppState, event: &ContainerEvent) {
    let label = |k: &str| event.labels.get(k).map(String::as_str);
    // An add-on server that stops or is removed is brought back by the next pass.
    if label(LABEL_ROLE) == Some(crate::addons::servers::ROLE_ADDON) {
        if matches!(
            event.action,
            ContainerAction::Die | ContainerAction::Destroy
        ) {
            state.supervisor().wake();
        }
        return;
    }
    let (Some(role), Some(env_id), Some(dyno)) =
        (label(LABEL_ROLE), label(LABEL_ENV_ID), label(LABEL_DYNO))
    else {
        return;
    };
    if !matches!(role, ROLE_DYNO | ROLE_RUN | ROLE_RELEASE) {
        return;
    }
    let hub = state.logs();
    let table = &state.supervisor().table;
    match event.action {
        ContainerAction::Die => {
            let code = event
                .exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "unknown".into());
            let exited = format!("Process exited with status {code}");
            let phase = table.get(&event.id).map(|d| d.phase);
            if role != ROLE_DYNO {
                hub.heroku(env_id, dyno, exited);
                hub.heroku(env_id, dyno, "State changed from up to complete");
            } else if phase == Some(Phase::Stopping) {
                hub.heroku(env_id, dyno, exited);
                hub.heroku(env_id, dyno, "State changed from up to down");
            } else if phase != Some(Phase::Crashed) {
                // (Crashed already: a pass found it exited first and said so.)
                table.transition(&event.id, Phase::Crashed);
                let from = match phase {
                    Some(Phase::Starting) => "starting",
                    _ => "up",
                };
                hub.heroku(env_id, dyno, exited);
                hub.heroku(
                    env_id,
                    dyno,
                    format!("State changed from {from} to crashed"),
                );
                crate::routes::publish(state).await;
            }
            state.supervisor().wake();
        }
        ContainerAction::Oom => {
            hub.heroku(env_id, dyno, "Error R15 (Memory quota vastly exceeded)");
            hub.heroku(env_id, dyno, "Stopping process with SIGKILL");
        }
        ContainerAction::Destroy => {
            table.remove(&event.id);
            crate::routes::publish(state).await;
            state.supervisor().wake();
        }
        ContainerAction::Start | ContainerAction::Other => {}
    }
}

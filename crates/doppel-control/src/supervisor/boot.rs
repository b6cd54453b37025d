//! Booting web dynos: a new web dyno gets requests only once it passes its health check —
//! a TCP connect to `$PORT`, or `GET <path>` when the release's config sets
//! `DOPPEL_HEALTHCHECK_PATH` — and it has the boot timeout (Heroku's 60 s, R10) to do so.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use doppel_docker::HealthCheck;
use doppel_store::Environment;
use doppel_types::WEB_PORT;

use super::observed::{Observed, Role};
use super::table::Phase;
use crate::labels::HEALTHCHECK_VAR;
use crate::state::AppState;

/// Each probe's own deadline.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a web dyno did not come up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootError {
    /// It exited while booting (with its code, when known).
    Exited(Option<i64>),
    /// Its container disappeared.
    Gone,
    /// It did not pass the check in time; the last probe's answer.
    Timeout(String),
}

impl BootError {
    /// What the rollout reports (Heroku's words where it has them).
    pub fn describe(&self, name: &str, state: &AppState, check: &HealthCheck) -> String {
        match self {
            BootError::Exited(code) => format!(
                "{name} crashed while booting (exit code {}); check the start command and that it listens on $PORT",
                code.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
            ),
            BootError::Gone => format!("{name} was removed while booting"),
            BootError::Timeout(last) => format!(
                "{name}: {} ({last})",
                r10(state, check)
            ),
        }
    }
}

/// Heroku's R10 line for a dyno that did not come up.
pub fn r10(state: &AppState, check: &HealthCheck) -> String {
    let secs = state.config().boot_timeout.as_secs();
    match check {
        HealthCheck::Tcp => format!(
            "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within {secs} seconds of launch"
        ),
        HealthCheck::Http { path, .. } => format!(
            "Error R10 (Boot timeout) -> Web process did not pass its health check (GET {path}) within {secs} seconds of launch"
        ),
    }
}

/// The check web dynos of a release with config `config` must pass.
pub fn check_for(
    state: &AppState,
    env: &Environment,
    config: &std::collections::BTreeMap<String, String>,
) -> HealthCheck {
    match config.get(HEALTHCHECK_VAR).filter(|p| p.starts_with('/')) {
        Some(path) => HealthCheck::Http {
            path: path.clone(),
            host: state.urls().env_host(&env.name),
        },
        None => HealthCheck::Tcp,
    }
}

/// Probes container `id` until it passes `check` or `deadline` passes.
pub async fn wait_healthy(
    state: &AppState,
    id: &str,
    check: &HealthCheck,
    deadline: Instant,
) -> Result<(), BootError> {
    let mut pause = Duration::from_millis(50);
    let mut last = "it has no address yet".to_string();
    loop {
        let info = match state.runtime().inspect_container(id, None).await {
            Ok(Some(info)) => info,
            Ok(None) => return Err(BootError::Gone),
            Err(e) => {
                last = format!("Docker could not inspect it: {e}");
                if Instant::now() >= deadline {
                    return Err(BootError::Timeout(last));
                }
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        if !info.running {
            return Err(BootError::Exited(info.exit_code));
        }
        if let Some(ip) = info.ip.as_deref().and_then(|ip| ip.parse().ok()) {
            let addr = SocketAddr::new(ip, WEB_PORT);
            match state.runtime().probe(addr, check, PROBE_TIMEOUT).await {
                Ok(()) => return Ok(()),
                Err(why) => last = why,
            }
        }
        if Instant::now() >= deadline {
            return Err(BootError::Timeout(last));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Watches a web dyno the supervisor started until it is up (then it gets requests) or fails
/// its boot (then it is killed with R10 and restarts after its back-off).
pub fn spawn_watch(state: &AppState, env: &Environment, id: &str, name: &str, check: HealthCheck) {
    let table = &state.supervisor().table;
    if !table.claim(id) {
        return;
    }
    let (state, env_id, id, name) = (
        state.clone(),
        env.id.clone(),
        id.to_string(),
        name.to_string(),
    );
    tokio::spawn(async move {
        let deadline = boot_deadline(&state);
        match wait_healthy(&state, &id, &check, deadline).await {
            Ok(()) => {
                state.supervisor().table.set(&id, Phase::Up);
                state
                    .logs()
                    .heroku(&env_id, &name, "State changed from starting to up");
                crate::routes::publish(&state).await;
            }
            Err(BootError::Timeout(_)) => {
                let hub = state.logs();
                hub.heroku(&env_id, &name, r10(&state, &check));
                hub.heroku(&env_id, &name, "Stopping process with SIGKILL");
                if let Err(e) = state.runtime().kill(&id).await {
                    tracing::warn!(container = %id, error = %e, "could not kill a dyno that did not boot");
                }
            }
            // The event of its exit says the rest.
            Err(BootError::Exited(_) | BootError::Gone) => {}
        }
        state.supervisor().table.release(&id);
        state.supervisor().wake();
    });
}

/// A running container the table does not know (found after a restart of doppel): a web dyno
/// is probed before it gets requests; anything else is up.
pub fn adopt(state: &AppState, env: &Environment, c: &Observed) {
    if c.is_web() {
        state.supervisor().table.set(&c.id, Phase::Starting);
        let check = match &c.health {
            Some(path) => HealthCheck::Http {
                path: path.clone(),
                host: state.urls().env_host(&env.name),
            },
            None => HealthCheck::Tcp,
        };
        spawn_watch(state, env, &c.id, &c.dyno, check);
    } else if c.role != Role::Release {
        state.supervisor().table.set(&c.id, Phase::Up);
    }
}

/// How long the supervisor waits for a web dyno to come up when it starts one itself.
pub fn boot_deadline(state: &AppState) -> Instant {
    Instant::now() + state.config().boot_timeout.max(Duration::from_secs(1))
}

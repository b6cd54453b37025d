//! Rolling an environment onto a release without dropping a request. The steps, each
//! recorded in the rollout's row before Docker acts:
//!
//! 1. `release_phase`: the Procfile's `release:` command runs in a one-off dyno; a failure
//!    stops here.
//! 2. `starting`: the new web dynos start next to the old ones and must pass their health
//!    check (TCP on `$PORT`, or `GET $DOPPEL_HEALTHCHECK_PATH`) within the boot timeout
//!    (R10). A failure removes them: the old release keeps serving.
//! 3. `committed` (by the caller, [`super::release`]): the release is marked succeeded, the
//!    route table switches to the new web dynos, and the supervisor drains and stops the old
//!    dynos behind it (and replaces the other process types, old first).
//! 4. `done`: the supervisor saw nothing of the old release left.
//!
//! Every step may run twice without harm (a web dyno of the release that already runs is
//! reused), and a restart of doppel unwinds a rollout that had not committed (its release
//! is marked failed and the supervisor removes its dynos) or finishes one that had.

use std::time::Instant;

use doppel_docker::HealthCheck;
use doppel_store::{Environment, Release, RolloutPhase};
use doppel_types::dyno_command;

use super::dynos::{self, WantedDyno};
use super::progress::Progress;
use crate::state::AppState;
use crate::supervisor::boot::{self, BootError};
use crate::supervisor::observed::{Observed, Role};
use crate::supervisor::table::Phase;
use crate::supervisor::{execute, retire};

/// Runs steps 1 and 2 for `release` (the caller holds the environment's lock). `Err` says why
/// the release must fail; nothing of it is left running then.
pub async fn roll_out(
    state: &AppState,
    env: &Environment,
    release: &Release,
    rollout_id: &str,
    progress: &dyn Progress,
) -> Result<(), String> {
    let result = steps(state, env, release, rollout_id, progress).await;
    if result.is_err() {
        unwind(state, env, release).await;
    }
    result
}

async fn steps(
    state: &AppState,
    env: &Environment,
    release: &Release,
    rollout_id: &str,
    progress: &dyn Progress,
) -> Result<(), String> {
    let store = state.store();
    let formation = store
        .formation(&env.id)
        .await
        .map_err(|e| format!("could not read the formation: {e}"))?;
    let config = store
        .release_config(&release.id)
        .await
        .map_err(|e| format!("could not read the release's config: {e}"))?;
    let network = crate::networks::ensure_env(state, env)
        .await
        .map_err(|e| format!("could not prepare the environment's network: {e}"))?;
    if release.process_types.contains_key("release") {
        record(state, rollout_id, RolloutPhase::ReleasePhase).await?;
        super::release_phase::run(state, env, release, &config, &network, rollout_id, progress)
            .await?;
    }
    record(state, rollout_id, RolloutPhase::Starting).await?;
    let runs_web = dyno_command(release.image_kind, &release.process_types, "web").is_ok();
    let web: Vec<WantedDyno> = dynos::wanted(&formation)
        .into_iter()
        .filter(|w| runs_web && w.process_type == "web")
        .collect();
    let check = boot::check_for(state, env, &config);
    let existing = running_of(state, env, release).await;
    let mut booting = Vec::new();
    for w in &web {
        let reuse = existing
            .iter()
            .find(|c| c.dyno == w.name() && c.has_size(&w.size));
        let id = match reuse {
            Some(c) => c.id.clone(),
            None => execute::start_dyno(state, env, release, &config, &network, w, 0).await?,
        };
        booting.push((w.name(), id));
    }
    wait_all(state, env, &booting, &check).await
}

/// Waits until every new web dyno passes its check; the first failure fails the rollout.
async fn wait_all(
    state: &AppState,
    env: &Environment,
    booting: &[(String, String)],
    check: &HealthCheck,
) -> Result<(), String> {
    let deadline = Instant::now() + state.config().boot_timeout;
    let waits = booting
        .iter()
        .map(|(_, id)| boot::wait_healthy(state, id, check, deadline));
    let results = futures_util::future::join_all(waits).await;
    let hub = state.logs();
    let mut failure = None;
    for ((name, id), result) in booting.iter().zip(results) {
        match result {
            Ok(()) => {
                if state.supervisor().table.transition(id, Phase::Up) != Some(Phase::Up) {
                    hub.heroku(&env.id, name, "State changed from starting to up");
                }
            }
            Err(e) => {
                if let BootError::Timeout(_) = e {
                    hub.heroku(&env.id, name, boot::r10(state, check));
                    hub.heroku(&env.id, name, "Stopping process with SIGKILL");
                }
                failure.get_or_insert_with(|| e.describe(name, state, check));
            }
        }
    }
    match failure {
        Some(reason) => Err(reason),
        None => Ok(()),
    }
}

/// The release's formation dynos that run now (a step run a second time reuses them).
async fn running_of(state: &AppState, env: &Environment, release: &Release) -> Vec<Observed> {
    dynos::list_all(state)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(Observed::read)
        .filter(|c| {
            c.env_id == env.id
                && c.role == Role::Dyno
                && c.release_id == release.id
                && c.running
                && state.supervisor().table.get(&c.id).map(|d| d.phase) != Some(Phase::Stopping)
        })
        .collect()
}

/// Removes every dyno of a release that did not go into service.
pub async fn unwind(state: &AppState, env: &Environment, release: &Release) {
    let containers = dynos::list_all(state).await.unwrap_or_default();
    for c in containers.iter().filter_map(Observed::read) {
        if c.env_id != env.id || c.release_id != release.id || c.role == Role::Run {
            continue;
        }
        if c.running {
            let _ = state.runtime().kill(&c.id).await;
        }
        // What it printed before it failed (often why) reaches the log first.
        let until = Instant::now() + std::time::Duration::from_secs(5);
        while !state.supervisor().table.is_followed(&c.id) && Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if let Err(e) = retire::remove(state, &c.id).await {
            tracing::warn!(container = %c.id, error = %e, "could not remove a dyno of a failed release; the supervisor will retry");
        }
    }
    crate::routes::publish(state).await;
}

async fn record(state: &AppState, rollout_id: &str, phase: RolloutPhase) -> Result<(), String> {
    state
        .store()
        .set_rollout_phase(rollout_id, phase, "")
        .await
        .map_err(|e| {
            tracing::error!(rollout = %rollout_id, error = %e, "could not record a rollout step");
            format!("doppel could not record the rollout's progress: {e}")
        })
}

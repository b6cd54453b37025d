//! The supervisor: the background task that makes Docker match the store. It takes no input:
//! a wake-up carries no data, and every pass re-reads the desired state (each environment's
//! current release and formation) and the actual state (this installation's containers), so
//! a start, a restart of doppel, a restart of the Docker engine and the steady state share
//! one path. It wakes at once on Docker's events (a dyno exiting, a container removed by
//! hand), when a back-off ends, when an API call changed something, and every
//! [`SAFETY_INTERVAL`] in case an event was missed.
//!
//! A pass decides ([`plan`]) and then acts ([`execute`]); nothing in a pass waits for a dyno:
//! booting, draining and stopping run in their own tasks ([`boot`], [`retire`]), so a
//! crash-looping app never slows another. An environment whose lock a rollout holds is left
//! to the rollout.
//!
//! Parts: [`table`] (what Docker does not know: up, stopping, crashed), [`observed`]
//! (labels read), [`plan`], [`execute`], [`boot`], [`retire`], [`follow`] (dyno output into
//! the log stream), [`events`] (Docker's event stream).

pub mod boot;
pub mod events;
pub mod execute;
pub mod follow;
pub mod handle;
pub mod observed;
pub mod plan;
pub mod retire;
pub mod table;

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;

use crate::state::AppState;
pub use handle::Supervisor;
use observed::Observed;
pub use table::{DynoTable, Phase};

/// The longest the supervisor sleeps without a wake-up.
pub const SAFETY_INTERVAL: Duration = Duration::from_secs(30);

/// Runs passes forever: at start, on every wake-up, at the next back-off's end, and every
/// [`SAFETY_INTERVAL`] at least. Starts the event listener.
pub async fn run_forever(state: AppState) {
    tokio::spawn(events::listen(state.clone()));
    loop {
        let next = run_once(&state).await;
        let sleep = next
            .map(|at| {
                let secs = (at - OffsetDateTime::now_utc()).as_seconds_f64().max(0.0);
                Duration::from_secs_f64(secs).min(SAFETY_INTERVAL)
            })
            .unwrap_or(SAFETY_INTERVAL);
        tokio::select! {
            () = state.supervisor().notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

/// One pass over every environment; returns when the next back-off ends. Failures are
/// logged and retried on the next pass.
pub async fn run_once(state: &AppState) -> Option<OffsetDateTime> {
    let next = match pass(state).await {
        Ok(next) => next,
        Err(e) => {
            tracing::warn!(error = %e, "supervisor pass failed; retrying");
            Some(OffsetDateTime::now_utc() + time::Duration::seconds(2))
        }
    };
    // Add-on servers are supervised in the same pass (restarted, recreated; never their data).
    crate::addons::supervisor::converge(state).await;
    crate::routes::publish(state).await;
    next
}

async fn pass(state: &AppState) -> anyhow::Result<Option<OffsetDateTime>> {
    let envs = state.store().list_environments().await?;
    let containers: Vec<Observed> = crate::workflows::dynos::list_all(state)
        .await?
        .iter()
        .filter_map(Observed::read)
        .collect();
    let existing: HashSet<String> = containers.iter().map(|c| c.id.clone()).collect();
    state.supervisor().table.retain(&existing);
    for c in &containers {
        follow::ensure(state, c);
    }
    let mut next: Option<OffsetDateTime> = None;
    let known: HashSet<&str> = envs.iter().map(|e| e.id.as_str()).collect();
    for env in &envs {
        let lock = state.env_lock(&env.id);
        let Ok(_guard) = lock.try_lock() else {
            // A rollout owns this environment right now: look again soon after it.
            let soon = OffsetDateTime::now_utc() + time::Duration::seconds(1);
            next = Some(next.map_or(soon, |n: OffsetDateTime| n.min(soon)));
            continue;
        };
        let mine: Vec<Observed> = containers
            .iter()
            .filter(|c| c.env_id == env.id)
            .cloned()
            .collect();
        if let Some(at) = execute::converge_env(state, env, &mine).await? {
            next = Some(next.map_or(at, |n: OffsetDateTime| n.min(at)));
        }
    }
    for orphan in containers
        .iter()
        .filter(|c| !known.contains(c.env_id.as_str()))
    {
        execute::remove_orphan(state, orphan).await;
    }
    crate::networks::remove_orphans(state, &envs).await;
    Ok(next)
}

//! Carrying out a plan for one environment, and starting one dyno (shared with rollouts and
//! restarts).

use doppel_docker::ContainerState;
use doppel_store::{Environment, Release, RolloutPhase};
use doppel_types::{dyno_command, ImageKind};
use time::OffsetDateTime;

use super::observed::{Observed, Role};
use super::plan::{self, Action, Inputs};
use super::table::Phase;
use super::{boot, follow, retire};
use crate::labels::LABEL_RESTARTS;
use crate::state::AppState;
use crate::workflows::dynos::{self, WantedDyno};

/// Plans and acts for one environment (its lock held); returns when it needs another look.
pub async fn converge_env(
    state: &AppState,
    env: &Environment,
    containers: &[Observed],
) -> anyhow::Result<Option<OffsetDateTime>> {
    let release = state.store().current_release(&env.id).await?;
    let formation = state.store().formation(&env.id).await?;
    let wanted: Vec<WantedDyno> = match &release {
        Some(r) => dynos::wanted(&formation)
            .into_iter()
            .filter(|w| dyno_command(r.image_kind, &r.process_types, &w.process_type).is_ok())
            .collect(),
        None => Vec::new(),
    };
    let network = match &release {
        Some(_) => Some(crate::networks::ensure_env(state, env).await?),
        None => None,
    };
    if let Some(net) = &network {
        reattach(state, containers, net).await;
    }
    let snapshot = state.supervisor().table.snapshot();
    let plan = plan::plan(&Inputs {
        release: release.as_ref().map(|r| r.id.as_str()),
        wanted: &wanted,
        containers,
        table: &snapshot,
        now: OffsetDateTime::now_utc(),
    });
    let mut config = None;
    for action in plan.actions {
        let result = act(
            state,
            env,
            release.as_ref(),
            network.as_deref(),
            containers,
            &mut config,
            action,
        )
        .await;
        if let Err(e) = result {
            tracing::warn!(env = %env.name, error = %e, "supervisor action failed; retrying on the next pass");
        }
    }
    if plan.converged {
        finish_rollouts(state, env).await;
    }
    Ok(plan.wake_at)
}

async fn act(
    state: &AppState,
    env: &Environment,
    release: Option<&Release>,
    network: Option<&str>,
    containers: &[Observed],
    config: &mut Option<std::collections::BTreeMap<String, String>>,
    action: Action,
) -> anyhow::Result<()> {
    let find = |id: &str| containers.iter().find(|c| c.id == id);
    let table = &state.supervisor().table;
    match action {
        Action::Start { dyno, restarts } => {
            let (Some(release), Some(network)) = (release, network) else {
                return Ok(());
            };
            if config.is_none() {
                *config = Some(state.store().release_config(&release.id).await?);
            }
            let vars = config.clone().unwrap_or_default();
            let id = start_dyno(state, env, release, &vars, network, &dyno, restarts)
                .await
                .map_err(anyhow::Error::msg)?;
            if dyno.process_type == "web" {
                boot::spawn_watch(
                    state,
                    env,
                    &id,
                    &dyno.name(),
                    boot::check_for(state, env, &vars),
                );
            } else {
                up(state, env, &id, &dyno.name());
            }
        }
        Action::Retire(id) => {
            if let Some(c) = find(&id) {
                retire::spawn(state, c.clone());
            }
        }
        Action::Remove(id) => retire::remove(state, &id).await?,
        Action::Kill(id) => {
            if let Some(c) = find(&id) {
                let why = match c.role {
                    Role::Release => "no rollout waits for this release phase any more",
                    _ => "its time to live has passed",
                };
                state.logs().heroku(
                    &env.id,
                    &c.dyno,
                    format!("Stopping process with SIGKILL: {why}"),
                );
            }
            state.runtime().kill(&id).await?;
        }
        Action::MarkCrashed(id) => {
            let before = table.get(&id).map(|d| d.phase);
            if before != Some(Phase::Crashed) {
                table.set(&id, Phase::Crashed);
            }
            // An exit no event reported (the engine restarted, or doppel was down): say it.
            if !matches!(before, Some(Phase::Crashed | Phase::Stopping)) {
                if let Some(c) = find(&id) {
                    crashed_unseen(state, c, before);
                }
            }
        }
        Action::Adopt(id) => {
            if let Some(c) = find(&id) {
                boot::adopt(state, env, c);
            }
        }
    }
    Ok(())
}

/// Logs the exit of a dyno found exited without having heard of it, as the event would have.
fn crashed_unseen(state: &AppState, c: &Observed, before: Option<Phase>) {
    let hub = state.logs();
    let code = c
        .exit_code
        .map(|code| code.to_string())
        .unwrap_or_else(|| "unknown".into());
    hub.heroku(
        &c.env_id,
        &c.dyno,
        format!("Process exited with status {code}"),
    );
    let from = match before {
        Some(Phase::Starting) => "starting",
        _ => "up",
    };
    hub.heroku(
        &c.env_id,
        &c.dyno,
        format!("State changed from {from} to crashed"),
    );
}

/// A non-web dyno is up as soon as it runs.
pub fn up(state: &AppState, env: &Environment, id: &str, name: &str) {
    state.supervisor().table.set(id, Phase::Up);
    state
        .logs()
        .heroku(&env.id, name, "State changed from starting to up");
}

/// Removes a container of an environment that no longer exists (its app was destroyed).
pub async fn remove_orphan(state: &AppState, c: &Observed) {
    tracing::info!(container = %c.id, dyno = %c.dyno, "removing a dyno of a deleted environment");
    if let Err(e) = retire::remove(state, &c.id).await {
        tracing::warn!(container = %c.id, error = %e, "could not remove an orphan dyno");
    }
}

/// Starts one dyno of `release` (labelled with its crash count), records it `starting`, logs
/// it and follows its output. Returns the container id.
pub async fn start_dyno(
    state: &AppState,
    env: &Environment,
    release: &Release,
    config: &std::collections::BTreeMap<String, String>,
    network: &str,
    dyno: &WantedDyno,
    restarts: u32,
) -> Result<String, String> {
    let name = dyno.name();
    let mut spec = dynos::spec(state.instance_id(), env, release, dyno, config, network)
        .map_err(|reason| format!("{name} cannot run: {reason}"))?;
    spec.labels
        .insert(LABEL_RESTARTS.to_string(), restarts.to_string());
    let labels = spec.labels.clone();
    let hub = state.logs();
    let from = if restarts > 0 { "crashed" } else { "down" };
    hub.heroku(
        &env.id,
        &name,
        format!("State changed from {from} to starting"),
    );
    let id = match state.runtime().run_dyno(spec).await {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(env = %env.name, dyno = %name, error = %e, "could not start a dyno");
            hub.heroku(
                &env.id,
                &name,
                format!("Error R99 (Platform error) -> the dyno could not be started: {e}"),
            );
            return Err(format!("could not start {name}: {e}"));
        }
    };
    state.supervisor().table.set(&id, Phase::Starting);
    hub.heroku(
        &env.id,
        &name,
        format!(
            "Starting process with command `{}`",
            command_text(release, &dyno.process_type)
        ),
    );
    let observed = Observed::read(&ContainerState {
        id: id.clone(),
        running: true,
        labels,
        ..Default::default()
    });
    if let Some(c) = observed {
        follow::ensure(state, &c);
    }
    tracing::info!(env = %env.name, dyno = %name, version = release.version, restarts, "started dyno");
    Ok(id)
}

/// The command a process type runs, as the log shows it.
pub fn command_text(release: &Release, process_type: &str) -> String {
    match release.process_types.get(process_type) {
        Some(cmd) => cmd.clone(),
        None if release.image_kind == ImageKind::Dockerfile => "the image's CMD".to_string(),
        None => String::new(),
    }
}

/// Attaches running dynos that lost their environment's network to it again (a network
/// removed by hand comes back, and so do its routes); a dyno that cannot be is retired.
async fn reattach(state: &AppState, containers: &[Observed], network: &str) {
    for c in containers
        .iter()
        .filter(|c| c.running && c.role == Role::Dyno)
    {
        if c.networks.iter().any(|n| n == network) {
            continue;
        }
        tracing::info!(container = %c.id, "attaching a dyno to its environment's network again");
        if let Err(e) = state.runtime().connect_network(network, &c.id).await {
            tracing::warn!(container = %c.id, error = %e, "could not attach the dyno; replacing it");
            retire::spawn(state, c.clone());
        }
    }
}

/// Marks the environment's committed rollouts done (nothing of the old release is left).
async fn finish_rollouts(state: &AppState, env: &Environment) {
    let Ok(open) = state.store().unfinished_rollouts().await else {
        return;
    };
    for r in open
        .iter()
        .filter(|r| r.env_id == env.id && r.phase == RolloutPhase::Committed)
    {
        if let Err(e) = state
            .store()
            .set_rollout_phase(&r.id, RolloutPhase::Done, "the previous dynos are stopped")
            .await
        {
            tracing::warn!(rollout = %r.id, error = %e, "could not mark a rollout done");
        }
    }
}

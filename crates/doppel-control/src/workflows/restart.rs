//! Restarting dynos (`ps:restart`, `DELETE /apps/{app}/dynos[/{name}]`): every running dyno
//! chosen gets a fresh container of the same release. Web dynos go one at a time — the new
//! one starts and passes its health check, then the old one is drained and stopped behind it
//! — so the app keeps serving; other types stop first and then start (a singleton worker
//! never runs twice). Recorded as a rollout of kind `restart`; cut off by a restart of
//! doppel, the supervisor keeps one container per dyno (the newest that is up).

use doppel_store::{Environment, RolloutKind, RolloutPhase};

use super::dynos::WantedDyno;
use crate::state::AppState;
use crate::supervisor::observed::{Observed, Role};
use crate::supervisor::{boot, execute, retire, table::Phase};

/// Which dynos to restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    All,
    /// A process type (`web`).
    Type(String),
    /// One dyno (`web.2`).
    Dyno(String),
}

impl Which {
    fn matches(&self, c: &Observed) -> bool {
        match self {
            Which::All => true,
            Which::Type(t) => c.process_type() == t,
            Which::Dyno(d) => &c.dyno == d,
        }
    }
}

/// Restarts the chosen dynos of `env`'s current release (waits for a deploy in progress).
pub async fn restart(state: &AppState, env: &Environment, which: &Which) -> Result<(), String> {
    let lock = state.env_lock(&env.id);
    let _guard = lock.lock().await;
    let store = state.store();
    let err = |e: doppel_store::StoreError| e.to_string();
    let Some(release) = store.current_release(&env.id).await.map_err(err)? else {
        return Ok(());
    };
    let rollout = store
        .create_rollout(&env.id, Some(&release.id), RolloutKind::Restart)
        .await
        .map_err(err)?;
    store
        .set_rollout_phase(&rollout.id, RolloutPhase::Starting, "")
        .await
        .map_err(err)?;
    let result = replace_all(state, env, &release, which).await;
    let (phase, detail) = match &result {
        Ok(()) => (RolloutPhase::Done, String::new()),
        Err(reason) => (RolloutPhase::Failed, reason.clone()),
    };
    if let Err(e) = store.set_rollout_phase(&rollout.id, phase, &detail).await {
        tracing::warn!(rollout = %rollout.id, error = %e, "could not record the restart's end");
    }
    state.supervisor().wake();
    result
}

async fn replace_all(
    state: &AppState,
    env: &Environment,
    release: &doppel_store::Release,
    which: &Which,
) -> Result<(), String> {
    let config = state
        .store()
        .release_config(&release.id)
        .await
        .map_err(|e| e.to_string())?;
    let network = crate::networks::ensure_env(state, env)
        .await
        .map_err(|e| e.to_string())?;
    let check = boot::check_for(state, env, &config);
    let table = &state.supervisor().table;
    let mut chosen: Vec<Observed> = super::dynos::list_all(state)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(Observed::read)
        .filter(|c| {
            c.env_id == env.id
                && c.role == Role::Dyno
                && c.release_id == release.id
                && c.running
                && which.matches(c)
                && table.get(&c.id).map(|d| d.phase) != Some(Phase::Stopping)
        })
        .collect();
    chosen.sort_by(|a, b| a.dyno.cmp(&b.dyno));
    for old in chosen {
        let wanted = WantedDyno {
            process_type: old.process_type().to_string(),
            index: old
                .dyno
                .rsplit('.')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or(1),
            size: old
                .size
                .clone()
                .unwrap_or_else(|| doppel_types::DEFAULT_DYNO_SIZE.to_string()),
        };
        state.logs().heroku(&env.id, &old.dyno, "Restarting");
        if old.is_web() {
            let id =
                execute::start_dyno(state, env, release, &config, &network, &wanted, 0).await?;
            let deadline = std::time::Instant::now() + state.config().boot_timeout;
            if let Err(e) = boot::wait_healthy(state, &id, &check, deadline).await {
                let _ = state.runtime().kill(&id).await;
                let _ = retire::remove(state, &id).await;
                return Err(e.describe(&old.dyno, state, &check));
            }
            table.set(&id, Phase::Up);
            state
                .logs()
                .heroku(&env.id, &old.dyno, "State changed from starting to up");
            crate::routes::publish(state).await;
            retire::spawn(state, old);
        } else {
            if table.claim(&old.id) {
                retire::retire(state, &old).await;
                table.release(&old.id);
            }
            let id =
                execute::start_dyno(state, env, release, &config, &network, &wanted, 0).await?;
            execute::up(state, env, &id, &old.dyno);
        }
    }
    Ok(())
}

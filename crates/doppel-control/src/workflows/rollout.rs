//! Rolling an environment onto a release: start the new dynos, wait until every web dyno
//! accepts connections on `$PORT`, then switch the route and stop the old dynos. If a new
//! dyno does not boot, the new dynos are removed and the old ones keep serving (promise 5).

use super::dynos::{self, LABEL_ENV_ID, LABEL_RELEASE, LABEL_ROLE, ROLE_DYNO};
use crate::networks;
use crate::state::AppState;
use doppel_store::{Environment, Release};
use doppel_types::WEB_PORT;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Starts `release`'s formation, health-gates it, switches routes, stops the rest.
/// The caller holds the environment's lock.
pub async fn roll_out(
    state: &AppState,
    env: &Environment,
    release: &Release,
) -> Result<(), String> {
    let formation = state
        .store()
        .formation(&env.id)
        .await
        .map_err(|e| format!("could not read the formation: {e}"))?;
    let config = state
        .store()
        .release_config(&release.id)
        .await
        .map_err(|e| format!("could not read the release's config: {e}"))?;
    let network = networks::ensure_env(state, env)
        .await
        .map_err(|e| format!("could not prepare the environment's network: {e}"))?;
    let mut started = Vec::new();
    for dyno in dynos::wanted(&formation) {
        let spec = dynos::spec(state.instance_id(), env, release, &dyno, &config, &network)?;
        match state.runtime().run_dyno(spec).await {
            Ok(id) => started.push((dyno, id)),
            Err(e) => {
                remove_all(state, &started).await;
                return Err(format!("could not start {}: {e}", dyno.name()));
            }
        }
    }
    let deadline = Instant::now() + state.config().boot_timeout;
    for (dyno, id) in started.iter().filter(|(d, _)| d.process_type == "web") {
        if let Err(reason) = wait_until_listening(state, id, &network, deadline).await {
            remove_all(state, &started).await;
            return Err(format!("{} {reason}", dyno.name()));
        }
    }
    Ok(())
}

/// After the release is marked succeeded: publish its routes, then stop other releases' dynos.
pub async fn retire_others(state: &AppState, env: &Environment, release: &Release) {
    crate::routes::publish(state).await;
    let containers = match state
        .runtime()
        .list_containers(&state.instance_filter())
        .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(env = %env.name, error = %e, "could not list old dynos; the reconciler will retry");
            return;
        }
    };
    for c in containers {
        let is_dyno = c.labels.get(LABEL_ROLE).map(String::as_str) == Some(ROLE_DYNO);
        let same_env = c.labels.get(LABEL_ENV_ID) == Some(&env.id);
        let same_release = c.labels.get(LABEL_RELEASE) == Some(&release.id);
        if is_dyno && same_env && !same_release {
            if let Err(e) = state
                .runtime()
                .stop_and_remove(&c.id, Duration::from_secs(10))
                .await
            {
                tracing::warn!(container = %c.name, error = %e, "could not stop old dyno; the reconciler will retry");
            }
        }
    }
}

async fn remove_all(state: &AppState, started: &[(dynos::WantedDyno, String)]) {
    for (_, id) in started {
        if let Err(e) = state
            .runtime()
            .stop_and_remove(id, Duration::from_secs(2))
            .await
        {
            tracing::warn!(container = %id, error = %e, "could not remove failed dyno");
        }
    }
}

/// Waits until the container accepts TCP connections on `$PORT`, or says why not.
async fn wait_until_listening(
    state: &AppState,
    id: &str,
    network: &str,
    deadline: Instant,
) -> Result<(), String> {
    loop {
        let info = state
            .runtime()
            .inspect_container(id, Some(network))
            .await
            .map_err(|e| format!("could not be inspected: {e}"))?;
        let Some(info) = info else {
            return Err("disappeared while booting".to_string());
        };
        if !info.running {
            let code = info
                .exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "?".into());
            return Err(format!(
                "crashed while booting (exit code {code}); check the start command and that it listens on $PORT"
            ));
        }
        if let Some(ip) = info.ip.as_deref().and_then(|ip| ip.parse().ok()) {
            let addr = SocketAddr::new(ip, WEB_PORT);
            let attempt =
                tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr))
                    .await;
            if matches!(attempt, Ok(Ok(_))) {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "did not listen on $PORT ({WEB_PORT}) within {} s (Heroku's R10 boot timeout)",
                state.config().boot_timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

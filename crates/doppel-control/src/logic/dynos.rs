//! Dynos of an environment: listing them (`ps`), running one-off dynos, restarting (rolling
//! for web) and stopping them.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::dynos::one_off::{self, OneOffError, Started};
use crate::dynos::view::{self, DynoView};
use crate::state::AppState;
use crate::supervisor::observed::Observed;
use crate::workflows::restart::{self, Which};

/// The environment's dynos.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(EnvAccess, Vec<DynoView>), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let dynos = view::list(state, &access.env)
        .await
        .map_err(|e| internal("list the dynos", e))?;
    Ok((access, dynos))
}

/// One dyno by name (`web.1`) or container id.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    dyno: &str,
) -> Result<(EnvAccess, DynoView), LogicError> {
    let (access, dynos) = list(state, actor, env).await?;
    let found = dynos
        .into_iter()
        .find(|d| d.name == dyno || d.id == dyno)
        .ok_or_else(|| LogicError::not_found("dyno", dyno))?;
    Ok((access, found))
}

/// Runs a one-off dyno.
pub async fn run(
    state: &AppState,
    actor: &Actor,
    env: &str,
    req: one_off::Request,
) -> Result<(EnvAccess, Started), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let attach = req.attach;
    let started = one_off::create(state, &access.env, &actor.user.email, req)
        .await
        .map_err(|e| match e {
            OneOffError::Invalid(m) => LogicError::Invalid(m),
            OneOffError::NoRelease(_) => LogicError::Conflict(e.to_string()),
            OneOffError::Runtime(_) => LogicError::Failed(e.to_string()),
            OneOffError::Store(s) => LogicError::from(s),
        })?;
    super::audit::record(
        state,
        actor,
        &access.app,
        Some(&access.env),
        "dyno.run",
        serde_json::json!({ "dyno": started.name, "attach": attach, "size": started.size }),
    )
    .await;
    Ok((access, started))
}

/// What `target` names among the environment's dynos: a dyno name (`web.1`) or id, a process
/// type (`web`; also where a dyno is expected, as Heroku takes it), or everything.
fn which_of(dynos: &[DynoView], target: Option<&str>, is_type: bool) -> Which {
    match target {
        None => Which::All,
        Some(t) if is_type => Which::Type(t.to_string()),
        Some(t) if !dynos.iter().any(|d| d.name == t || d.id == t) && !t.contains('.') => {
            Which::Type(t.to_string())
        }
        Some(t) => Which::Dyno(t.to_string()),
    }
}

/// Restarts dynos: all (`target` `None`), a process type (`is_type`), or one dyno. Web dynos
/// go one at a time so the app keeps serving; the call returns once the restart is under way.
pub async fn restart(
    state: &AppState,
    actor: &Actor,
    env: &str,
    target: Option<&str>,
    is_type: bool,
) -> Result<(), LogicError> {
    let (access, dynos) = list(state, actor, env).await?;
    let which = which_of(&dynos, target, is_type);
    check_target(&dynos, &which)?;
    let (task_state, env_row, task_which) = (state.clone(), access.env.clone(), which.clone());
    tokio::spawn(async move {
        if let Err(reason) = restart::restart(&task_state, &env_row, &task_which).await {
            tracing::warn!(env = %env_row.name, %reason, "restart failed");
            task_state
                .logs()
                .api(&env_row.id, format!("Restart failed: {reason}"));
        }
    });
    super::audit::record(
        state,
        actor,
        &access.app,
        Some(&access.env),
        "dyno.restart",
        serde_json::json!({ "dynos": describe(&which) }),
    )
    .await;
    state.logs().api(
        &access.env.id,
        format!("Restart {} by {}", describe(&which), actor.user.email),
    );
    Ok(())
}

/// Stops dynos (SIGTERM, 30 s, SIGKILL, after their requests finish). The formation's dynos
/// are started again by the supervisor; a one-off is gone.
pub async fn stop(
    state: &AppState,
    actor: &Actor,
    env: &str,
    target: Option<&str>,
    is_type: bool,
) -> Result<(), LogicError> {
    let (access, dynos) = list(state, actor, env).await?;
    let which = which_of(&dynos, target, is_type);
    check_target(&dynos, &which)?;
    let containers = crate::workflows::dynos::list_all(state)
        .await
        .map_err(|e| internal("list the dynos", e))?;
    for c in containers.iter().filter_map(Observed::read) {
        let chosen = match &which {
            Which::All => true,
            Which::Type(t) => c.process_type() == t,
            Which::Dyno(d) => &c.dyno == d || &c.id == d,
        };
        if c.env_id == access.env.id && c.running && chosen {
            crate::supervisor::retire::spawn(state, c);
        }
    }
    super::audit::record(
        state,
        actor,
        &access.app,
        Some(&access.env),
        "dyno.stop",
        serde_json::json!({ "dynos": describe(&which) }),
    )
    .await;
    Ok(())
}

fn check_target(dynos: &[DynoView], which: &Which) -> Result<(), LogicError> {
    match which {
        Which::Dyno(d) if !dynos.iter().any(|x| &x.name == d || &x.id == d) => {
            Err(LogicError::not_found("dyno", d.as_str()))
        }
        _ => Ok(()),
    }
}

fn describe(which: &Which) -> String {
    match which {
        Which::All => "all dynos".to_string(),
        Which::Type(t) => format!("{t} dynos"),
        Which::Dyno(d) => d.clone(),
    }
}

fn internal(context: &'static str, e: impl std::fmt::Display) -> LogicError {
    tracing::error!(error = %e, "could not {context}");
    LogicError::Failed(format!(
        "doppel could not {context}; the server log has the details"
    ))
}

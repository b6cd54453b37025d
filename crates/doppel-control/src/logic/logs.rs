//! An environment's log: log sessions (`POST /apps/{app}/log-sessions`, read through their
//! `logplex_url` without a token) and log drains.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::logs::sessions::LogSession;
use crate::logs::transport::Target;
use crate::logs::{Filter, MAX_LINES, SOURCE_APP, SOURCE_HEROKU};
use crate::state::AppState;
use doppel_store::LogDrain;

/// Past lines sent when a client asks for none in particular (Heroku's default).
pub const DEFAULT_LINES: usize = 100;

/// What a log session asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRequest {
    /// A dyno (`web.1`) or process type (`web`).
    pub dyno: Option<String>,
    /// `app` or `heroku`.
    pub source: Option<String>,
    pub lines: Option<usize>,
    pub tail: bool,
}

/// Creates a log session; returns the environment and the session's `logplex_url`.
pub async fn create_session(
    state: &AppState,
    actor: &Actor,
    env: &str,
    req: SessionRequest,
) -> Result<(EnvAccess, String), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let source = req.source.filter(|s| !s.is_empty());
    if let Some(s) = &source {
        if s != SOURCE_APP && s != SOURCE_HEROKU {
            return Err(LogicError::Invalid(format!(
                "source must be app or heroku, not {s:?}"
            )));
        }
    }
    let lines = req.lines.unwrap_or(DEFAULT_LINES).min(MAX_LINES);
    let secret = state.log_sessions().create(LogSession {
        env_id: access.env.id.clone(),
        filter: Filter {
            dyno: req.dyno.filter(|d| !d.is_empty()),
            source,
        },
        lines,
        tail: req.tail,
    });
    let url = format!("{}/log-sessions/{secret}", state.urls().platform());
    Ok((access, url))
}

/// The session behind a `logplex_url`'s secret (the URL is the capability: no token).
pub fn open_session(state: &AppState, secret: &str) -> Result<LogSession, LogicError> {
    state
        .log_sessions()
        .open(secret)
        .ok_or_else(|| LogicError::not_found("log session", "(expired or unknown)"))
}

/// The environment's drains.
pub async fn drains(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(EnvAccess, Vec<LogDrain>), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let list = state.store().log_drains(&access.env.id).await?;
    Ok((access, list))
}

/// Adds a drain (`syslog://`, `syslog+tls://` or `https://`) and starts sending to it.
pub async fn add_drain(
    state: &AppState,
    actor: &Actor,
    env: &str,
    url: &str,
) -> Result<(EnvAccess, LogDrain), LogicError> {
    let access = access::environment(state, actor, env).await?;
    Target::parse(url.trim()).map_err(LogicError::Invalid)?;
    let drain = state
        .store()
        .add_log_drain(&access.env.id, url.trim())
        .await?;
    sync_drains(state).await;
    // The URL may hold credentials: the audit names the drain by its token.
    super::audit::record(
        state,
        actor,
        &access.app,
        Some(&access.env),
        "drain.add",
        serde_json::json!({ "drain": drain.token }),
    )
    .await;
    Ok((access, drain))
}

/// Removes a drain named by id, token or URL.
pub async fn remove_drain(
    state: &AppState,
    actor: &Actor,
    env: &str,
    which: &str,
) -> Result<(EnvAccess, LogDrain), LogicError> {
    let access = access::environment(state, actor, env).await?;
    let drain = state
        .store()
        .remove_log_drain(&access.env.id, which)
        .await
        .map_err(|e| match e {
            doppel_store::StoreError::NotFound(_) => {
                LogicError::not_found("log drain", "(as named)")
            }
            other => other.into(),
        })?;
    sync_drains(state).await;
    super::audit::record(
        state,
        actor,
        &access.app,
        Some(&access.env),
        "drain.remove",
        serde_json::json!({ "drain": drain.token }),
    )
    .await;
    Ok((access, drain))
}

/// Runs a delivery task for every drain in the store (at start, and after a change).
pub async fn sync_drains(state: &AppState) {
    match state.store().all_log_drains().await {
        Ok(drains) => state.drains().sync(state.logs(), state.drain_tls(), drains),
        Err(e) => tracing::warn!(error = %e, "could not read the log drains"),
    }
}

//! The audit log as the logic layer writes and reads it: every change to an app or its
//! environments is recorded with who, what, when, from which address and through which
//! client. Details name config keys, never values.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, AuditEvent, AuditFilter, Environment, NewAuditEvent};

/// Records a change. A failure to record is logged (an operator must look), not returned:
/// the change itself has happened.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    app: &App,
    env: Option<&Environment>,
    action: &str,
    details: serde_json::Value,
) {
    let event = NewAuditEvent {
        app_id: app.id.clone(),
        app_name: app.name.clone(),
        env_id: env.map(|e| e.id.clone()),
        env_name: env.map(|e| e.name.clone()),
        user_id: Some(actor.user.id.clone()),
        user_email: Some(actor.user.email.clone()),
        action: action.to_string(),
        details: details.to_string(),
        client: actor.client.clone(),
        address: actor.address.map(|a| a.to_string()),
    };
    if let Err(e) = state.store().record_audit(&event).await {
        tracing::error!(error = %e, action, app = %app.name, "could not record an audit event");
    }
}

/// An app's events, newest first (needs access to the app; `env` narrows to one environment).
pub async fn events(
    state: &AppState,
    actor: &Actor,
    app: &str,
    env: Option<&str>,
    user: Option<&str>,
    limit: Option<u32>,
) -> Result<Vec<AuditEvent>, LogicError> {
    let (app, env_id) = match env {
        Some(env) => {
            let found = access::environment(state, actor, env).await?;
            (found.app, Some(found.env.id))
        }
        None => (access::whole_app(state, actor, app).await?, None),
    };
    let filter = AuditFilter {
        env_id,
        user: user.map(str::to_string),
        limit,
    };
    Ok(state.store().audit_events(&app.id, &filter).await?)
}

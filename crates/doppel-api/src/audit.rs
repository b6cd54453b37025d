//! The audit log: `GET /pipelines/{pipeline}/audit` (both environments, or one with
//! `?environment=NAME`) and `GET /apps/{app}/audit` (one environment), newest first, filtered
//! by `?user=EMAIL|ID` and capped by `?limit=N` (default 1000).

use super::error::ApiError;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use doppel_api_types::audit::AuditEvent;
use doppel_api_types::{NamedRef, UserRef};
use doppel_control::logic::{audit, pipelines, Actor};
use doppel_control::state::AppState;

/// The filters both paths take.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    environment: Option<String>,
    user: Option<String>,
    limit: Option<u32>,
}

fn view(e: doppel_store::AuditEvent) -> AuditEvent {
    let environment = match (e.env_id, e.env_name) {
        (Some(id), Some(name)) => Some(NamedRef::new(id, name)),
        _ => None,
    };
    AuditEvent {
        details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::String(e.details)),
        id: e.id,
        created_at: e.created_at,
        action: e.action,
        app: NamedRef::new(e.app_id, e.app_name),
        environment,
        user: e.user_id.map(|id| UserRef {
            id,
            email: e.user_email,
        }),
        client: e.client,
        address: e.address,
    }
}

/// `GET /pipelines/{pipeline}/audit`.
pub async fn for_pipeline(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    let events = pipelines::audit(
        &state,
        &actor,
        &pipeline,
        q.environment.as_deref(),
        q.user.as_deref(),
        q.limit,
    )
    .await?;
    Ok(Json(events.into_iter().map(view).collect()))
}

/// `GET /apps/{app}/audit`: one environment's events.
pub async fn for_environment(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    let events =
        audit::events(&state, &actor, &env, Some(&env), q.user.as_deref(), q.limit).await?;
    Ok(Json(events.into_iter().map(view).collect()))
}

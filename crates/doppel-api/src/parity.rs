//! `/pipelines/{pipeline}/parity`: staging and production side by side; admins mark a
//! difference intended (`POST …/parity/marks {id, reason}`) or take the mark back
//! (`DELETE …/parity/marks/{aspect}/{item}`).

use super::body::Body;
use super::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use doppel_api_types::parity::{
    Parity, ParityAspect, ParityDifference, ParityMark, ParityMarkCreate,
};
use doppel_api_types::{NamedRef, UserRef};
use doppel_control::logic::parity::{self, Class, Report};
use doppel_control::logic::{Actor, LogicError};
use doppel_control::state::AppState;
use std::collections::HashMap;

async fn mark_view(
    state: &AppState,
    mark: &doppel_store::ParityMark,
    users: &mut HashMap<String, Option<String>>,
) -> Result<ParityMark, ApiError> {
    let user = match &mark.user_id {
        Some(id) => {
            if !users.contains_key(id) {
                let found = state.store().user(id).await.map_err(LogicError::from)?;
                users.insert(id.clone(), found.map(|u| u.email));
            }
            Some(UserRef {
                id: id.clone(),
                email: users.get(id).cloned().flatten(),
            })
        }
        None => None,
    };
    Ok(ParityMark {
        id: format!("{}/{}", mark.aspect, mark.item),
        reason: mark.reason.clone(),
        user,
        created_at: mark.created_at.clone(),
    })
}

async fn report_view(state: &AppState, report: &Report) -> Result<Parity, ApiError> {
    let mut users = HashMap::new();
    let mut aspects = Vec::new();
    for a in &report.aspects {
        let mut differences = Vec::new();
        for d in &a.differences {
            let mark = match &d.mark {
                Some(m) => Some(mark_view(state, m, &mut users).await?),
                None => None,
            };
            differences.push(ParityDifference {
                id: d.id(),
                aspect: d.aspect.to_string(),
                item: d.item.clone(),
                class: d.class.as_str().to_string(),
                message: d.message.clone(),
                fix: d.fix.clone(),
                mark,
            });
        }
        aspects.push(ParityAspect {
            name: a.name.to_string(),
            title: a.title.to_string(),
            staging: a.staging.clone(),
            production: a.production.clone(),
            differences,
        });
    }
    let named = |e: &doppel_store::Environment| NamedRef::new(&e.id, &e.name);
    Ok(Parity {
        pipeline: NamedRef::new(&report.app.id, &report.app.name),
        staging: named(&report.staging),
        production: named(&report.production),
        drift: report.count(Class::Drift),
        expected: report.count(Class::Expected),
        intended: report.count(Class::Intended),
        aspects,
    })
}

/// `GET /pipelines/{pipeline}/parity` (the app's name or id, or either environment's name).
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
) -> Result<Json<Parity>, ApiError> {
    let report = parity::report(&state, &actor, &pipeline).await?;
    Ok(Json(report_view(&state, &report).await?))
}

/// `POST /pipelines/{pipeline}/parity/marks {id, reason}` → 201 with the mark (admins).
pub async fn mark(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
    Body(body): Body<ParityMarkCreate>,
) -> Result<(StatusCode, Json<ParityMark>), ApiError> {
    let reason = body.reason.unwrap_or_default();
    let mark = parity::mark(&state, &actor, &pipeline, &body.id, &reason).await?;
    let view = mark_view(&state, &mark, &mut HashMap::new()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `DELETE /pipelines/{pipeline}/parity/marks/{aspect}/{item}` (admins).
pub async fn unmark(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((pipeline, aspect, item)): Path<(String, String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = format!("{aspect}/{item}");
    parity::unmark(&state, &actor, &pipeline, &id).await?;
    Ok(Json(serde_json::json!({ "id": id })))
}

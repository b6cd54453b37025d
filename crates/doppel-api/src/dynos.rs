//! `/apps/{app}/dynos`: an environment's dynos (`ps`), one-off dynos (`run`, with an
//! `attach_url` for Heroku's rendezvous), restarts (`DELETE`, rolling for web) and stops
//! (`actions/stop`); `/apps/{app}/formations/{type}` restarts or stops one process type.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::dynos::{Dyno, DynoCreate};
use doppel_control::dynos::one_off::Request;
use doppel_control::dynos::view::DynoView;
use doppel_control::logic::{dynos, Actor};
use doppel_control::state::AppState;

const FIELDS: &[Field<Dyno>] = &[
    ("name", |d| SortKey::Text(d.name.clone())),
    ("id", |d| SortKey::Text(d.id.clone())),
];

/// `GET /apps/{app}/dynos`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Dyno>, ApiError> {
    let (access, list) = dynos::list(&state, &actor, &app).await?;
    let items: Vec<Dyno> = list
        .iter()
        .map(|d| views::dyno(d, &access.env, None))
        .collect();
    let spec = RangeSpec::from_headers(&headers);
    if spec.field.is_none() && spec.max.is_none() {
        // Without a Range, doppel's order: process types, then one-offs, by index.
        return Ok(paginate(
            items,
            &spec,
            &[("name", |_: &Dyno| SortKey::Num(0))],
        ));
    }
    Ok(paginate(items, &spec, FIELDS))
}

/// `GET /apps/{app}/dynos/{dyno}` (a name such as `web.1`, or an id).
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, dyno)): Path<(String, String)>,
) -> Result<Json<Dyno>, ApiError> {
    let (access, found) = dynos::show(&state, &actor, &app, &dyno).await?;
    Ok(Json(views::dyno(&found, &access.env, None)))
}

/// `POST /apps/{app}/dynos {command, attach?, env?, force_no_tty?, size?, time_to_live?}`.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<DynoCreate>,
) -> Result<(StatusCode, Json<Dyno>), ApiError> {
    let attach = body.attach.unwrap_or(false);
    let request = Request {
        command: body.command,
        attach,
        tty: attach && !body.force_no_tty.unwrap_or(false),
        env: body.env.unwrap_or_default(),
        size: body.size,
        time_to_live: body.time_to_live,
    };
    let (access, started) = dynos::run(&state, &actor, &app, request).await?;
    let view = DynoView {
        id: started.container.clone(),
        name: started.name.clone(),
        process_type: "run".to_string(),
        command: started.command.clone(),
        state: if attach { "starting" } else { "up" },
        size: started.size.clone(),
        release_id: started.release.id.clone(),
        release_version: Some(started.release.version),
        created_at: started.created_at,
        updated_at: started.created_at,
    };
    let dyno = views::dyno(&view, &access.env, started.attach_url.clone());
    Ok((StatusCode::CREATED, Json(dyno)))
}

/// `DELETE /apps/{app}/dynos`: restarts every dyno (web one at a time).
pub async fn restart_all(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    dynos::restart(&state, &actor, &app, None, false).await?;
    Ok(accepted())
}

/// `DELETE /apps/{app}/dynos/{dyno}`: restarts one dyno.
pub async fn restart(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, dyno)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    dynos::restart(&state, &actor, &app, Some(&dyno), false).await?;
    Ok(accepted())
}

/// `DELETE /apps/{app}/formations/{type}`: restarts the dynos of one process type.
pub async fn restart_type(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, process)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    dynos::restart(&state, &actor, &app, Some(&process), true).await?;
    Ok(accepted())
}

/// `POST /apps/{app}/dynos/{dyno}/actions/stop`.
pub async fn stop(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, dyno)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    dynos::stop(&state, &actor, &app, Some(&dyno), false).await?;
    Ok(accepted())
}

/// `POST /apps/{app}/formations/{type}/actions/stop`.
pub async fn stop_type(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, process)): Path<(String, String)>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    dynos::stop(&state, &actor, &app, Some(&process), true).await?;
    Ok(accepted())
}

/// Heroku answers restarts and stops with an empty object; the work goes on behind it.
fn accepted() -> (StatusCode, Json<serde_json::Value>) {
    (StatusCode::ACCEPTED, Json(serde_json::json!({})))
}

//! Backups of an environment's add-ons (doppel's extension; Heroku serves `pg:backups` from
//! its data API): `/apps/{app}/backups[/{name}[/download]]`, `/apps/{app}/backup-restores`,
//! `/apps/{app}/backup-schedules`.

use axum::body::Body as HttpBody;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use doppel_api_types::addons::{
    Addon, AddonTarget, Backup, BackupCapture, RestoreCreate, ScheduleSet,
};
use doppel_control::logic::backups::{self, RestoreRequest};
use doppel_control::logic::{Actor, LogicError};
use doppel_control::state::AppState;
use doppel_store::BackupSchedule;

use super::addon_views as v;
use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;

const FIELDS: &[Field<Backup>] = &[
    ("created_at", |b| SortKey::Text(b.created_at.clone())),
    ("name", |b| SortKey::Text(b.name.clone())),
    ("id", |b| SortKey::Text(b.id.clone())),
];

async fn shown(
    state: &AppState,
    env: &doppel_store::Environment,
    list: &[doppel_store::Backup],
) -> Result<Vec<Backup>, ApiError> {
    let users = views::users_named(
        state.store(),
        list.iter().filter_map(|b| b.user_id.as_deref()),
    )
    .await
    .map_err(LogicError::from)?;
    Ok(list.iter().map(|b| v::backup(b, env, &users)).collect())
}

/// `GET /apps/{app}/backups`: backups and restores, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Page<Backup>, ApiError> {
    let (env, list) = backups::list(&state, &actor, &app).await?;
    let items = shown(&state, &env, &list).await?;
    Ok(paginate(items, &RangeSpec::from_headers(&headers), FIELDS))
}

/// `GET /apps/{app}/backups/{name}` (`b001`, an id, or `latest`).
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Json<Backup>, ApiError> {
    let (env, found) = backups::show(&state, &actor, &app, &name).await?;
    let mut items = shown(&state, &env, std::slice::from_ref(&found)).await?;
    items
        .pop()
        .map(Json)
        .ok_or_else(|| LogicError::not_found("backup", name).into())
}

/// `POST /apps/{app}/backups {addon?, service?, wait?}` → 201 (`pg:backups:capture`).
pub async fn capture(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<BackupCapture>,
) -> Result<(StatusCode, Json<Backup>), ApiError> {
    let (found, backup) = backups::capture(
        &state,
        &actor,
        &app,
        body.addon.as_deref(),
        body.service.as_deref(),
        body.wait,
    )
    .await?;
    let mut items = shown(&state, &found.env, std::slice::from_ref(&backup)).await?;
    let item = items
        .pop()
        .ok_or_else(|| ApiError::invalid("no backup was made"))?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// `DELETE /apps/{app}/backups/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Json<Backup>, ApiError> {
    let (env, _) = backups::show(&state, &actor, &app, &name).await?;
    let gone = backups::delete(&state, &actor, &app, &name).await?;
    let mut items = shown(&state, &env, std::slice::from_ref(&gone)).await?;
    items
        .pop()
        .map(Json)
        .ok_or_else(|| LogicError::not_found("backup", name).into())
}

/// `GET /apps/{app}/backups/{name}/download`: the file, streamed, with its checksum in
/// `X-Doppel-Checksum` (a file that no longer matches it is refused).
pub async fn download(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (backup, path) = backups::download(&state, &actor, &app, &name).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| LogicError::internal("open the backup's file", e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("backup")
        .to_string();
    let body = HttpBody::from_stream(tokio_util::io::ReaderStream::with_capacity(
        file,
        256 * 1024,
    ));
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let pairs = [
        (
            header::CONTENT_DISPOSITION.as_str().to_string(),
            format!("attachment; filename=\"{}.{ext}\"", backup.label()),
        ),
        (
            header::CONTENT_LENGTH.as_str().to_string(),
            backup.size_bytes.unwrap_or(0).to_string(),
        ),
        (
            "x-doppel-checksum".to_string(),
            backup.checksum.clone().unwrap_or_default(),
        ),
    ];
    for (k, val) in pairs {
        if let (Ok(k), Ok(val)) = (
            header::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&val),
        ) {
            h.insert(k, val);
        }
    }
    Ok(resp)
}

/// `POST /apps/{app}/backup-restores {source?, addon?, mask_script?, wait?}` → 201
/// (`pg:backups:restore`): a corrupt or truncated backup is refused (422) and nothing changes.
pub async fn restore(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<RestoreCreate>,
) -> Result<(StatusCode, Json<Backup>), ApiError> {
    let req = RestoreRequest {
        source: body.source,
        target: body.addon,
        script: body.mask_script,
        wait: body.wait,
    };
    let (found, row) =
        backups::restore(&state, &actor, &app, body.service.as_deref(), &req).await?;
    let mut items = shown(&state, &found.env, std::slice::from_ref(&row)).await?;
    let item = items
        .pop()
        .ok_or_else(|| ApiError::invalid("no restore was made"))?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// `GET /apps/{app}/backup-schedules`: the add-ons of the environment with their schedule.
pub async fn schedules(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<Vec<Addon>>, ApiError> {
    let list = doppel_control::logic::addons::list(&state, &actor, Some(&app)).await?;
    Ok(Json(
        list.iter()
            .filter(|a| a.addon.schedule.is_some())
            .map(|a| v::addon(a, &[]))
            .collect(),
    ))
}

/// `PUT /apps/{app}/backup-schedules {addon?, service?, at, keep?}` (`pg:backups:schedule`).
pub async fn set_schedule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<ScheduleSet>,
) -> Result<Json<Addon>, ApiError> {
    let at = body
        .at
        .as_deref()
        .ok_or_else(|| ApiError::invalid("at is required, e.g. '02:00 UTC'"))?;
    let (hour, zone) = backups::parse_at(at)?;
    let schedule = BackupSchedule {
        hour,
        keep: body.keep.unwrap_or(7),
        zone,
    };
    let found = backups::schedule(
        &state,
        &actor,
        &app,
        body.addon.as_deref(),
        body.service.as_deref(),
        Some(schedule),
    )
    .await?;
    Ok(Json(v::addon(&found, &[])))
}

/// `DELETE /apps/{app}/backup-schedules?addon=&service=` (`pg:backups:unschedule`).
pub async fn unschedule(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Query(target): Query<AddonTarget>,
) -> Result<Json<Addon>, ApiError> {
    let found = backups::schedule(
        &state,
        &actor,
        &app,
        target.addon.as_deref(),
        target.service.as_deref(),
        None,
    )
    .await?;
    Ok(Json(v::addon(&found, &[])))
}

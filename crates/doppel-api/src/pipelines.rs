//! `/pipelines`, `/pipeline-couplings`, `/apps/{app}/pipeline-couplings`, `/filters/apps`:
//! every app is a pipeline of the same name and id coupling its two environments (a
//! coupling's id is its environment's id). They come and go with their app, so creating,
//! renaming or removing them on their own is refused with what to do instead. Also
//! `/pipelines/{pipeline}/latest-releases` and the admins' rule on direct pushes.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use doppel_api_types::pipelines::{
    DirectPushes, Pipeline, PipelineCoupling, PipelineExtra, PipelineOwner,
};
use doppel_api_types::releases::Release;
use doppel_api_types::NamedRef;
use doppel_control::logic::{pipelines, Actor, LogicError};
use doppel_control::state::AppState;
use doppel_store::{App, Environment};
use doppel_types::Stage;

/// A pipeline as Heroku's object.
pub async fn pipeline_view(state: &AppState, app: &App) -> Result<Pipeline, ApiError> {
    let direct_pushes = state
        .store()
        .direct_pushes_allowed(&app.id)
        .await
        .map_err(LogicError::from)?;
    let env = |stage| app.environment(stage).map(views::env_ref);
    Ok(Pipeline {
        id: app.id.clone(),
        name: app.name.clone(),
        owner: Some(PipelineOwner {
            id: app.owner_id.clone(),
            kind: "user".to_string(),
        }),
        generation: views::cedar(),
        created_at: app.created_at.clone(),
        updated_at: app.created_at.clone(),
        doppel: PipelineExtra {
            staging: env(Stage::Staging),
            production: env(Stage::Production),
            direct_pushes,
        },
    })
}

/// One environment's coupling.
pub fn coupling_view(app: &App, env: &Environment) -> PipelineCoupling {
    PipelineCoupling {
        id: env.id.clone(),
        stage: env.stage.as_str().to_string(),
        app: views::env_ref(env),
        pipeline: NamedRef::new(&app.id, &app.name),
        created_at: env.created_at.clone(),
        updated_at: env.updated_at.clone(),
    }
}

const PIPELINE_FIELDS: &[Field<Pipeline>] = &[
    ("id", |p| SortKey::Text(p.id.clone())),
    ("name", |p| SortKey::Text(p.name.clone())),
];

const COUPLING_FIELDS: &[Field<PipelineCoupling>] = &[
    ("id", |c| SortKey::Text(c.id.clone())),
    ("created_at", |c| SortKey::Text(c.created_at.clone())),
];

/// Couplings in doppel's order (by app, staging before production) unless a Range asks for
/// another.
fn coupling_page(items: Vec<PipelineCoupling>, headers: &HeaderMap) -> Page<PipelineCoupling> {
    let spec = RangeSpec::from_headers(headers);
    if spec.field.is_none() && spec.max.is_none() {
        return paginate(
            items,
            &spec,
            &[("id", |_: &PipelineCoupling| SortKey::Num(0))],
        );
    }
    paginate(items, &spec, COUPLING_FIELDS)
}

/// `GET /pipelines?eq[name]=X` (how the CLI finds a pipeline by name).
#[derive(Debug, Default, serde::Deserialize)]
pub struct PipelineQuery {
    #[serde(rename = "eq[name]")]
    name: Option<String>,
}

/// `GET /pipelines`.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Query(query): Query<PipelineQuery>,
    headers: HeaderMap,
) -> Result<Page<Pipeline>, ApiError> {
    let mut items = Vec::new();
    for app in pipelines::list(&state, &actor).await? {
        if query.name.as_ref().is_none_or(|n| *n == app.name) {
            items.push(pipeline_view(&state, &app).await?);
        }
    }
    Ok(paginate(
        items,
        &RangeSpec::from_headers(&headers),
        PIPELINE_FIELDS,
    ))
}

/// `GET /pipelines/{id|name}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
) -> Result<Json<Pipeline>, ApiError> {
    let app = pipelines::show(&state, &actor, &pipeline).await?;
    Ok(Json(pipeline_view(&state, &app).await?))
}

/// `POST /pipelines`, `PATCH|DELETE /pipelines/{id}`: pipelines are apps.
pub async fn refuse_pipeline_change() -> ApiError {
    ApiError::invalid(
        "Every doppel app is a pipeline of its staging and production environments: create one with `doppel apps:create NAME`, remove it with `doppel apps:destroy NAME`.",
    )
}

/// `POST /pipeline-couplings`, `PATCH|DELETE /pipeline-couplings/{id}`: couplings are fixed.
pub async fn refuse_coupling_change() -> ApiError {
    ApiError::invalid(
        "doppel couples each app's staging environment at stage staging and its production environment at stage production; couplings cannot be changed.",
    )
}

/// `GET /pipelines/{id|name}/pipeline-couplings`.
pub async fn list_couplings(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
    headers: HeaderMap,
) -> Result<Page<PipelineCoupling>, ApiError> {
    let app = pipelines::show(&state, &actor, &pipeline).await?;
    let items = app
        .environments
        .iter()
        .map(|e| coupling_view(&app, e))
        .collect();
    Ok(coupling_page(items, &headers))
}

/// `GET /pipeline-couplings`: every coupling the caller may see.
pub async fn all_couplings(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Result<Page<PipelineCoupling>, ApiError> {
    let items = pipelines::list(&state, &actor)
        .await?
        .iter()
        .flat_map(|app| app.environments.iter().map(|e| coupling_view(app, e)))
        .collect();
    Ok(coupling_page(items, &headers))
}

/// `GET /pipeline-couplings/{id}` and `GET /apps/{app}/pipeline-couplings`.
pub async fn show_coupling(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(env): Path<String>,
) -> Result<Json<PipelineCoupling>, ApiError> {
    let found = pipelines::coupling(&state, &actor, &env).await?;
    Ok(Json(coupling_view(&found.app, &found.env)))
}

/// `GET /pipelines/{id|name}/latest-releases`: each environment's current release.
pub async fn latest_releases(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
) -> Result<Json<Vec<Release>>, ApiError> {
    let list = pipelines::latest_releases(&state, &actor, &pipeline).await?;
    let users = views::users_named(
        state.store(),
        list.iter().filter_map(|(_, r)| r.user_id.as_deref()),
    )
    .await
    .map_err(LogicError::from)?;
    Ok(Json(
        list.iter()
            .map(|(env, r)| views::release(r, env, Some(r.version), &users))
            .collect(),
    ))
}

/// `GET /pipelines/{pipeline}/direct-pushes`.
pub async fn direct_pushes(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
) -> Result<Json<DirectPushes>, ApiError> {
    let (_, allowed) = pipelines::direct_pushes(&state, &actor, &pipeline).await?;
    Ok(Json(DirectPushes { allowed }))
}

/// `PUT /pipelines/{pipeline}/direct-pushes {allowed}` (admins).
pub async fn set_direct_pushes(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
    Body(body): Body<DirectPushes>,
) -> Result<Json<DirectPushes>, ApiError> {
    let (_, allowed) =
        pipelines::set_direct_pushes(&state, &actor, &pipeline, body.allowed).await?;
    Ok(Json(DirectPushes { allowed }))
}

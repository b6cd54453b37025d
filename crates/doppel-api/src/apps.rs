//! `/apps`: creating an app makes its staging and production environments together; every
//! environment is addressed as a Heroku app by name or id.

use super::body::Body;
use super::error::ApiError;
use super::range::{paginate, Field, Page, RangeSpec, SortKey};
use super::views;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use doppel_api_types::apps::{App, AppCreate, AppFilter, AppUpdate};
use doppel_control::logic::apps::AppChanges;
use doppel_control::logic::{apps, Actor};
use doppel_control::state::AppState;
use doppel_types::Stage;

/// `POST /apps {"name"}` → 201 with the production environment.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<AppCreate>,
) -> Result<(StatusCode, Json<App>), ApiError> {
    let app = apps::create(&state, &actor, body.name.as_deref()).await?;
    let production = app
        .environment(Stage::Production)
        .map(|e| e.name.clone())
        .unwrap_or_else(|| app.name.clone());
    let view = apps::show(&state, &actor, &production).await?;
    Ok((StatusCode::CREATED, Json(views::app(&view, state.urls()))))
}

const APP_FIELDS: &[Field<App>] = &[
    ("id", |a| SortKey::Text(a.id.clone())),
    ("name", |a| SortKey::Text(a.name.clone())),
];

fn page(state: &AppState, views_: &[apps::EnvView], headers: &HeaderMap) -> Page<App> {
    let items = views_.iter().map(|v| views::app(v, state.urls())).collect();
    // Without a Range, keep doppel's order: apps by name, staging before production.
    let spec = RangeSpec::from_headers(headers);
    if spec.field.is_none() && spec.max.is_none() {
        return paginate(items, &spec, &[("name", |_: &App| SortKey::Num(0))]);
    }
    paginate(items, &spec, APP_FIELDS)
}

/// `GET /apps`: every environment the caller may see.
pub async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
) -> Result<Page<App>, ApiError> {
    let list = apps::list(&state, &actor, None).await?;
    Ok(page(&state, &list, &headers))
}

/// `GET /users/{account}/apps` (`~` is the caller; `heroku apps` asks this): the
/// environments that account owns or collaborates on, among those the caller may see.
pub async fn list_for_user(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Result<Page<App>, ApiError> {
    let owner = apps::account_user(&state, &actor, &account).await?;
    let list = apps::list(&state, &actor, Some(&owner)).await?;
    Ok(page(&state, &list, &headers))
}

/// `GET /apps/{app}`: one environment by name or id.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> Result<Json<App>, ApiError> {
    let view = apps::show(&state, &actor, &name).await?;
    Ok(Json(views::app(&view, state.urls())))
}

/// `DELETE /apps/{app}`: destroys the whole app (both environments), its dynos and repos.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
) -> Result<Json<App>, ApiError> {
    let view = apps::destroy(&state, &actor, &name).await?;
    Ok(Json(views::app(&view, state.urls())))
}

/// `PATCH /apps/{app} {maintenance?, build_stack?, name?}`: maintenance mode and the stack of
/// the next build; a new name is refused with the reason.
pub async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(name): Path<String>,
    Body(body): Body<AppUpdate>,
) -> Result<Json<App>, ApiError> {
    let build_stack = body.build_stack_name().map_err(|sent| {
        ApiError::invalid(format!(
            "build_stack names a stack by name or id, e.g. \"debian-13\" (got {sent})."
        ))
    })?;
    let changes = AppChanges {
        name: body.name,
        maintenance: body.maintenance,
        build_stack,
    };
    let view = apps::update(&state, &actor, &name, &changes).await?;
    Ok(Json(views::app(&view, state.urls())))
}

/// `POST /filters/apps {"in": {"id": [...]}}`: the environments among these ids (or names)
/// the caller may see.
pub async fn filter(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    headers: HeaderMap,
    Body(body): Body<AppFilter>,
) -> Result<Page<App>, ApiError> {
    let list = apps::filter(&state, &actor, &body.within.id).await?;
    Ok(page(&state, &list, &headers))
}

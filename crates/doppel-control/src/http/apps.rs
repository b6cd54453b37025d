//! `/apps`: creating an app makes its staging and production environments together;
//! every environment is addressed as a Heroku app by name or id.

use super::error::ApiError;
use super::json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use doppel_store::{App, Environment, User};
use doppel_types::{AppName, Stage};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct CreateApp {
    pub name: Option<String>,
}

/// `POST /apps {"name"}` → 201 with the production environment.
pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    body: Option<Json<CreateApp>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let requested = body.and_then(|Json(b)| b.name);
    let Some(requested) = requested else {
        return Err(ApiError::invalid(
            "Name is required: doppel creates both environments from it (`<name>-staging` and `<name>`).",
        ));
    };
    let name = AppName::parse(&requested).map_err(|e| ApiError::invalid(e.to_string()))?;
    let app = state.store().create_app(&name, &user.id).await?;
    tracing::info!(app = %app.name, "created app with staging and production environments");
    if let Some(git) = state.git() {
        for env in &app.environments {
            if let Err(e) = git.ensure_repo(&format!("{}.git", env.name)).await {
                tracing::warn!(env = %env.name, error = %e, "could not create the git repository; it is created on first push");
            }
        }
    }
    crate::reconcile::publish_routes(&state).await;
    let production = environment_of(&app, Stage::Production)?;
    let body = json::environment(production, &app, Some(&user), None, state.urls());
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /apps`: every environment, staging before production, apps by name.
pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let apps = state.store().list_apps().await?;
    environments_json(&state, &apps).await
}

/// `GET /users/{account}/apps` (`~` is the caller; `heroku apps` asks this): the
/// environments of the apps that account owns.
pub async fn list_for_user(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(account): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let owner = if account == "~" || account == user.id || account == user.email {
        user.clone()
    } else {
        state
            .store()
            .user(&account)
            .await?
            .ok_or_else(|| ApiError::not_found("user", &account))?
    };
    let apps: Vec<App> = state
        .store()
        .list_apps()
        .await?
        .into_iter()
        .filter(|app| app.owner_id == owner.id)
        .collect();
    environments_json(&state, &apps).await
}

/// Every environment of `apps` as Heroku app objects, staging before production.
async fn environments_json(state: &AppState, apps: &[App]) -> Result<Json<Value>, ApiError> {
    let mut owners: std::collections::HashMap<String, Option<User>> = Default::default();
    let mut out = Vec::new();
    for app in apps {
        if !owners.contains_key(&app.owner_id) {
            let found = state.store().user(&app.owner_id).await?;
            owners.insert(app.owner_id.clone(), found);
        }
        let owner = owners.get(&app.owner_id).and_then(Option::as_ref);
        for env in &app.environments {
            let released_at = released_at(state, env).await?;
            out.push(json::environment(
                env,
                app,
                owner,
                released_at.as_deref(),
                state.urls(),
            ));
        }
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /apps/{app}`: one environment by name or id.
pub async fn show(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (env, app) = find(&state, &name).await?;
    let released_at = released_at(&state, &env).await?;
    Ok(Json(json::environment(
        &env,
        &app,
        Some(&user),
        released_at.as_deref(),
        state.urls(),
    )))
}

/// `DELETE /apps/{app}`: destroys the whole app (both environments), its dynos and repos.
pub async fn destroy(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (env, app) = find(&state, &name).await?;
    let body = json::environment(&env, &app, Some(&user), None, state.urls());
    state.store().delete_app(&app.id).await?;
    if let Some(git) = state.git() {
        for e in &app.environments {
            if let Err(err) = git.delete_repo(&format!("{}.git", e.name)).await {
                tracing::warn!(env = %e.name, error = %err, "could not delete git repository");
            }
        }
    }
    crate::reconcile::run_once(&state).await;
    tracing::info!(app = %app.name, "destroyed app");
    Ok(Json(body))
}

/// Finds an environment (name or id) and the app holding it, or a Heroku-style 404.
pub async fn find(state: &AppState, name_or_id: &str) -> Result<(Environment, App), ApiError> {
    let env = state
        .store()
        .environment(name_or_id)
        .await?
        .ok_or_else(|| ApiError::not_found("app", name_or_id))?;
    let app = state
        .store()
        .app(&env.app_id)
        .await?
        .ok_or_else(|| ApiError::not_found("app", name_or_id))?;
    Ok((env, app))
}

fn environment_of(app: &App, stage: Stage) -> Result<&Environment, ApiError> {
    app.environments
        .iter()
        .find(|e| e.stage == stage)
        .ok_or_else(|| ApiError::internal("app creation", "environment missing after create"))
}

async fn released_at(state: &AppState, env: &Environment) -> Result<Option<String>, ApiError> {
    Ok(state
        .store()
        .current_release(&env.id)
        .await?
        .map(|r| r.created_at))
}

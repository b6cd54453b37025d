//! Apps: creating one makes its staging and production environments together, identically
//! set up; destroying one removes both, with their dynos, networks and repositories.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, Environment, User};
use doppel_types::AppName;
use std::collections::HashMap;

/// One environment with what its Heroku app object shows.
#[derive(Debug, Clone)]
pub struct EnvView {
    pub env: Environment,
    pub app: App,
    pub owner: Option<User>,
    /// When its current release was made.
    pub released_at: Option<String>,
}

/// Creates app `name` owned by the actor: `<name>-staging` and `<name>`, their git
/// repositories and routes.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    name: Option<&str>,
) -> Result<App, LogicError> {
    let Some(requested) = name else {
        return Err(LogicError::Invalid(
            "Name is required: doppel creates both environments from it (`<name>-staging` and `<name>`).".to_string(),
        ));
    };
    let name = AppName::parse(requested).map_err(|e| LogicError::Invalid(e.to_string()))?;
    let app = state.store().create_app(&name, &actor.user.id).await?;
    tracing::info!(app = %app.name, user = %actor.user.email, "created app with staging and production environments");
    if let Some(git) = state.git() {
        for env in &app.environments {
            if let Err(e) = git.ensure_repo(&format!("{}.git", env.name)).await {
                tracing::warn!(env = %env.name, error = %e, "could not create the git repository; it is created on first push");
            }
        }
    }
    crate::routes::publish(state).await;
    super::audit::record(
        state,
        actor,
        &app,
        None,
        "app.create",
        serde_json::json!({}),
    )
    .await;
    Ok(app)
}

/// The environment `name_or_id` with its owner and release time.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
) -> Result<EnvView, LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, name_or_id).await?;
    let owner = state.store().user(&app.owner_id).await?;
    let released_at = released_at(state, &env).await?;
    Ok(EnvView {
        env,
        app,
        owner,
        released_at,
    })
}

/// Every environment the actor may see, staging before production, apps by name. With
/// `owned_by`, only apps that user owns.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    owned_by: Option<&User>,
) -> Result<Vec<EnvView>, LogicError> {
    let apps = access::visible_apps(state, actor).await?;
    let mut owners: HashMap<String, Option<User>> = HashMap::new();
    let mut out = Vec::new();
    for app in apps {
        if owned_by.is_some_and(|u| u.id != app.owner_id) {
            continue;
        }
        if !owners.contains_key(&app.owner_id) {
            let found = state.store().user(&app.owner_id).await?;
            owners.insert(app.owner_id.clone(), found);
        }
        let owner = owners.get(&app.owner_id).cloned().flatten();
        for env in &app.environments {
            out.push(EnvView {
                env: env.clone(),
                app: app.clone(),
                owner: owner.clone(),
                released_at: released_at(state, env).await?,
            });
        }
    }
    Ok(out)
}

/// The user `account` names (`~`, an id or an email) for app listings.
pub async fn account_user(
    state: &AppState,
    actor: &Actor,
    account: &str,
) -> Result<User, LogicError> {
    if account == "~" || account == actor.user.id || account == actor.user.email {
        return Ok(actor.user.clone());
    }
    state
        .store()
        .user(account)
        .await?
        .ok_or_else(|| LogicError::not_found("user", account))
}

/// Destroys the app holding environment `name_or_id` (both environments): the store first,
/// then repositories; the reconciler removes dynos and networks. Needs access to both.
pub async fn destroy(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
) -> Result<EnvView, LogicError> {
    let view = show(state, actor, name_or_id).await?;
    access::whole_app(state, actor, &view.app.id).await?;
    crate::addon_supervisor::destroy_for_app(state, &view.app).await;
    state.store().delete_app(&view.app.id).await?;
    if let Some(git) = state.git() {
        for e in &view.app.environments {
            if let Err(err) = git.delete_repo(&format!("{}.git", e.name)).await {
                tracing::warn!(env = %e.name, error = %err, "could not delete git repository");
            }
        }
    }
    crate::reconcile::run_once(state).await;
    super::audit::record(
        state,
        actor,
        &view.app,
        None,
        "app.destroy",
        serde_json::json!({}),
    )
    .await;
    tracing::info!(app = %view.app.name, user = %actor.user.email, "destroyed app");
    Ok(view)
}

async fn released_at(state: &AppState, env: &Environment) -> Result<Option<String>, LogicError> {
    Ok(state
        .store()
        .current_release(&env.id)
        .await?
        .map(|r| r.created_at))
}

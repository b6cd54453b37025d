//! Who may see and change what. Admins: everything. Members: the environments their
//! collaborator rows cover (both environments of an app, or one). Anything else is answered
//! as not found, so a member cannot learn which apps exist.

use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, Collaborator, Environment};

/// An environment the actor may use, with its app.
#[derive(Debug, Clone)]
pub struct EnvAccess {
    pub env: Environment,
    pub app: App,
}

/// Fails unless the actor is an admin.
pub fn require_admin(actor: &Actor) -> Result<(), LogicError> {
    if actor.user.admin {
        Ok(())
    } else {
        Err(LogicError::Forbidden(
            "Only an admin may do this; ask one of your platform's admins.".to_string(),
        ))
    }
}

/// Fails unless the actor owns `app` or is an admin (destroying an app, granting access).
pub fn require_owner(actor: &Actor, app: &App) -> Result<(), LogicError> {
    if actor.user.admin || actor.user.id == app.owner_id {
        Ok(())
    } else {
        Err(LogicError::Forbidden(format!(
            "Only the owner of {} or an admin may do this.",
            app.name
        )))
    }
}

/// The actor's collaborator rows (empty for admins, who need none).
async fn grants(state: &AppState, actor: &Actor) -> Result<Vec<Collaborator>, LogicError> {
    if actor.user.admin {
        return Ok(Vec::new());
    }
    Ok(state.store().access_of(&actor.user.id).await?)
}

fn may_see(actor: &Actor, grants: &[Collaborator], env: &Environment) -> bool {
    actor.user.admin
        || grants
            .iter()
            .any(|g| g.app_id == env.app_id && g.covers(&env.id))
}

/// The environment `name_or_id` (an environment's name or id) if the actor may use it.
pub async fn environment(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
) -> Result<EnvAccess, LogicError> {
    let not_found = || LogicError::not_found("app", name_or_id);
    let env = state
        .store()
        .environment(name_or_id)
        .await?
        .ok_or_else(not_found)?;
    let grants = grants(state, actor).await?;
    if !may_see(actor, &grants, &env) {
        return Err(not_found());
    }
    let app = state
        .store()
        .app(&env.app_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(EnvAccess { env, app })
}

/// The app `name_or_id` (the app's own name, or either environment's name or id) if the
/// actor may use both of its environments (what `-p APP` commands need).
pub async fn whole_app(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
) -> Result<App, LogicError> {
    let not_found = || LogicError::not_found("app", name_or_id);
    let app = match state.store().app(name_or_id).await? {
        Some(app) => app,
        None => {
            let env = state
                .store()
                .environment(name_or_id)
                .await?
                .ok_or_else(not_found)?;
            state
                .store()
                .app(&env.app_id)
                .await?
                .ok_or_else(not_found)?
        }
    };
    let grants = grants(state, actor).await?;
    let visible = app
        .environments
        .iter()
        .filter(|e| may_see(actor, &grants, e))
        .count();
    match visible {
        0 => Err(not_found()),
        n if n < app.environments.len() => Err(LogicError::Forbidden(format!(
            "You have access to only one environment of {}; ask an admin for both, or name one with -a.",
            app.name
        ))),
        _ => Ok(app),
    }
}

/// Every app with at least one environment the actor may see; each app keeps only those.
pub async fn visible_apps(state: &AppState, actor: &Actor) -> Result<Vec<App>, LogicError> {
    let grants = grants(state, actor).await?;
    let apps = state.store().list_apps().await?;
    Ok(apps
        .into_iter()
        .filter_map(|mut app| {
            app.environments.retain(|e| may_see(actor, &grants, e));
            (!app.environments.is_empty()).then_some(app)
        })
        .collect())
}

//! Collaborators: who may use an environment. Seen through one environment (a Heroku "app"),
//! they are the users whose access covers it: the app's owner (always both environments) and
//! users granted both environments or this one. Only the owner or an admin grants and takes
//! away access; a user may drop their own. Admins need no grant.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, Collaborator, Environment};

/// A collaborator as seen through one environment.
#[derive(Debug, Clone)]
pub struct CollaboratorView {
    pub collaborator: Collaborator,
    /// The app's owner (whose access cannot be taken away).
    pub owner: bool,
    /// The names of the environments the access covers, staging first.
    pub environments: Vec<String>,
}

fn view(app: &App, c: Collaborator) -> CollaboratorView {
    let environments = app
        .environments
        .iter()
        .filter(|e| c.covers(&e.id))
        .map(|e| e.name.clone())
        .collect();
    CollaboratorView {
        owner: c.user_id == app.owner_id,
        environments,
        collaborator: c,
    }
}

/// The collaborators whose access covers the environment, by email.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<CollaboratorView>), LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, env).await?;
    let all = state.store().collaborators(&app.id).await?;
    let views = all
        .into_iter()
        .filter(|c| c.covers(&env.id))
        .map(|c| view(&app, c))
        .collect();
    Ok((env, views))
}

/// One collaborator of the environment by email, user id or collaborator id.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    who: &str,
) -> Result<(Environment, CollaboratorView), LogicError> {
    let (env, all) = list(state, actor, env).await?;
    let found = all
        .into_iter()
        .find(|v| names(&v.collaborator, who))
        .ok_or_else(|| LogicError::not_found("collaborator", who))?;
    Ok((env, found))
}

fn names(c: &Collaborator, who: &str) -> bool {
    let who = who.trim();
    c.id == who || c.user_id == who || c.email.eq_ignore_ascii_case(who)
}

/// Grants `user` (an email or user id) access to the environment, or to both environments
/// of its app with `both`. Only the app's owner or an admin may grant.
pub async fn grant(
    state: &AppState,
    actor: &Actor,
    env: &str,
    user: &str,
    both: bool,
) -> Result<(Environment, CollaboratorView), LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, env).await?;
    access::require_owner(actor, &app)?;
    let user = user.trim();
    let Some(grantee) = state.store().user(user).await? else {
        return Err(LogicError::Invalid(format!(
            "There is no doppel user {user:?}. An admin creates users with `doppel users:create EMAIL` (or POST /users), then grants them access."
        )));
    };
    let scope = if both { None } else { Some(env.id.as_str()) };
    let granted = state
        .store()
        .grant_access(&app.id, &grantee.id, scope)
        .await?;
    // Staging admits the tokens of users with access: the table carries them.
    crate::routes::publish(state).await;
    let granted = view(&app, granted);
    super::audit::record(
        state,
        actor,
        &app,
        Some(&env),
        "access.grant",
        serde_json::json!({ "user": grantee.email, "environments": granted.environments }),
    )
    .await;
    tracing::info!(app = %app.name, user = %grantee.email, by = %actor.user.email, environments = ?granted.environments, "granted access");
    Ok((env, granted))
}

/// Takes away `who`'s access to the environment (its other environment stays, if granted),
/// or to the whole app with `both`. The owner's access cannot be taken away.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    env: &str,
    who: &str,
    both: bool,
) -> Result<(Environment, CollaboratorView), LogicError> {
    let (env, found) = show(state, actor, env, who).await?;
    let app = access::environment(state, actor, &env.id).await?.app;
    let c = &found.collaborator;
    if c.user_id != actor.user.id {
        access::require_owner(actor, &app)?;
    }
    if found.owner {
        return Err(LogicError::Invalid(format!(
            "{} owns {}; an owner's access cannot be removed.",
            c.email, app.name
        )));
    }
    let twin = app.environments.iter().find(|e| e.id != env.id);
    match twin.filter(|t| !both && c.covers(&t.id)) {
        Some(twin) => {
            state
                .store()
                .restrict_access(&app.id, &c.user_id, &twin.id)
                .await?;
        }
        None => {
            state.store().revoke_access(&app.id, &c.user_id).await?;
        }
    }
    crate::routes::publish(state).await;
    let removed: Vec<&str> = app
        .environments
        .iter()
        .filter(|e| e.id == env.id || (both && c.covers(&e.id)))
        .map(|e| e.name.as_str())
        .collect();
    super::audit::record(
        state,
        actor,
        &app,
        Some(&env),
        "access.revoke",
        serde_json::json!({ "user": c.email, "environments": removed }),
    )
    .await;
    tracing::info!(app = %app.name, user = %c.email, by = %actor.user.email, environments = ?removed, "revoked access");
    Ok((env, found))
}

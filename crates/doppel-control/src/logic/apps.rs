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
    /// The stack its current release was built on (canonical name); before the first
    /// release, the stack its first build will use (`build_stack`), as Heroku shows it.
    pub stack: String,
    /// Whether ACM (ACME certificates for custom domains) is on.
    pub acm: bool,
}

/// What `PATCH /apps/{app}` may change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppChanges {
    /// A new name: refused, with the reason (names are tied to the twin and to git remotes).
    pub name: Option<String>,
    pub maintenance: Option<bool>,
    /// A stack's name, alias or id.
    pub build_stack: Option<String>,
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
    // Both environments build on the installation's default stack, so they start identical.
    let stack = state.config().stacks.default_stack().name;
    let app = state
        .store()
        .create_app(&name, &actor.user.id, stack)
        .await?;
    tracing::info!(app = %app.name, user = %actor.user.email, "created app with staging and production environments");
    if let Some(git) = state.git() {
        for env in &app.environments {
            if let Err(e) = git.ensure_repo(&env.name).await {
                tracing::warn!(env = %env.name, error = %e, "could not create the git repository; it is created on first push");
            }
        }
    }
    crate::routes::publish(state).await;
    // With `--platform-certs acme`, the new environments' names want certificates.
    state.acme().wake();
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
    view(state, env, app, owner).await
}

/// Every environment the actor may see, staging before production, apps by name. With
/// `of_user`, only the environments that user owns or collaborates on (what Heroku's
/// `/users/{account}/apps` lists: the CLI's `heroku apps` shows them as the user's apps and
/// "Collaborated Apps").
pub async fn list(
    state: &AppState,
    actor: &Actor,
    of_user: Option<&User>,
) -> Result<Vec<EnvView>, LogicError> {
    let mut apps = access::visible_apps(state, actor).await?;
    if let Some(user) = of_user {
        let grants = state.store().access_of(&user.id).await?;
        apps.retain_mut(|app| {
            if app.owner_id != user.id {
                let grant = grants.iter().find(|g| g.app_id == app.id);
                app.environments
                    .retain(|e| grant.is_some_and(|g| g.covers(&e.id)));
            }
            !app.environments.is_empty()
        });
    }
    let mut owners: HashMap<String, Option<User>> = HashMap::new();
    let mut out = Vec::new();
    for app in apps {
        if !owners.contains_key(&app.owner_id) {
            let found = state.store().user(&app.owner_id).await?;
            owners.insert(app.owner_id.clone(), found);
        }
        let owner = owners.get(&app.owner_id).cloned().flatten();
        for env in &app.environments {
            out.push(view(state, env.clone(), app.clone(), owner.clone()).await?);
        }
    }
    Ok(out)
}

/// The environments among `ids` (ids or names) the actor may see, in `list`'s order
/// (`POST /filters/apps`); the others are left out, as unknown ones are.
pub async fn filter(
    state: &AppState,
    actor: &Actor,
    ids: &[String],
) -> Result<Vec<EnvView>, LogicError> {
    let all = list(state, actor, None).await?;
    Ok(all
        .into_iter()
        .filter(|v| ids.iter().any(|i| *i == v.env.id || *i == v.env.name))
        .collect())
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
/// then repositories; the reconciler removes dynos and networks. Only the app's owner or an
/// admin may (as on Heroku, collaborators may not destroy an app).
pub async fn destroy(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
) -> Result<EnvView, LogicError> {
    let view = show(state, actor, name_or_id).await?;
    access::whole_app(state, actor, &view.app.id).await?;
    access::require_owner(actor, &view.app)?;
    crate::addons::supervisor::destroy_for_app(state, &view.app).await;
    state.store().delete_app(&view.app.id).await?;
    if let Some(git) = state.git() {
        for e in &view.app.environments {
            if let Err(err) = git.delete_repo(&e.name).await {
                tracing::warn!(env = %e.name, error = %err, "could not delete git repository");
            }
        }
    }
    crate::reconcile::run_once(state).await;
    // Their platform names' certificates are forgotten by the ACM task's next pass.
    state.acme().wake();
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

/// Changes an environment's settings (`PATCH /apps/{app}`): maintenance mode and the stack
/// of its next build. A rename is refused: an environment's name is tied to its twin's
/// (`<app>-staging` and `<app>`) and to every git remote that points at it. Everything is
/// checked before anything changes.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    name_or_id: &str,
    changes: &AppChanges,
) -> Result<EnvView, LogicError> {
    let EnvAccess { env, app } = access::environment(state, actor, name_or_id).await?;
    if let Some(name) = changes.name.as_deref().filter(|n| *n != env.name) {
        return Err(LogicError::Invalid(format!(
            "doppel cannot rename {env} to {name}: an app's environments are named together \
             ({app}-staging and {app}) and their names are in every git remote that points at \
             them. Create a new app named {new} and push to it, then destroy {app}.",
            env = env.name,
            app = app.name,
            new = name.trim_end_matches("-staging"),
        )));
    }
    let stack = match changes.build_stack.as_deref() {
        Some(wanted) => Some(super::stacks::resolve(state, wanted)?),
        None => None,
    };
    if let Some(on) = changes.maintenance {
        super::maintenance::set(state, actor, &app, &env, on).await?;
    }
    if let Some(stack) = stack {
        super::stacks::set(state, actor, &app, &env, stack).await?;
    }
    show(state, actor, &env.id).await
}

/// An environment with its owner, when it was last released and on which stack.
async fn view(
    state: &AppState,
    env: Environment,
    app: App,
    owner: Option<User>,
) -> Result<EnvView, LogicError> {
    let current = state.store().current_release(&env.id).await?;
    let built_on = match current.as_ref().and_then(|r| r.build_id.as_deref()) {
        Some(build_id) => state.store().build(build_id).await?.and_then(|b| b.stack),
        None => None,
    };
    let stack = super::stacks::canonical(state, built_on.as_deref().unwrap_or(&env.build_stack));
    let acm = state.store().acm_enabled(&env.id).await?;
    Ok(EnvView {
        acm,
        released_at: current.map(|r| r.created_at),
        stack,
        env,
        app,
        owner,
    })
}

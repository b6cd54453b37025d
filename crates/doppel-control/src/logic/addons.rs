//! Add-ons: provisioning (for one environment, or for both environments of an app at once,
//! with the same service, plan and version and separate data), listing, plan changes,
//! destroying (with a final backup), `pg:info`, commands run as the app would, credential
//! rotation, and the parity view. Attachments are in `addon_attachments`, backups in
//! `backups`. Add-ons are reachable only from their own environment's network.

use std::sync::Arc;

use doppel_addons::manifest::valid_attachment_name;
use doppel_addons::{names, Manifest, Plan};
use doppel_docker::ExecResult;
use doppel_store::{Addon, AddonCredentials, AddonState, App, Attachment, Environment, NewAddon};

use super::access;
use super::{Actor, LogicError};
use crate::addons::servers;
use crate::state::AppState;
use crate::workflows::addon_config::Applied;
use crate::workflows::{addon_credentials, addon_destroy, addon_provision};

/// One add-on with what its API object shows.
#[derive(Debug, Clone)]
pub struct AddonView {
    pub addon: Addon,
    /// The owning environment and its app.
    pub env: Environment,
    pub app: App,
    pub attachments: Vec<Attachment>,
    /// `None` when its service's manifest is no longer installed.
    pub manifest: Option<Arc<Manifest>>,
}

impl AddonView {
    /// The config vars it gives (`DATABASE_URL`, …).
    pub fn config_vars(&self) -> Vec<String> {
        self.attachments
            .iter()
            .map(|a| format!("{}_URL", a.name))
            .collect()
    }
}

/// What `addons:create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// `service[:plan]`, in doppel's words or Heroku's (`heroku-postgresql:essential-0`).
    pub plan: String,
    /// `--as NAME`: the attachment's name instead of the service's default.
    pub attachment_name: Option<String>,
    /// The add-on's own name instead of a generated one.
    pub name: Option<String>,
    /// Both environments of the app (`-p APP`).
    pub whole_app: bool,
    /// Wait until provisioned (else it continues in the background, state `provisioning`).
    pub wait: bool,
}

pub(crate) fn invalid(e: doppel_addons::AddonError) -> LogicError {
    LogicError::Invalid(e.to_string())
}

/// The view of `addon`.
pub(crate) async fn view(state: &AppState, addon: Addon) -> Result<AddonView, LogicError> {
    let not_found = || LogicError::not_found("add-on", addon.name.clone());
    let env = state
        .store()
        .environment(&addon.env_id)
        .await?
        .ok_or_else(not_found)?;
    let app = state
        .store()
        .app(&env.app_id)
        .await?
        .ok_or_else(not_found)?;
    let mut attachments = state.store().attachments_of_addon(&addon.id).await?;
    let manifest = state.addon_catalog().service(&addon.service).ok();
    // The service's main name (`DATABASE`) first, then the others by name.
    let main = manifest.as_ref().map(|m| m.attachment.clone());
    attachments.sort_by_key(|a| (Some(&a.name) != main.as_ref(), a.name.clone()));
    Ok(AddonView {
        addon,
        env,
        app,
        attachments,
        manifest,
    })
}

/// Provisions a new add-on for an environment, or for both environments of its app.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    target: &str,
    req: &CreateRequest,
) -> Result<Vec<AddonView>, LogicError> {
    let (app, envs) = if req.whole_app {
        let app = access::whole_app(state, actor, target).await?;
        let envs = app.environments.clone();
        (app, envs)
    } else {
        let found = access::environment(state, actor, target).await?;
        (found.app, vec![found.env])
    };
    let (manifest, plan) = state.addon_catalog().resolve(&req.plan).map_err(invalid)?;
    let as_name = req
        .attachment_name
        .as_deref()
        .map(|n| n.trim().trim_end_matches("_URL").to_ascii_uppercase());
    if let Some(bad) = as_name.as_ref().filter(|n| !valid_attachment_name(n)) {
        return Err(LogicError::Invalid(format!(
            "{bad:?} is not a valid attachment name: use letters, digits and underscores, starting with a letter (it becomes {bad}_URL)"
        )));
    }
    let color = free_color(state, &envs, &manifest).await?;
    let mut planned = Vec::new();
    for env in &envs {
        let names = attachment_names(state, env, &manifest, &color, as_name.as_deref()).await?;
        let name = addon_name(state, req, env, &manifest, envs.len() > 1).await?;
        planned.push((env.clone(), name, names));
    }
    let mut created = Vec::new();
    for (env, name, attachment_names) in planned {
        match record(
            state,
            &env,
            &name,
            &manifest,
            &plan,
            &color,
            &attachment_names,
        )
        .await
        {
            Ok(addon) => created.push(addon),
            Err(e) => {
                for addon in &created {
                    let _ = state.store().delete_addon(&addon.id).await;
                }
                return Err(e);
            }
        }
    }
    for addon in &created {
        let env = envs.iter().find(|e| e.id == addon.env_id);
        super::audit::record(
            state,
            actor,
            &app,
            env,
            "addon.create",
            serde_json::json!({"addon": addon.name, "service": addon.service, "plan": addon.plan}),
        )
        .await;
    }
    provision(state, actor, &created, req.wait).await?;
    let mut views = Vec::new();
    for addon in created {
        let fresh = state.store().addon(&addon.id).await?.unwrap_or(addon);
        views.push(view(state, fresh).await?);
    }
    Ok(views)
}

/// Runs (or starts) provisioning of `addons`, both at once.
async fn provision(
    state: &AppState,
    actor: &Actor,
    addons: &[Addon],
    wait: bool,
) -> Result<(), LogicError> {
    let user = Some(actor.user.id.clone());
    if !wait {
        for addon in addons {
            addon_provision::spawn(state, addon.id.clone(), user.clone());
        }
        return Ok(());
    }
    let runs = addons
        .iter()
        .map(|a| addon_provision::provision(state, &a.id, user.clone()));
    for outcome in futures_util::future::join_all(runs).await {
        match outcome {
            Ok(Applied::ReleaseFailed(reason)) => {
                tracing::warn!(%reason, "provisioned; the release with its URL failed")
            }
            Ok(_) => {}
            Err(e) => return Err(LogicError::Failed(format!("Provisioning failed: {e}"))),
        }
    }
    Ok(())
}

/// A colour no add-on of this service uses in any of `envs` (the same in both environments,
/// so their attachments have the same names).
async fn free_color(
    state: &AppState,
    envs: &[Environment],
    manifest: &Manifest,
) -> Result<String, LogicError> {
    let mut taken = Vec::new();
    for env in envs {
        for a in state.store().addons_of_env(&env.id).await? {
            if a.service == manifest.name {
                taken.push(a.color);
            }
        }
    }
    Ok(names::color(&taken))
}

/// The attachment names a new add-on gets in `env`; refuses names already attached there.
async fn attachment_names(
    state: &AppState,
    env: &Environment,
    manifest: &Manifest,
    color: &str,
    as_name: Option<&str>,
) -> Result<Vec<String>, LogicError> {
    let existing: Vec<String> = state
        .store()
        .attachments_of_env(&env.id)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let names = match as_name {
        Some(n) => vec![n.to_string()],
        None => manifest.attachment_names(color, !existing.contains(&manifest.attachment)),
    };
    if let Some(taken) = names.iter().find(|n| existing.contains(n)) {
        return Err(LogicError::Invalid(format!(
            "{taken} is already attached to {}: choose another name with --as",
            env.name
        )));
    }
    Ok(names)
}

/// The new add-on's name: the one asked for (`-staging` added for staging when both
/// environments get one), else a fresh Heroku-style name.
async fn addon_name(
    state: &AppState,
    req: &CreateRequest,
    env: &Environment,
    manifest: &Manifest,
    both: bool,
) -> Result<String, LogicError> {
    if let Some(name) = req.name.as_deref().map(str::trim) {
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.len() >= 2
            && name.len() <= 60
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(LogicError::Invalid(format!(
                "Add-on name {name:?} must start with a letter and hold only letters, digits, '-' and '_'"
            )));
        }
        let name = if both && env.stage == doppel_types::Stage::Staging {
            format!("{name}-staging")
        } else {
            name.to_string()
        };
        if state.store().addon(&name).await?.is_some() {
            return Err(LogicError::NameTaken(format!("add-on {name}")));
        }
        return Ok(name);
    }
    for _ in 0..20 {
        let name = names::addon_name(&manifest.name_prefix);
        if state.store().addon(&name).await?.is_none() {
            return Ok(name);
        }
    }
    Err(LogicError::Conflict(
        "Could not find a free add-on name; try again or give one with --name".to_string(),
    ))
}

/// Writes the add-on row (state `provisioning`, fresh credentials) and its attachments.
async fn record(
    state: &AppState,
    env: &Environment,
    name: &str,
    manifest: &Manifest,
    plan: &Plan,
    color: &str,
    attachment_names: &[String],
) -> Result<Addon, LogicError> {
    let (user, password, database) = names::credentials();
    let id_hint = names::token(12);
    let addon = state
        .store()
        .create_addon(&NewAddon {
            name: name.to_string(),
            env_id: env.id.clone(),
            service: manifest.name.clone(),
            plan: plan.name.clone(),
            volume: servers::volume_name(state, &id_hint),
            color: color.to_string(),
            credentials: AddonCredentials {
                user,
                password,
                database,
                pending_password: None,
            },
        })
        .await?;
    for n in attachment_names {
        if let Err(e) = state.store().create_attachment(&addon.id, &env.id, n).await {
            let _ = state.store().delete_addon(&addon.id).await;
            return Err(e.into());
        }
    }
    Ok(addon)
}

/// Add-ons the actor may see: of `env` (owned by it), else of every environment visible.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
) -> Result<Vec<AddonView>, LogicError> {
    let envs = match env {
        Some(name) => vec![access::environment(state, actor, name).await?.env],
        None => access::visible_apps(state, actor)
            .await?
            .into_iter()
            .flat_map(|a| a.environments)
            .collect(),
    };
    let mut out = Vec::new();
    for env in envs {
        for addon in state.store().addons_of_env(&env.id).await? {
            out.push(view(state, addon).await?);
        }
    }
    Ok(out)
}

/// The add-on `reference` names (its name or id; or, within `env`, an attachment name such as
/// `DATABASE` or `DATABASE_URL`), if the actor may see it.
pub async fn find(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
    reference: &str,
) -> Result<AddonView, LogicError> {
    locate(state, actor, env, Some(reference), None).await
}

/// Like [`find`]; without a reference, the add-on of `service` in `env` (the one attached
/// under the service's main name, else the only one).
pub async fn locate(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
    reference: Option<&str>,
    service: Option<&str>,
) -> Result<AddonView, LogicError> {
    let not_found = |r: &str| LogicError::not_found("add-on", r.to_string());
    let env = match env {
        Some(e) => Some(access::environment(state, actor, e).await?.env),
        None => None,
    };
    if let Some(r) = reference {
        if let Some(addon) = state.store().addon(r).await? {
            access::environment(state, actor, &addon.env_id)
                .await
                .map_err(|_| not_found(r))?;
            if env.as_ref().is_some_and(|e| e.id != addon.env_id) {
                return Err(not_found(r));
            }
            return view(state, addon).await;
        }
        let Some(env) = &env else {
            return Err(not_found(r));
        };
        let wanted = r.trim().trim_end_matches("_URL").to_ascii_uppercase();
        let attachment = state
            .store()
            .attachments_of_env(&env.id)
            .await?
            .into_iter()
            .find(|a| a.name == wanted)
            .ok_or_else(|| not_found(r))?;
        let addon = state
            .store()
            .addon(&attachment.addon_id)
            .await?
            .ok_or_else(|| not_found(r))?;
        return view(state, addon).await;
    }
    let env = env.ok_or(LogicError::Invalid(
        "Name an environment with -a.".to_string(),
    ))?;
    default_of(state, &env, service).await
}

/// The add-on of `service` in `env` when no reference is given.
async fn default_of(
    state: &AppState,
    env: &Environment,
    service: Option<&str>,
) -> Result<AddonView, LogicError> {
    let catalog = state.addon_catalog();
    let manifest = match service {
        Some(s) => Some(catalog.service(s).map_err(invalid)?),
        None => None,
    };
    let mut candidates: Vec<Addon> = state
        .store()
        .addons_of_env(&env.id)
        .await?
        .into_iter()
        .filter(|a| manifest.as_ref().is_none_or(|m| a.service == m.name))
        .collect();
    if let Some(m) = &manifest {
        let main = state
            .store()
            .attachments_of_env(&env.id)
            .await?
            .into_iter()
            .find(|a| a.name == m.attachment);
        if let Some(main) = main {
            if let Some(pos) = candidates.iter().position(|a| a.id == main.addon_id) {
                return view(state, candidates.swap_remove(pos)).await;
            }
        }
    }
    match candidates.len() {
        1 => view(state, candidates.swap_remove(0)).await,
        0 => Err(LogicError::not_found(
            "add-on",
            format!(
                "{} in {}",
                manifest.map(|m| m.human_name.clone()).unwrap_or_default(),
                env.name
            ),
        )),
        _ => Err(LogicError::Invalid(format!(
            "{} has several such add-ons ({}); name one",
            env.name,
            candidates
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Changes an add-on's plan; its server is made again with the plan's memory (the data stays).
pub async fn update_plan(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: &str,
    plan: &str,
) -> Result<AddonView, LogicError> {
    let found = find(state, actor, Some(env), reference).await?;
    let manifest = found.manifest.clone().ok_or_else(|| {
        LogicError::Invalid(format!("{} has no manifest installed", found.addon.service))
    })?;
    let wanted = plan.rsplit(':').next().unwrap_or(plan);
    let plan = manifest.plan(wanted).ok_or_else(|| {
        LogicError::Invalid(format!(
            "{} has no plan {wanted:?}; its plans are: {}",
            manifest.human_name,
            manifest
                .plans
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    state
        .store()
        .set_addon_plan(&found.addon.id, &plan.name)
        .await?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "addon.plan",
        serde_json::json!({"addon": found.addon.name, "from": found.addon.plan, "to": plan.name}),
    )
    .await;
    let addon = state
        .store()
        .addon(&found.addon.id)
        .await?
        .ok_or_else(|| LogicError::not_found("add-on", reference))?;
    if addon.state == AddonState::Provisioned {
        let lock = servers::lock(state, &addon.id);
        let _guard = lock.lock().await;
        servers::ensure_running(state, &addon, &found.env)
            .await
            .map_err(|e| LogicError::Failed(format!("The new plan's server did not start: {e}")))?;
    }
    view(state, addon).await
}

/// Destroys an add-on of `env` (its final backup kept); `force` destroys even when the
/// final backup fails. Returns the add-on as it was and the final backup's name.
pub async fn destroy(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
    reference: &str,
    force: bool,
) -> Result<(AddonView, Option<String>), LogicError> {
    let found = find(state, actor, env, reference).await?;
    if found.addon.state == AddonState::Deprovisioning {
        return Err(LogicError::Conflict(format!(
            "{} is already being destroyed",
            found.addon.name
        )));
    }
    let final_backup =
        addon_destroy::destroy(state, &found.addon, force, Some(actor.user.id.clone()))
            .await
            .map_err(|e| LogicError::Failed(e.to_string()))?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "addon.destroy",
        serde_json::json!({"addon": found.addon.name, "final_backup": final_backup, "forced": force}),
    )
    .await;
    Ok((found, final_backup))
}

/// The running server of an add-on, or why there is none.
pub(crate) async fn server(state: &AppState, view: &AddonView) -> Result<String, LogicError> {
    if view.addon.state != AddonState::Provisioned {
        return Err(LogicError::Conflict(format!(
            "{} is {}; try again once it is provisioned",
            view.addon.name,
            view.addon.state.as_str()
        )));
    }
    servers::running(state, &view.addon.id)
        .await
        .map_err(|e| LogicError::internal("inspect the add-on's server", e))?
        .map(|c| c.id)
        .ok_or_else(|| {
            LogicError::Conflict(format!(
                "{}'s server is not running right now; doppel restarts it within seconds",
                view.addon.name
            ))
        })
}

/// `pg:info`: the add-on and what its server says about itself.
pub async fn info(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
) -> Result<(AddonView, Vec<(String, String)>), LogicError> {
    let found = locate(state, actor, Some(env), reference, service).await?;
    let container = match server(state, &found).await {
        Ok(c) => c,
        Err(_) => return Ok((found, Vec::new())),
    };
    let (provider, plan) = servers::provider(state, &found.addon).map_err(invalid)?;
    let lines = provider
        .info(
            state.runtime(),
            &container,
            &servers::instance(&found.addon, &plan),
        )
        .await
        .map_err(|e| LogicError::Failed(e.to_string()))?;
    Ok((found, lines))
}

/// `pg:psql -c` / `redis:cli` without a terminal: runs `input` as the app would.
pub async fn run(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
    input: Vec<u8>,
) -> Result<(AddonView, ExecResult), LogicError> {
    let found = locate(state, actor, Some(env), reference, service).await?;
    let container = server(state, &found).await?;
    let (provider, plan) = servers::provider(state, &found.addon).map_err(invalid)?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "addon.run",
        serde_json::json!({"addon": found.addon.name, "bytes": input.len()}),
    )
    .await;
    let out = provider
        .run(
            state.runtime(),
            &container,
            &servers::instance(&found.addon, &plan),
            input,
        )
        .await
        .map_err(|e| LogicError::Failed(e.to_string()))?;
    Ok((found, out))
}

/// What an interactive session (`pg:psql` on a terminal) runs: the server container, the
/// command, its environment and user.
#[derive(Debug, Clone)]
pub struct ShellTarget {
    pub view: AddonView,
    pub container: String,
    pub cmd: Vec<String>,
    pub env: std::collections::BTreeMap<String, String>,
    pub user: String,
}

/// The interactive client of an add-on.
pub async fn shell(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
) -> Result<ShellTarget, LogicError> {
    let found = locate(state, actor, Some(env), reference, service).await?;
    let container = server(state, &found).await?;
    let (provider, plan) = servers::provider(state, &found.addon).map_err(invalid)?;
    let cmd = provider.shell_command().map_err(invalid)?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "addon.shell",
        serde_json::json!({"addon": found.addon.name}),
    )
    .await;
    Ok(ShellTarget {
        env: provider.env(&servers::instance(&found.addon, &plan)),
        user: provider.manifest.user.clone(),
        view: found,
        container,
        cmd,
    })
}

/// `pg:credentials:rotate`: a new password, the old one refused, the config released.
pub async fn rotate(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
) -> Result<(AddonView, Applied), LogicError> {
    let found = locate(state, actor, Some(env), reference, service).await?;
    server(state, &found).await?;
    let applied = addon_credentials::rotate(state, &found.addon, Some(actor.user.id.clone()))
        .await
        .map_err(|e| LogicError::Failed(e.to_string()))?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "addon.credentials.rotate",
        serde_json::json!({"addon": found.addon.name, "config_vars": found.config_vars()}),
    )
    .await;
    let addon = state
        .store()
        .addon(&found.addon.id)
        .await?
        .unwrap_or(found.addon);
    Ok((view(state, addon).await?, applied))
}

/// One add-on as parity compares them (no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParityAddon {
    pub service: String,
    pub plan: String,
    /// What its server reported (`PostgreSQL 17.6`), once provisioned.
    pub version: Option<String>,
    pub name: String,
    /// Its attachment names in the environment (`DATABASE`, `HEROKU_POSTGRESQL_AMBER`).
    pub attachments: Vec<String>,
    pub state: String,
}

/// An environment's add-ons for parity (the caller has checked access): service, plan and
/// version, in a stable order (service, then attachments).
pub async fn parity_view(
    state: &AppState,
    env: &Environment,
) -> Result<Vec<ParityAddon>, LogicError> {
    let mut out = Vec::new();
    for addon in state.store().addons_of_env(&env.id).await? {
        let mut attachments: Vec<String> = state
            .store()
            .attachments_of_addon(&addon.id)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
        attachments.sort();
        out.push(ParityAddon {
            service: addon.service,
            plan: addon.plan,
            version: addon.version,
            name: addon.name,
            attachments,
            state: addon.state.as_str().to_string(),
        });
    }
    out.sort_by(|a, b| (&a.service, &a.attachments).cmp(&(&b.service, &b.attachments)));
    Ok(out)
}

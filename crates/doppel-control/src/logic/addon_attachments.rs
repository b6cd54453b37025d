//! Add-on attachments: an add-on's name in an environment's config (`<NAME>_URL`). Attaching
//! and detaching release the new config (the dynos restart). An add-on can be attached only
//! to its own environment (under more names, `--as REPORTING`): its server is on that
//! environment's network, which no other environment can reach, so staging never shares
//! production's database.

use doppel_addons::manifest::valid_attachment_name;
use doppel_store::{Attachment, Environment};

use super::access;
use super::addons::{self, AddonView};
use super::{Actor, LogicError};
use crate::state::AppState;
use crate::workflows::addon_config::{self, Applied};

/// One attachment with its add-on and environment.
#[derive(Debug, Clone)]
pub struct AttachmentView {
    pub attachment: Attachment,
    pub env: Environment,
    pub addon: AddonView,
}

async fn attachment_view(
    state: &AppState,
    attachment: Attachment,
) -> Result<AttachmentView, LogicError> {
    let not_found = || LogicError::not_found("add-on attachment", attachment.id.clone());
    let addon = state
        .store()
        .addon(&attachment.addon_id)
        .await?
        .ok_or_else(not_found)?;
    let addon = addons::view(state, addon).await?;
    let env = if addon.env.id == attachment.env_id {
        addon.env.clone()
    } else {
        state
            .store()
            .environment(&attachment.env_id)
            .await?
            .ok_or_else(not_found)?
    };
    Ok(AttachmentView {
        attachment,
        env,
        addon,
    })
}

/// Attaches `addon` to `env` as `name` (default: the service's alias name with the add-on's
/// colour) and releases the config.
pub async fn attach(
    state: &AppState,
    actor: &Actor,
    addon: &str,
    env: &str,
    name: Option<&str>,
) -> Result<(AttachmentView, Applied), LogicError> {
    let target = access::environment(state, actor, env).await?;
    let found = addons::find(state, actor, None, addon).await?;
    if found.addon.env_id != target.env.id {
        return Err(LogicError::Invalid(format!(
            "{} belongs to {} and is reachable only from its network; {} cannot use it. \
             Provision one for {} with `addons:create`, or restore a backup into its own.",
            found.addon.name, found.env.name, target.env.name, target.env.name
        )));
    }
    let name = match name {
        Some(n) => n.trim().trim_end_matches("_URL").to_ascii_uppercase(),
        None => default_name(&found),
    };
    if !valid_attachment_name(&name) {
        return Err(LogicError::Invalid(format!(
            "{name:?} is not a valid attachment name: letters, digits and underscores, starting with a letter"
        )));
    }
    let attachment = state
        .store()
        .create_attachment(&found.addon.id, &target.env.id, &name)
        .await
        .map_err(|e| match e {
            doppel_store::StoreError::NameTaken(_) => LogicError::Invalid(format!(
                "{name} is already attached to {}: choose another name with --as",
                target.env.name
            )),
            other => other.into(),
        })?;
    let description = format!("Attach {name} (@ref:{})", found.addon.name);
    let applied = addon_config::apply(
        state,
        &target.env,
        &[],
        &description,
        Some(actor.user.id.clone()),
    )
    .await?;
    super::audit::record(
        state,
        actor,
        &target.app,
        Some(&target.env),
        "addon.attach",
        serde_json::json!({"addon": found.addon.name, "as": name}),
    )
    .await;
    Ok((attachment_view(state, attachment).await?, applied))
}

fn default_name(found: &AddonView) -> String {
    match &found.manifest {
        Some(m) => m
            .attachment_names(&found.addon.color, false)
            .into_iter()
            .next()
            .unwrap_or_else(|| m.attachment.clone()),
        None => format!(
            "{}_{}",
            found.addon.service.to_ascii_uppercase(),
            found.addon.color
        ),
    }
}

/// Removes an attachment (by id, or by name within `env`) and releases the config without
/// its var.
pub async fn detach(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
    reference: &str,
) -> Result<(AttachmentView, Applied), LogicError> {
    let found = find(state, actor, env, reference).await?;
    let target = access::environment(state, actor, &found.env.id).await?;
    state
        .store()
        .delete_attachment(&found.attachment.id)
        .await?;
    let name = found.attachment.name.clone();
    let description = format!("Detach {name} (@ref:{})", found.addon.addon.name);
    let applied = addon_config::apply(
        state,
        &target.env,
        std::slice::from_ref(&name),
        &description,
        Some(actor.user.id.clone()),
    )
    .await?;
    super::audit::record(
        state,
        actor,
        &target.app,
        Some(&target.env),
        "addon.detach",
        serde_json::json!({"addon": found.addon.addon.name, "name": name}),
    )
    .await;
    Ok((found, applied))
}

/// One attachment by id (or by name within `env`), if the actor may see it.
pub async fn find(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
    reference: &str,
) -> Result<AttachmentView, LogicError> {
    let not_found = || LogicError::not_found("add-on attachment", reference);
    if let Some(a) = state.store().attachment(reference).await? {
        access::environment(state, actor, &a.env_id)
            .await
            .map_err(|_| not_found())?;
        return attachment_view(state, a).await;
    }
    let Some(env) = env else {
        return Err(not_found());
    };
    let env = access::environment(state, actor, env).await?.env;
    let wanted = reference
        .trim()
        .trim_end_matches("_URL")
        .to_ascii_uppercase();
    let a = state
        .store()
        .attachments_of_env(&env.id)
        .await?
        .into_iter()
        .find(|a| a.name == wanted)
        .ok_or_else(not_found)?;
    attachment_view(state, a).await
}

/// Attachments the actor may see: of `env`, of `addon`, or all.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: Option<&str>,
    addon: Option<&str>,
) -> Result<Vec<AttachmentView>, LogicError> {
    let attachments = if let Some(addon) = addon {
        let found = addons::find(state, actor, None, addon).await?;
        found.attachments
    } else if let Some(env) = env {
        let env = access::environment(state, actor, env).await?.env;
        state.store().attachments_of_env(&env.id).await?
    } else {
        let mut all = Vec::new();
        for app in access::visible_apps(state, actor).await? {
            for env in app.environments {
                all.extend(state.store().attachments_of_env(&env.id).await?);
            }
        }
        all
    };
    let mut out = Vec::new();
    for a in attachments {
        out.push(attachment_view(state, a).await?);
    }
    Ok(out)
}

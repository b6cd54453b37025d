//! Formation: how many dynos of which size each process type of an environment runs.
//! Scaling and resizing change the store, then wake the reconciler, which starts and stops
//! dynos to match (a resized type's dynos are replaced by ones of the new size). Only the
//! process types of the current release can be changed.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{Environment, FormationChange, FormationEntry, QuantityChange};
use doppel_types::{dyno_command, DynoSize};

/// Most dynos one process type may run.
pub const MAX_QUANTITY: i64 = 100;

/// One process type's formation with the command its dynos run.
#[derive(Debug, Clone)]
pub struct Process {
    pub entry: FormationEntry,
    /// The Procfile command; empty for a Dockerfile app's web, which runs the image's CMD.
    pub command: String,
}

/// One requested change, as a client named it.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// Process type or formation id.
    pub process_type: String,
    pub quantity: Option<QuantityChange>,
    /// A dyno size's name (any case) or id.
    pub size: Option<String>,
}

/// The environment's formation: the process types its current release runs.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Process>), LogicError> {
    let found = access::environment(state, actor, env).await?;
    let processes = processes(state, &found.env).await?;
    Ok((found.env, processes))
}

/// One process type's formation, by type or formation id.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    type_or_id: &str,
) -> Result<(Environment, Process), LogicError> {
    let (env, all) = list(state, actor, env).await?;
    let found = pick(&all, type_or_id)?.clone();
    Ok((env, found))
}

/// Applies `updates` all or none (unknown types, unknown sizes and quantities outside 0 to
/// [`MAX_QUANTITY`] change nothing), records them, wakes the reconciler, and returns the
/// changed process types.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    env: &str,
    updates: &[Update],
) -> Result<(Environment, Vec<Process>), LogicError> {
    let found = access::environment(state, actor, env).await?;
    if updates.is_empty() {
        return Err(LogicError::Invalid(
            "Name at least one process type to change, e.g. {\"updates\": [{\"type\": \"web\", \"quantity\": 2}]}".to_string(),
        ));
    }
    let all = processes(state, &found.env).await?;
    let changes = updates
        .iter()
        .map(|u| to_change(&all, u))
        .collect::<Result<Vec<_>, _>>()?;
    let changed = state
        .store()
        .change_formation(&found.env.id, &changes, MAX_QUANTITY)
        .await?;
    record(state, actor, &found, &changed, &changes).await;
    // Stop and start dynos now; the reconciler's own passes retry what this one could not.
    crate::reconcile::run_once(state).await;
    let commands = processes(state, &found.env).await?;
    let out = changed
        .into_iter()
        .map(|entry| Process {
            command: command_of(&commands, &entry.process_type),
            entry,
        })
        .collect();
    Ok((found.env, out))
}

/// The formation entries of the types the current release runs, with their commands.
async fn processes(state: &AppState, env: &Environment) -> Result<Vec<Process>, LogicError> {
    let Some(release) = state.store().current_release(&env.id).await? else {
        return Ok(Vec::new());
    };
    let entries = state.store().formation(&env.id).await?;
    Ok(entries
        .into_iter()
        .filter(|e| {
            dyno_command(release.image_kind, &release.process_types, &e.process_type).is_ok()
        })
        .map(|entry| Process {
            command: release
                .process_types
                .get(&entry.process_type)
                .cloned()
                .unwrap_or_default(),
            entry,
        })
        .collect())
}

fn command_of(all: &[Process], process_type: &str) -> String {
    all.iter()
        .find(|p| p.entry.process_type == process_type)
        .map(|p| p.command.clone())
        .unwrap_or_default()
}

/// The process `type_or_id` names (Heroku: "Couldn't find that process type").
fn pick<'a>(all: &'a [Process], type_or_id: &str) -> Result<&'a Process, LogicError> {
    all.iter()
        .find(|p| p.entry.process_type == type_or_id || p.entry.id == type_or_id)
        .ok_or_else(|| LogicError::not_found("process type", type_or_id))
}

/// Checks one update against the release's types and the size catalog.
fn to_change(all: &[Process], update: &Update) -> Result<FormationChange, LogicError> {
    if update.process_type.is_empty() {
        return Err(LogicError::Invalid(
            "Each update names its process type (\"type\": \"web\")".to_string(),
        ));
    }
    let process = pick(all, &update.process_type)?;
    if update.quantity.is_none() && update.size.is_none() {
        return Err(LogicError::Invalid(format!(
            "The update of {} changes nothing: give a quantity, a size, or both",
            process.entry.process_type
        )));
    }
    let size = match &update.size {
        Some(s) => Some(
            DynoSize::find_by_id_or_name(s)
                .map(|size| size.name.to_string())
                .ok_or_else(|| LogicError::Invalid(unknown_size(s)))?,
        ),
        None => None,
    };
    Ok(FormationChange {
        process_type: process.entry.process_type.clone(),
        quantity: update.quantity,
        size,
    })
}

/// "There is no dyno size …; choose one of …".
pub fn unknown_size(name: &str) -> String {
    DynoSize::parse(name)
        .err()
        .unwrap_or_else(|| format!("there is no dyno size {name:?}"))
}

/// Audits scaling (`formation.scale`) and resizing (`formation.resize`) separately.
async fn record(
    state: &AppState,
    actor: &Actor,
    found: &access::EnvAccess,
    changed: &[FormationEntry],
    changes: &[FormationChange],
) {
    let now_of = |t: &str| changed.iter().find(|e| e.process_type == t);
    let scaled: Vec<_> = changes
        .iter()
        .filter(|c| c.quantity.is_some())
        .filter_map(|c| now_of(&c.process_type))
        .map(|e| serde_json::json!({ "type": e.process_type, "quantity": e.quantity }))
        .collect();
    let resized: Vec<_> = changes
        .iter()
        .filter(|c| c.size.is_some())
        .filter_map(|c| now_of(&c.process_type))
        .map(|e| serde_json::json!({ "type": e.process_type, "size": e.size }))
        .collect();
    for (action, list) in [("formation.scale", scaled), ("formation.resize", resized)] {
        if !list.is_empty() {
            let details = serde_json::json!({ "changes": list });
            super::audit::record(state, actor, &found.app, Some(&found.env), action, details).await;
        }
    }
}

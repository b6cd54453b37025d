//! Backups with Heroku's syntax: `pg:backups` (b001…, size, time, verified), capture,
//! download, restore (into the same or the other environment, `myapp::b001`, with an optional
//! masking script), delete, and the daily schedule. Works for any add-on whose manifest has
//! backup commands (Postgres and Redis).

use std::path::PathBuf;

use doppel_store::{Backup, BackupKind, BackupSchedule, BackupStatus, Environment};

use super::access;
use super::addons::{self, AddonView};
use super::{Actor, LogicError};
use crate::state::AppState;
use crate::workflows::addon_backup::{self, BackupError};

/// The largest masking script accepted (it travels in the restore command's environment).
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

fn failed(e: BackupError) -> LogicError {
    match e {
        BackupError::Corrupt { .. } | BackupError::WrongService { .. } => {
            LogicError::Invalid(e.to_string())
        }
        BackupError::NotRunning(_) => LogicError::Conflict(e.to_string()),
        other => LogicError::Failed(other.to_string()),
    }
}

/// An environment's backups and restores, oldest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Backup>), LogicError> {
    let env = access::environment(state, actor, env).await?.env;
    let backups = state.store().backups_of_env(&env.id).await?;
    Ok((env, backups))
}

/// One backup of `env` by its name (`b001`), or `latest` (the newest succeeded capture).
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
    label: &str,
) -> Result<(Environment, Backup), LogicError> {
    let (env, backups) = list(state, actor, env).await?;
    let found = if label == "latest" {
        backups
            .into_iter()
            .filter(|b| b.kind != BackupKind::Restore && b.status == BackupStatus::Succeeded)
            .max_by(|a, b| (&a.created_at, a.num).cmp(&(&b.created_at, b.num)))
    } else {
        backups
            .into_iter()
            .find(|b| b.label() == label || b.id == label)
    };
    let found = found.ok_or_else(|| LogicError::not_found("backup", label))?;
    Ok((env, found))
}

/// The add-on a backup command is about: `reference` (name, attachment name), else the
/// environment's `service` add-on (Postgres for `pg:*`), which must have backups.
async fn backup_target(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
) -> Result<AddonView, LogicError> {
    let found = addons::locate(state, actor, Some(env), reference, service).await?;
    if !found
        .manifest
        .as_ref()
        .is_some_and(|m| m.supports_backups())
    {
        return Err(LogicError::Invalid(format!(
            "{} ({}) has no backups",
            found.addon.name, found.addon.service
        )));
    }
    addons::server(state, &found).await?;
    Ok(found)
}

/// `pg:backups:capture`: a backup of the add-on, verified by a scratch restore. With `wait`
/// the capture has ended when this returns; otherwise it goes on in the background and the
/// running row is returned.
pub async fn capture(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
    wait: bool,
) -> Result<(AddonView, Backup), LogicError> {
    let found = backup_target(state, actor, env, reference, service).await?;
    let user = Some(actor.user.id.clone());
    let row = addon_backup::begin_capture(state, &found.addon, BackupKind::Manual, None, user)
        .await
        .map_err(failed)?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "backup.capture",
        serde_json::json!({"addon": found.addon.name, "backup": row.label()}),
    )
    .await;
    if wait {
        let done = addon_backup::run_capture(state, &found.addon, &row)
            .await
            .map_err(failed)?;
        return Ok((found, done));
    }
    let (bg_state, addon, bg_row) = (state.clone(), found.addon.clone(), row.clone());
    tokio::spawn(async move {
        // The outcome is on the row (and in the log).
        let _ = addon_backup::run_capture(&bg_state, &addon, &bg_row).await;
    });
    Ok((found, row))
}

/// `pg:backups:download`: the backup's file (refused when it is missing or altered).
pub async fn download(
    state: &AppState,
    actor: &Actor,
    env: &str,
    label: &str,
) -> Result<(Backup, PathBuf), LogicError> {
    let (env, backup) = show(state, actor, env, label).await?;
    if backup.kind == BackupKind::Restore {
        return Err(LogicError::Invalid(format!(
            "{} is a restore, not a backup",
            backup.label()
        )));
    }
    let path = addon_backup::check_file(state, &backup).map_err(|reason| {
        LogicError::Invalid(format!(
            "backup {} of {} cannot be downloaded: {reason}",
            backup.label(),
            env.name
        ))
    })?;
    Ok((backup, path))
}

/// `pg:backups:delete`: removes a backup and its file.
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    env: &str,
    label: &str,
) -> Result<Backup, LogicError> {
    let found = access::environment(state, actor, env).await?;
    let (_, backup) = show(state, actor, env, label).await?;
    if backup.status == BackupStatus::Running {
        return Err(LogicError::Conflict(format!(
            "{} is still running",
            backup.label()
        )));
    }
    addon_backup::delete(state, &backup).await.map_err(failed)?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "backup.delete",
        serde_json::json!({"backup": backup.label()}),
    )
    .await;
    Ok(backup)
}

/// What `pg:backups:restore` asks for.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    /// `b001` (of the target environment), `myapp::b001` (of another), or `latest`.
    pub source: Option<String>,
    /// The target add-on (name or attachment); the environment's main one when absent.
    pub target: Option<String>,
    /// SQL (or commands) run on the restored data before it replaces the live data.
    pub script: Option<String>,
    pub wait: bool,
}

/// `pg:backups:restore`: replaces the target add-on's data with a backup of it or of the
/// other environment's add-on. A corrupt or truncated backup is refused and nothing changes.
pub async fn restore(
    state: &AppState,
    actor: &Actor,
    env: &str,
    service: Option<&str>,
    req: &RestoreRequest,
) -> Result<(AddonView, Backup), LogicError> {
    if req
        .script
        .as_ref()
        .is_some_and(|s| s.len() > MAX_SCRIPT_BYTES)
    {
        return Err(LogicError::Invalid(format!(
            "The masking script is larger than {} KiB",
            MAX_SCRIPT_BYTES / 1024
        )));
    }
    let target = backup_target(state, actor, env, req.target.as_deref(), service).await?;
    let spec = req.source.clone().unwrap_or_else(|| "latest".to_string());
    let (source_env, label) = match spec.split_once("::") {
        Some((e, l)) => (e.to_string(), l.to_string()),
        None => (target.env.name.clone(), spec.clone()),
    };
    let (source_env, source) = show(state, actor, &source_env, &label).await?;
    let source_label = format!("{}::{}", source_env.name, source.label());
    let user = Some(actor.user.id.clone());
    let script = req.script.clone().filter(|s| !s.trim().is_empty());
    let row = addon_backup::begin_restore(
        state,
        &source,
        &source_label,
        &target.addon,
        script.is_some(),
        user,
    )
    .await
    .map_err(failed)?;
    super::audit::record(
        state,
        actor,
        &target.app,
        Some(&target.env),
        "backup.restore",
        serde_json::json!({"addon": target.addon.name, "source": source_label, "masking_script": script.is_some(), "restore": row.label()}),
    )
    .await;
    if req.wait {
        let done = addon_backup::run_restore(
            state,
            &row,
            &source,
            &source_label,
            &target.addon,
            script.as_deref(),
        )
        .await
        .map_err(failed)?;
        return Ok((target, done));
    }
    let (bg_state, addon, bg_row) = (state.clone(), target.addon.clone(), row.clone());
    tokio::spawn(async move {
        let _ = addon_backup::run_restore(
            &bg_state,
            &bg_row,
            &source,
            &source_label,
            &addon,
            script.as_deref(),
        )
        .await;
    });
    Ok((target, row))
}

/// Parses `--at` (Heroku's syntax): `02:00`, `2`, `02:00 UTC`, `02:00 Europe/Paris`; the
/// hour and the time zone (`None` for UTC), which must be one the system's time zone
/// database knows.
pub fn parse_at(at: &str) -> Result<(u8, Option<String>), LogicError> {
    let bad = || {
        LogicError::Invalid(format!(
            "--at {at:?}: give an hour of the day and a time zone, such as '02:00 Europe/Paris' or '02:00 UTC'"
        ))
    };
    let mut parts = at.split_whitespace();
    let time = parts.next().ok_or_else(bad)?;
    let zone = match parts.next() {
        None => None,
        Some(z)
            if matches!(
                z.to_ascii_uppercase().as_str(),
                "UTC" | "GMT" | "ETC/UTC" | "Z"
            ) =>
        {
            None
        }
        Some(z) => {
            let known = jiff::tz::TimeZone::get(z).map_err(|_| {
                LogicError::Invalid(format!(
                    "--at {at:?}: {z:?} is not a time zone this server knows (e.g. Europe/Paris, America/New_York, UTC)"
                ))
            })?;
            Some(known.iana_name().unwrap_or(z).to_string())
        }
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    let hour = time.split(':').next().ok_or_else(bad)?;
    let hour: u8 = hour.parse().map_err(|_| bad())?;
    if hour > 23 {
        return Err(bad());
    }
    Ok((hour, zone))
}

/// `pg:backups:schedule`: a daily backup at `hour` in its zone keeping `keep`; `None`
/// unschedules.
pub async fn schedule(
    state: &AppState,
    actor: &Actor,
    env: &str,
    reference: Option<&str>,
    service: Option<&str>,
    schedule: Option<BackupSchedule>,
) -> Result<AddonView, LogicError> {
    let found = addons::locate(state, actor, Some(env), reference, service).await?;
    if schedule.is_some()
        && !found
            .manifest
            .as_ref()
            .is_some_and(|m| m.supports_backups())
    {
        return Err(LogicError::Invalid(format!(
            "{} has no backups",
            found.addon.name
        )));
    }
    if schedule
        .as_ref()
        .is_some_and(|s| s.keep == 0 || s.keep > 1000)
    {
        return Err(LogicError::Invalid(
            "--keep must be between 1 and 1000".to_string(),
        ));
    }
    state
        .store()
        .set_addon_schedule(&found.addon.id, schedule.clone())
        .await?;
    super::audit::record(
        state,
        actor,
        &found.app,
        Some(&found.env),
        "backup.schedule",
        serde_json::json!({
            "addon": found.addon.name,
            "hour": schedule.as_ref().map(|s| s.hour),
            "keep": schedule.as_ref().map(|s| s.keep),
            "zone": schedule.as_ref().map(|s| s.zone.as_deref().unwrap_or("UTC")),
        }),
    )
    .await;
    let addon = state
        .store()
        .addon(&found.addon.id)
        .await?
        .unwrap_or(found.addon);
    addons::view(state, addon).await
}

#[cfg(test)]
mod tests {
    use super::parse_at;

    #[test]
    fn hours_are_read_with_their_time_zone() {
        assert_eq!(parse_at("02:00").ok(), Some((2, None)));
        assert_eq!(parse_at("2").ok(), Some((2, None)));
        assert_eq!(parse_at("23:00 UTC").ok(), Some((23, None)));
        assert_eq!(
            parse_at("02:00 Europe/Paris").ok(),
            Some((2, Some("Europe/Paris".to_string())))
        );
        assert_eq!(
            parse_at("02:00 America/New_York").ok(),
            Some((2, Some("America/New_York".to_string())))
        );
        assert!(parse_at("02:00 Mars/Olympus").is_err());
        assert!(parse_at("24:00").is_err());
        assert!(parse_at("noon").is_err());
        assert!(parse_at("02:00 UTC extra").is_err());
    }
}

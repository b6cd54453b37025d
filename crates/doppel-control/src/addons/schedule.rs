//! Scheduled backups (`pg:backups:schedule --at '02:00 Europe/Paris' --keep 7`): once a day,
//! at or after the add-on's hour in its time zone (UTC when it has none; days and hours as
//! that zone counts them, summer time included), a backup `a001`, `a002`… is captured and
//! verified, and the oldest scheduled backups beyond the number to keep are deleted (manual
//! ones never are).
//! The check runs at start and then every minute and takes no input: a day missed while
//! doppel was down is caught up at the next start. An add-on whose server is not up (yet)
//! is skipped until a later check rather than given a failed backup. The clock it reads is
//! the real one plus `backup_schedule_clock_offset` (a test hook; zero in real use).

use std::time::Duration;

use doppel_store::{AddonState, BackupKind, BackupStatus};
use time::OffsetDateTime;

use crate::addons::servers;
use crate::state::AppState;
use crate::workflows::addon_backup;

/// How often schedules are checked.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// How long a check waits for an add-on's server to pass its health check.
const READY_WAIT: Duration = Duration::from_secs(60);

/// Checks schedules now and then forever, every [`INTERVAL`].
pub async fn run_forever(state: AppState) {
    let offset = state.config().backup_schedule_clock_offset;
    if !offset.is_zero() {
        tracing::warn!(
            secs = offset.as_secs(),
            "the backup scheduler's clock is offset (a test setting)"
        );
    }
    loop {
        tick(&state, OffsetDateTime::now_utc() + offset).await;
        tokio::time::sleep(INTERVAL).await;
    }
}

/// Whether the add-on's server runs and answers its health check (waiting a little).
async fn ready(state: &AppState, addon: &doppel_store::Addon) -> bool {
    let Ok((provider, plan)) = servers::provider(state, addon) else {
        return false;
    };
    let Ok(Some(c)) = servers::running(state, &addon.id).await else {
        return false;
    };
    let inst = servers::instance(addon, &plan);
    provider
        .wait_ready(state.runtime(), &c.id, &inst, READY_WAIT)
        .await
        .is_ok()
}

/// One check at `now`: captures what is due, prunes what is beyond `keep`.
pub async fn tick(state: &AppState, now: OffsetDateTime) {
    let addons = match state.store().list_addons().await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "could not read backup schedules");
            return;
        }
    };
    for addon in addons {
        let Some(schedule) = addon.schedule.clone() else {
            continue;
        };
        let tz = zone(schedule.zone.as_deref());
        let Ok(local) = jiff::Timestamp::from_second(now.unix_timestamp()) else {
            continue;
        };
        let local = local.to_zoned(tz.clone());
        let hour = u8::try_from(local.hour()).unwrap_or(0);
        if addon.state != AddonState::Provisioned || hour < schedule.hour {
            continue;
        }
        let backups = match state.store().backups_of_env(&addon.env_id).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(addon = %addon.name, error = %e, "could not list backups");
                continue;
            }
        };
        let scheduled: Vec<_> = backups
            .into_iter()
            .filter(|b| b.kind == BackupKind::Scheduled && b.addon_id.as_ref() == Some(&addon.id))
            .collect();
        let taken_today = |created_at: &str| {
            created_at
                .parse::<jiff::Timestamp>()
                .is_ok_and(|t| t.to_zoned(tz.clone()).date() == local.date())
        };
        if scheduled.iter().any(|b| taken_today(&b.created_at)) {
            continue;
        }
        if !ready(state, &addon).await {
            tracing::info!(addon = %addon.name, "the scheduled backup waits for the add-on's server to be up");
            continue;
        }
        tracing::info!(addon = %addon.name, "capturing the scheduled backup");
        let note = Some(format!(
            "scheduled daily at {:02}:00 {}",
            schedule.hour,
            schedule.zone.as_deref().unwrap_or("UTC")
        ));
        if let Err(e) =
            addon_backup::capture(state, &addon, BackupKind::Scheduled, note, None).await
        {
            tracing::warn!(addon = %addon.name, error = %e, "scheduled backup failed");
            continue;
        }
        prune(state, &addon.env_id, &addon.id, schedule.keep as usize).await;
    }
}

/// The schedule's time zone (UTC when it has none, or one the system no longer knows).
fn zone(name: Option<&str>) -> jiff::tz::TimeZone {
    match name.map(jiff::tz::TimeZone::get) {
        Some(Ok(tz)) => tz,
        Some(Err(e)) => {
            tracing::warn!(zone = ?name, error = %e, "unknown time zone in a backup schedule; using UTC");
            jiff::tz::TimeZone::UTC
        }
        None => jiff::tz::TimeZone::UTC,
    }
}

/// Deletes the oldest succeeded scheduled backups of an add-on beyond `keep`.
pub async fn prune(state: &AppState, env_id: &str, addon_id: &str, keep: usize) {
    let Ok(backups) = state.store().backups_of_env(env_id).await else {
        return;
    };
    let mut scheduled: Vec<_> = backups
        .into_iter()
        .filter(|b| {
            b.kind == BackupKind::Scheduled
                && b.status == BackupStatus::Succeeded
                && b.addon_id.as_deref() == Some(addon_id)
        })
        .collect();
    scheduled.sort_by_key(|b| b.num);
    let excess = scheduled.len().saturating_sub(keep);
    for old in scheduled.into_iter().take(excess) {
        tracing::info!(backup = %old.label(), "deleting a scheduled backup beyond the number kept");
        if let Err(e) = addon_backup::delete(state, &old).await {
            tracing::warn!(backup = %old.label(), error = %e, "could not delete an old scheduled backup");
        }
    }
}

//! Backups and restores of an add-on, as durable steps. A capture writes its row (`running`)
//! first, streams the backup to `<data-dir>/backups/<env-id>/<backup-id>.<ext>` (0600, in a
//! 0700 directory), records size, checksum and the counts the capture saw, then verifies it
//! by restoring it into a scratch database and comparing the counts. A restore checks the
//! file's size and checksum before anything else (a corrupt or truncated file is refused and
//! nothing is touched), then hands it to the provider's restore, which replaces the data
//! only once it has been fully restored. A restart marks whatever was running failed.

use std::path::{Path, PathBuf};

use doppel_store::{Addon, Backup, BackupKind, BackupStatus, NewBackup};

use crate::addons::servers;
use crate::state::AppState;

/// The largest backup kept (the capture stops there and fails).
pub const MAX_BACKUP_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// Why a backup or restore failed. Its row (when there is one) records the same reason.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The add-on has no running server (being provisioned, or its server is down).
    #[error("{0} is not running; try again once it is (`doppel addons` shows its state)")]
    NotRunning(String),
    /// The backup's file is missing, truncated or altered: nothing was restored.
    #[error(
        "backup {label} cannot be used: {reason}; nothing was restored, the data is as it was"
    )]
    Corrupt { label: String, reason: String },
    /// A backup of one service cannot be restored into another.
    #[error("backup {label} is a {from} backup; it cannot be restored into {to}")]
    WrongService {
        label: String,
        from: String,
        to: String,
    },
    /// The provider's command failed.
    #[error("{0}")]
    Provider(#[from] doppel_addons::AddonError),
    #[error("{0}")]
    Docker(#[from] doppel_docker::DockerError),
    #[error("{0}")]
    Store(#[from] doppel_store::StoreError),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.display().to_string();
    move |source| BackupError::Io { op, path, source }
}

/// The backup directory of an environment (made 0700 when missing).
fn env_dir(state: &AppState, env_id: &str) -> Result<PathBuf, BackupError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let root = state.config().data_dir.join("backups");
    let dir = root.join(env_id);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io("creating", &dir))?;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))
        .map_err(io("setting permissions on", &root))?;
    Ok(dir)
}

/// Where a backup's file is, from its row.
pub fn file_of(state: &AppState, backup: &Backup) -> Option<PathBuf> {
    backup
        .file
        .as_ref()
        .map(|f| state.config().data_dir.join(f))
}

/// Captures a backup of `addon` and verifies it ([`begin_capture`] then [`run_capture`]).
pub async fn capture(
    state: &AppState,
    addon: &Addon,
    kind: BackupKind,
    note: Option<String>,
    user_id: Option<String>,
) -> Result<Backup, BackupError> {
    let row = begin_capture(state, addon, kind, note, user_id).await?;
    run_capture(state, addon, &row).await
}

/// Records a running capture of `addon` (its row, numbered).
pub async fn begin_capture(
    state: &AppState,
    addon: &Addon,
    kind: BackupKind,
    note: Option<String>,
    user_id: Option<String>,
) -> Result<Backup, BackupError> {
    Ok(state
        .store()
        .create_backup(
            &NewBackup {
                env_id: addon.env_id.clone(),
                addon_id: Some(addon.id.clone()),
                addon_name: addon.name.clone(),
                service: addon.service.clone(),
                version: addon.version.clone(),
                source: None,
                note,
                user_id,
            },
            kind,
        )
        .await?)
}

/// Captures into the row `row` (the add-on's lock taken here) and verifies the result.
/// Failed captures are `Err` (and recorded on the row); a capture whose verification failed
/// is `Ok` with `verified: Some(false)`.
pub async fn run_capture(
    state: &AppState,
    addon: &Addon,
    row: &Backup,
) -> Result<Backup, BackupError> {
    let lock = servers::lock(state, &addon.id);
    let _guard = lock.lock().await;
    if let Err(e) = capture_into(state, addon, row).await {
        if let Err(store) = state.store().fail_backup(&row.id, &e.to_string()).await {
            tracing::error!(backup = %row.id, error = %store, "could not record a failed backup");
        }
        tracing::warn!(addon = %addon.name, backup = %row.label(), error = %e, "backup failed");
        return Err(e);
    }
    verify_locked(state, addon, &row.id).await?;
    Ok(state
        .store()
        .backup(&row.id)
        .await?
        .unwrap_or_else(|| row.clone()))
}

async fn capture_into(state: &AppState, addon: &Addon, row: &Backup) -> Result<(), BackupError> {
    let container = servers::running(state, &addon.id)
        .await?
        .ok_or_else(|| BackupError::NotRunning(addon.name.clone()))?;
    let (provider, plan) = servers::provider(state, addon)?;
    let dir = env_dir(state, &addon.env_id)?;
    let name = format!("{}.{}", row.id, provider.manifest.backup_extension);
    let path = dir.join(&name);
    let capture = provider
        .backup(
            state.runtime(),
            &container.id,
            &servers::instance(addon, &plan),
            &path,
            MAX_BACKUP_BYTES,
        )
        .await?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(io("setting permissions on", &path))?;
    }
    let relative = format!("backups/{}/{name}", addon.env_id);
    state
        .store()
        .finish_backup(
            &row.id,
            capture.size,
            &capture.checksum,
            &relative,
            &capture.counts,
        )
        .await?;
    tracing::info!(addon = %addon.name, backup = %row.label(), size = capture.size, "backup captured");
    Ok(())
}

/// Verifies a captured backup by restoring it into a scratch database of `addon`'s server
/// (the caller holds the add-on's lock) and records the outcome.
async fn verify_locked(
    state: &AppState,
    addon: &Addon,
    backup_id: &str,
) -> Result<(), BackupError> {
    let Some(backup) = state.store().backup(backup_id).await? else {
        return Ok(());
    };
    let outcome = match check_file(state, &backup) {
        Err(reason) => Err(reason),
        Ok(path) => match servers::running(state, &addon.id).await? {
            None => Err(format!("{} is not running", addon.name)),
            Some(container) => {
                let (provider, plan) = servers::provider(state, addon)?;
                let v = provider
                    .verify(
                        state.runtime(),
                        &container.id,
                        &servers::instance(addon, &plan),
                        &path,
                        &backup.counts,
                    )
                    .await?;
                if v.ok {
                    Ok(v.message)
                } else {
                    Err(v.message)
                }
            }
        },
    };
    let (ok, message) = match outcome {
        Ok(m) => (true, m),
        Err(m) => (false, m),
    };
    state
        .store()
        .set_backup_verified(backup_id, ok, &message)
        .await?;
    if ok {
        tracing::info!(backup = %backup.label(), "backup verified");
    } else {
        tracing::warn!(backup = %backup.label(), %message, "backup verification failed");
    }
    Ok(())
}

/// The backup's file when it is there, whole and unaltered (size and checksum as recorded),
/// else why not.
pub fn check_file(state: &AppState, backup: &Backup) -> Result<PathBuf, String> {
    if backup.status != BackupStatus::Succeeded {
        return Err(format!("it is {}", backup.status.as_str()));
    }
    let path = file_of(state, backup).ok_or("it has no file")?;
    let meta = std::fs::metadata(&path).map_err(|e| format!("its file is unreadable ({e})"))?;
    if Some(meta.len() as i64) != backup.size_bytes {
        return Err(format!(
            "its file holds {} bytes, {} were captured (truncated or altered)",
            meta.len(),
            backup.size_bytes.unwrap_or(0)
        ));
    }
    let sum = doppel_addons::provider::checksum(&path).map_err(|e| e.to_string())?;
    if Some(&sum) != backup.checksum.as_ref() {
        return Err(
            "its checksum does not match the one recorded at capture (corrupt)".to_string(),
        );
    }
    Ok(path)
}

/// Restores `source` into `target` ([`begin_restore`] then [`run_restore`]).
pub async fn restore(
    state: &AppState,
    source: &Backup,
    source_label: &str,
    target: &Addon,
    script: Option<&str>,
    user_id: Option<String>,
) -> Result<Backup, BackupError> {
    let row = begin_restore(
        state,
        source,
        source_label,
        target,
        script.is_some(),
        user_id,
    )
    .await?;
    run_restore(state, &row, source, source_label, target, script).await
}

/// Checks that `source` can be restored into `target` (same service; its file there, whole
/// and unaltered) and records the running restore (`r001`…). A refusal changes nothing.
pub async fn begin_restore(
    state: &AppState,
    source: &Backup,
    source_label: &str,
    target: &Addon,
    with_script: bool,
    user_id: Option<String>,
) -> Result<Backup, BackupError> {
    if source.service != target.service {
        return Err(BackupError::WrongService {
            label: source_label.to_string(),
            from: source.service.clone(),
            to: target.name.clone(),
        });
    }
    check_file(state, source).map_err(|reason| BackupError::Corrupt {
        label: source_label.to_string(),
        reason,
    })?;
    Ok(state
        .store()
        .create_backup(
            &NewBackup {
                env_id: target.env_id.clone(),
                addon_id: Some(target.id.clone()),
                addon_name: target.name.clone(),
                service: target.service.clone(),
                version: target.version.clone(),
                source: Some(source_label.to_string()),
                note: with_script.then(|| "with a masking script".to_string()),
                user_id,
            },
            BackupKind::Restore,
        )
        .await?)
}

/// Runs the restore recorded as `row` (the target's lock taken here): the file is checked
/// again under the lock, then the provider replaces the data only once it is fully restored
/// (with `script` run on it first). The row ends succeeded or failed with the reason.
pub async fn run_restore(
    state: &AppState,
    row: &Backup,
    source: &Backup,
    source_label: &str,
    target: &Addon,
    script: Option<&str>,
) -> Result<Backup, BackupError> {
    let lock = servers::lock(state, &target.id);
    let _guard = lock.lock().await;
    let outcome = restore_locked(state, source, source_label, target, script).await;
    match &outcome {
        Ok(()) => {
            state.store().succeed_backup(&row.id).await?;
            tracing::info!(target = %target.name, source = %source_label, "backup restored");
        }
        Err(e) => {
            let reason = match e {
                BackupError::Corrupt { .. } => e.to_string(),
                other => format!("{other}; the data is as it was"),
            };
            state.store().fail_backup(&row.id, &reason).await?;
            tracing::warn!(target = %target.name, source = %source_label, error = %e, "restore failed");
        }
    }
    outcome?;
    Ok(state
        .store()
        .backup(&row.id)
        .await?
        .unwrap_or_else(|| row.clone()))
}

async fn restore_locked(
    state: &AppState,
    source: &Backup,
    source_label: &str,
    target: &Addon,
    script: Option<&str>,
) -> Result<(), BackupError> {
    let path = check_file(state, source).map_err(|reason| BackupError::Corrupt {
        label: source_label.to_string(),
        reason,
    })?;
    let container = servers::running(state, &target.id)
        .await?
        .ok_or_else(|| BackupError::NotRunning(target.name.clone()))?;
    let (provider, plan) = servers::provider(state, target)?;
    provider
        .restore(
            state.runtime(),
            &container.id,
            &servers::instance(target, &plan),
            &path,
            script,
        )
        .await?;
    Ok(())
}

/// Deletes a backup's row and file.
pub async fn delete(state: &AppState, backup: &Backup) -> Result<(), BackupError> {
    if let Some(path) = file_of(state, backup) {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing", &path)(e)),
        }
    }
    state.store().delete_backup(&backup.id).await?;
    Ok(())
}

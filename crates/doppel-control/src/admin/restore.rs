//! `doppel admin:restore FILE`: an installation back from a backup, into an empty (or
//! missing) data directory and an empty store. The archive is unpacked next to the data
//! directory and checked whole (manifest, checksums, format, schema) before anything is put
//! in place; a refusal leaves the data directory and the database as they were. Images are
//! not restored: the restored server rebuilds what its current releases run when it starts.

use super::archive::{self, Manifest, FORMAT};
use super::AdminError;
use std::path::Path;

/// Restores `archive_path` into `data_dir`, the store at `database_url`.
pub async fn restore(
    archive_path: &Path,
    data_dir: &Path,
    database_url: &str,
) -> Result<Manifest, AdminError> {
    refuse_non_empty(data_dir)?;
    let parent = data_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(AdminError::io("creating", parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".doppel-restore-")
        .tempdir_in(parent)
        .map_err(AdminError::io("creating a scratch directory in", parent))?;
    let manifest = archive::unpack(archive_path, staging.path())?;
    check(&manifest)?;
    let created = !data_dir.exists();
    let result = put_in_place(&manifest, staging.path(), data_dir, database_url).await;
    if result.is_err() {
        // Back to what it was: missing, or empty.
        let _ = match created {
            true => std::fs::remove_dir_all(data_dir),
            false => std::fs::remove_file(data_dir.join("server.lock")),
        };
    }
    result?;
    tracing::info!(
        data_dir = %data_dir.display(),
        schema = manifest.schema_version,
        from = %manifest.created_at,
        "backup restored"
    );
    Ok(manifest)
}

/// The data directory must be missing or empty.
fn refuse_non_empty(data_dir: &Path) -> Result<(), AdminError> {
    match std::fs::read_dir(data_dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(AdminError::NotEmpty(data_dir.to_path_buf())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(AdminError::io("reading", data_dir)(e)),
    }
}

/// A backup this build can read: its format, and a store schema no newer than ours.
pub fn check(manifest: &Manifest) -> Result<(), AdminError> {
    if manifest.format != FORMAT {
        return Err(AdminError::Format {
            found: manifest.format,
            supported: FORMAT,
        });
    }
    let supported = doppel_store::latest_schema_version();
    if manifest.schema_version > supported {
        return Err(AdminError::NewerSchema {
            version: manifest.doppel_version.clone(),
            found: manifest.schema_version,
            supported,
        });
    }
    Ok(())
}

/// The store first (it refuses a database that is not empty), then the data files.
async fn put_in_place(
    manifest: &Manifest,
    staging: &Path,
    data_dir: &Path,
    database_url: &str,
) -> Result<(), AdminError> {
    let _lock = crate::datadir::take(data_dir, "doppel admin:restore")?;
    let snapshot = match manifest.store_backend.as_str() {
        "postgres" => staging.join("store/postgres.dump"),
        _ => staging.join("store/doppel.db"),
    };
    doppel_store::restore_snapshot(database_url, &manifest.store_backend, &snapshot).await?;
    let data = staging.join("data");
    let entries = match std::fs::read_dir(&data) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(AdminError::io("reading", &data)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(AdminError::io("reading", &data))?;
        let to = data_dir.join(entry.file_name());
        std::fs::rename(entry.path(), &to).map_err(AdminError::io("moving into place", &to))?;
    }
    crate::datadir::prepare(data_dir)?;
    Ok(())
}

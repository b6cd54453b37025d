//! `doppel admin:backup FILE`: a consistent snapshot of the store (SQLite `VACUUM INTO`,
//! PostgreSQL `pg_dump`; see `doppel_store::snapshot`), then the keys, the platform CA, the
//! admin token, the instance id, the git repositories and the add-ons' backups, into one
//! archive, while the server keeps running. The store goes first: repositories only gain
//! objects, so what the snapshot's builds name is in the copy.

use super::archive::{partial, ArchiveWriter, Manifest, FORMAT};
use super::{AdminError, DATA_FILES, DATA_TREES};
use std::path::Path;

/// Backs up the installation at `data_dir` (its store at `database_url`) into `dest`.
pub async fn backup(
    data_dir: &Path,
    database_url: &str,
    dest: &Path,
) -> Result<Manifest, AdminError> {
    let key = data_dir.join("master.key");
    if !key.is_file() {
        return Err(AdminError::NoKey(data_dir.to_path_buf()));
    }
    let scratch = tempfile::Builder::new()
        .prefix(".doppel-backup-")
        .tempdir_in(
            dest.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .map_err(AdminError::io("creating a scratch directory next to", dest))?;
    let snapshot_path = scratch.path().join("store");
    let info = doppel_store::snapshot(database_url, &snapshot_path).await?;
    let instance_id = std::fs::read_to_string(data_dir.join("instance-id"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let manifest = Manifest {
        format: FORMAT,
        doppel_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version: info.schema_version,
        store_backend: info.backend.to_string(),
        created_at: now(),
        instance_id,
        files: Vec::new(),
    };
    let snapshot_name = match info.backend {
        "postgres" => "store/postgres.dump",
        _ => "store/doppel.db",
    };
    let written = write(dest, data_dir, &snapshot_path, snapshot_name, manifest);
    if written.is_err() {
        let _ = std::fs::remove_file(partial(dest));
    }
    let manifest = written?;
    tracing::info!(
        file = %dest.display(),
        files = manifest.files.len(),
        schema = manifest.schema_version,
        backend = %manifest.store_backend,
        "backup written"
    );
    Ok(manifest)
}

fn write(
    dest: &Path,
    data_dir: &Path,
    snapshot: &Path,
    snapshot_name: &str,
    manifest: Manifest,
) -> Result<Manifest, AdminError> {
    let mut archive = ArchiveWriter::create(dest)?;
    archive.add_file(snapshot_name, snapshot)?;
    for name in DATA_FILES {
        let path = data_dir.join(name);
        if path.is_file() {
            archive.add_file(&format!("data/{name}"), &path)?;
        }
    }
    for name in DATA_TREES {
        let path = data_dir.join(name);
        if path.is_dir() {
            archive.add_tree(&format!("data/{name}"), &path)?;
        }
    }
    archive.finish(manifest)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

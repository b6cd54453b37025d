//! The data directory: made on first start, and owned by one server at a time through an
//! flock on `<data-dir>/server.lock` that names the server holding it. A second server on the
//! same directory stops before it changes anything.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the data directory could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("another doppel server is already using the data directory {dir} ({holder}); stop it first, or give this one another --data-dir")]
    InUse { dir: PathBuf, holder: String },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Held for as long as the server runs; the kernel releases it when the process ends, however
/// it ends.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError {
    let path = path.to_path_buf();
    move |source| DataDirError::Io { op, path, source }
}

/// Creates `dir` if missing and takes it for this server, whose addresses `serving` describes
/// (written into the lock file for whoever is refused next).
pub fn take(dir: &Path, serving: &str) -> Result<DataDirLock, DataDirError> {
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let path = dir.join("server.lock");
    let mut file = File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io("opening", &path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(DataDirError::InUse {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() {
                    "a server that has not said who it is yet".to_string()
                } else {
                    holder.to_string()
                },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io("locking", &path)(e)),
    }
    let started = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = format!(
        "pid {}, started {started}, serving {serving}\n",
        std::process::id()
    );
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(text.as_bytes()))
        .map_err(io("writing", &path))?;
    Ok(DataDirLock { _file: file })
}

/// The layout inside a taken data directory: repositories, build caches, and permissions that
/// keep other users out of what is private.
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    for sub in ["repos", "cache"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(io("creating", &path))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))
        .map_err(io("setting permissions on", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_with_the_first_ones_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = take(dir.path(), "https://localhost:1443").expect("first");
        let second = take(dir.path(), "https://localhost:2443");
        match second {
            Err(DataDirError::InUse { holder, .. }) => {
                assert!(holder.contains("https://localhost:1443"), "{holder}");
                assert!(holder.contains(&format!("pid {}", std::process::id())));
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        drop(first);
        assert!(take(dir.path(), "https://localhost:2443").is_ok());
    }
}

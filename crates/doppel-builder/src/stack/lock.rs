//! A machine-wide lock around stack builds, so two doppel processes starting at once (or a
//! server and `doppel stack build`) do not both debootstrap and import the same images.

use super::StackError;
use std::fs::File;
use std::path::PathBuf;

/// Held while the stack images are being made; released on drop (and by the kernel if the
/// process dies, since it is an flock on an open file).
pub struct StackLock {
    file: File,
}

fn lock_path() -> PathBuf {
    std::env::temp_dir().join("doppel-stack.lock")
}

impl StackLock {
    /// Blocks (on a blocking thread) until the lock is ours.
    pub async fn acquire() -> Result<StackLock, StackError> {
        let path = lock_path();
        let shown = path.display().to_string();
        let io_err = move |op: &'static str| {
            let path = shown.clone();
            move |source| StackError::Io { op, path, source }
        };
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open"))?;
        let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(|e| StackError::Io {
                op: "wait for",
                path: path.display().to_string(),
                source: std::io::Error::other(e),
            })?
            .map_err(io_err("lock"))?;
        Ok(StackLock { file })
    }
}

impl Drop for StackLock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first makes it immediate.
        let _ = self.file.unlock();
    }
}

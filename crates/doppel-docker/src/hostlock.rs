//! Machine-wide locks around engine-wide changes (creating networks, making stack images), so
//! two doppel processes on one machine never race each other through the Docker engine.

use std::fs::File;
use std::path::PathBuf;

/// An exclusive flock on `/run/lock/doppel-<name>.lock` (the temporary directory when
/// `/run/lock` is missing), held until dropped. The kernel releases it if the process dies.
#[derive(Debug)]
pub struct HostLock {
    file: File,
}

/// Where machine-wide locks live: `/run/lock` is shared by every process and every service
/// (unlike `/tmp` under systemd's `PrivateTmp`).
fn lock_path(name: &str) -> PathBuf {
    let run_lock = PathBuf::from("/run/lock");
    let dir = if run_lock.is_dir() {
        run_lock
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("doppel-{name}.lock"))
}

impl HostLock {
    /// Waits (on a blocking thread) until the lock called `name` is ours.
    pub async fn acquire(name: &str) -> std::io::Result<HostLock> {
        let path = lock_path(name);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(std::io::Error::other)??;
        Ok(HostLock { file })
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it immediate.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let first = HostLock::acquire("unit-test").await.expect("lock");
        let second = tokio::spawn(HostLock::acquire("unit-test"));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!second.is_finished(), "the lock was taken twice");
        drop(first);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), second).await;
        assert!(matches!(got, Ok(Ok(Ok(_)))));
    }
}

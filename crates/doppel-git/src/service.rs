//! [`GitService`]: configuration, per-repository locks and repository lifecycle.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::{repo, GitError, PushHandler};

/// Default limit on one push request body (after gzip decoding): 1 GiB.
pub const DEFAULT_MAX_PUSH_BYTES: u64 = 1 << 30;

/// doppel's git smart-HTTP endpoint. Build with [`GitService::new`], mount [`GitService::router`].
pub struct GitService {
    pub(crate) repos_root: PathBuf,
    pub(crate) hook_script: String,
    pub(crate) handler: Arc<dyn PushHandler>,
    pub(crate) max_push_bytes: u64,
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
    ensured: Mutex<HashSet<String>>,
}

impl GitService {
    /// `repos_root` holds bare repositories `<repo>.git` (created on first access);
    /// `hook_command` is the argv the pre-receive hook execs, e.g.
    /// `["/usr/bin/doppel", "git-hook", "pre-receive"]`.
    pub fn new(
        repos_root: PathBuf,
        hook_command: Vec<String>,
        handler: Arc<dyn PushHandler>,
    ) -> Self {
        GitService {
            repos_root,
            hook_script: repo::hook_script(&hook_command),
            handler,
            max_push_bytes: DEFAULT_MAX_PUSH_BYTES,
            locks: Mutex::new(HashMap::new()),
            ensured: Mutex::new(HashSet::new()),
        }
    }

    /// Limits the size of one push (or fetch negotiation) request body, after gzip decoding.
    /// Larger pushes are rejected with a message naming the limit.
    pub fn with_max_push_bytes(mut self, bytes: u64) -> Self {
        self.max_push_bytes = bytes;
        self
    }

    /// The directory holding the bare repositories.
    pub fn repos_root(&self) -> &std::path::Path {
        &self.repos_root
    }

    /// Path of `<repo>.git` (whether or not it exists).
    pub fn repo_path(&self, repo: &str) -> Result<PathBuf, GitError> {
        repo::repo_path(&self.repos_root, repo)
    }

    /// Creates the bare repository if missing and (re)installs its hook and configuration.
    pub async fn ensure_repo(&self, repo: &str) -> Result<PathBuf, GitError> {
        let path = self.repo_path(repo)?;
        let _guard = self.lock(repo).await;
        repo::ensure(&path, &self.hook_script).await?;
        self.mark_ensured(repo, true);
        Ok(path)
    }

    /// Deletes the repository (waits for a running push to finish first).
    pub async fn delete_repo(&self, repo: &str) -> Result<(), GitError> {
        let path = self.repo_path(repo)?;
        let _guard = self.lock(repo).await;
        self.mark_ensured(repo, false);
        repo::remove(&path).await
    }

    /// Ensures the repository unless this process already did; caller holds no lock.
    pub(crate) async fn open_repo(&self, repo: &str) -> Result<PathBuf, GitError> {
        let path = self.repo_path(repo)?;
        if self.is_ensured(repo) && path.join("HEAD").is_file() {
            return Ok(path);
        }
        self.ensure_repo(repo).await
    }

    /// Like [`GitService::open_repo`] for a caller already holding the repository lock.
    pub(crate) async fn open_repo_locked(&self, repo: &str) -> Result<PathBuf, GitError> {
        let path = self.repo_path(repo)?;
        if !(self.is_ensured(repo) && path.join("HEAD").is_file()) {
            repo::ensure(&path, &self.hook_script).await?;
            self.mark_ensured(repo, true);
        }
        Ok(path)
    }

    /// The per-repository lock, held for a whole receive-pack request.
    pub(crate) async fn lock(&self, repo: &str) -> OwnedMutexGuard<()> {
        let mutex = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(repo.to_owned()).or_default().clone()
        };
        mutex.lock_owned().await
    }

    fn is_ensured(&self, repo: &str) -> bool {
        self.ensured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(repo)
    }

    fn mark_ensured(&self, repo: &str, yes: bool) {
        let mut set = self.ensured.lock().unwrap_or_else(|p| p.into_inner());
        if yes {
            set.insert(repo.to_owned());
        } else {
            set.remove(repo);
        }
    }
}

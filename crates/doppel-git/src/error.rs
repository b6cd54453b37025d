//! Error types of doppel-git.

use std::path::PathBuf;

/// Failures of repository management and of the git processes doppel-git runs.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The repository name is not usable as `<name>.git` under the repos root.
    #[error("invalid repository name {0:?}")]
    InvalidRepoName(String),
    /// A commit id is not 40 lowercase hex digits.
    #[error("invalid object id {0:?}")]
    InvalidOid(String),
    /// A filesystem operation failed.
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A git process could not be started.
    #[error("could not run git {args}: {source}")]
    Spawn {
        args: String,
        #[source]
        source: std::io::Error,
    },
    /// A git process exited unsuccessfully.
    #[error("git {args} failed ({status}): {stderr}")]
    GitFailed {
        args: String,
        status: String,
        stderr: String,
    },
    /// The hook ↔ server framing was violated.
    #[error("hook protocol error: {0}")]
    Protocol(String),
}

impl GitError {
    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        GitError::Io {
            context,
            path: path.into(),
            source,
        }
    }
}

/// Why a git request was refused by [`crate::PushHandler::authorize`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitAccessError {
    /// 404 with `App not found: <repo>. Check the name with `doppel apps`.`
    #[error("app not found")]
    NotFound,
    /// 401 with `WWW-Authenticate: Basic realm="doppel"` so git asks its credential helper.
    #[error("unauthorized")]
    Unauthorized,
    /// 403 with the given message shown to the user.
    #[error("forbidden: {0}")]
    Forbidden(String),
}

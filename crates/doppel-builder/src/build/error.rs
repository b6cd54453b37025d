//! Why a build failed, in words a `git push` user can act on.

use std::time::Duration;

use doppel_docker::DockerError;
use doppel_types::ProcfileError;

/// Build failures. `Display` is the user-facing message.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("Push rejected, failed to compile app (build exited with status {exit_code})")]
    CompileFailed { exit_code: i64 },
    #[error("No default language could be detected for this app: add a Procfile, a Dockerfile, or a supported language's files")]
    NoBuildpack,
    #[error("no web process type: add `web: <command>` to your Procfile")]
    NoWebProcess,
    #[error("{0}")]
    BadProcfile(#[from] ProcfileError),
    #[error("build timed out after {} minutes", .0.as_secs().div_ceil(60))]
    Timeout(Duration),
    #[error("build too large: {} MB exceeds the limit of {} MB", size / 1_000_000, limit / 1_000_000)]
    TooLarge { size: u64, limit: u64 },
    #[error("Dockerfile build failed: {0}")]
    DockerfileFailed(String),
    #[error("docker: {0}")]
    Docker(#[from] DockerError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
        let context = context.into();
        move |source| BuildError::Io { context, source }
    }
}

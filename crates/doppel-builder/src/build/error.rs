//! Why a build failed, in words a `git push` user can act on.

use std::time::Duration;

use doppel_docker::DockerError;
use doppel_types::ProcfileError;

/// Build failures. `Display` is the user-facing message.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the build failed (exit status {exit_code}); the output above says why")]
    CompileFailed { exit_code: i64 },
    #[error("No default language could be detected for this app: add a Procfile, a Dockerfile, or a supported language's files")]
    NoBuildpack,
    #[error("no web process type: add `web: <command>` to your Procfile")]
    NoWebProcess,
    #[error("{0}")]
    BadProcfile(#[from] ProcfileError),
    #[error("the build ran past its time limit of {} s and was stopped; make it faster or raise the limit (doppel server --build-timeout)", .0.as_secs())]
    Timeout(Duration),
    #[error("the compiled app is too large: {:.1} MiB, over the limit of {:.1} MiB; remove what it does not need at runtime or raise the limit (doppel server --max-slug-mb)", *size as f64 / 1_048_576.0, *limit as f64 / 1_048_576.0)]
    TooLarge { size: u64, limit: u64 },
    #[error("the compiled app is too large: more than the limit of {:.1} MiB; remove what it does not need at runtime or raise the limit (doppel server --max-slug-mb)", *limit as f64 / 1_048_576.0)]
    SlugTooLarge { limit: u64 },
    #[error("{file} is larger than {} KiB, more than doppel reads; {advice}", limit / 1024)]
    FileTooLarge {
        file: &'static str,
        limit: u64,
        advice: &'static str,
    },
    #[error("the build printed a line longer than {} KiB without a newline; doppel stops reading such output to protect the server. Make the build print newlines (pipe long output through `fold`, or quiet it)", limit / 1024)]
    OutputLineTooLong { limit: u64 },
    #[error("Dockerfile build failed: {0}")]
    DockerfileFailed(String),
    #[error("docker: {0}")]
    Docker(DockerError),
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

impl From<DockerError> for BuildError {
    fn from(err: DockerError) -> BuildError {
        match err {
            DockerError::LineTooLong { limit } => BuildError::OutputLineTooLong { limit },
            other => BuildError::Docker(other),
        }
    }
}

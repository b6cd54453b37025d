//! What can go wrong with a provider: a bad manifest, an unknown service or plan, a command
//! that failed inside the add-on's container, or the container runtime itself.

use doppel_docker::DockerError;

/// Errors of the add-on providers. Messages name the service, add-on and step; they never
/// hold credentials (commands get them through their environment, which is never shown).
#[derive(Debug, thiserror::Error)]
pub enum AddonError {
    /// A manifest that cannot be used (the file names it).
    #[error("add-on manifest {source_name}: {reason}")]
    Manifest { source_name: String, reason: String },
    /// No manifest answers to the name.
    #[error("Unknown add-on service {name:?}; the services are: {known}")]
    UnknownService { name: String, known: String },
    /// The service has no such plan.
    #[error("{service} has no plan {plan:?}; its plans are: {known}")]
    UnknownPlan {
        service: String,
        plan: String,
        known: String,
    },
    /// The service's manifest offers no command for this.
    #[error("{service} add-ons do not support {what}")]
    Unsupported { service: String, what: &'static str },
    /// A command run in the add-on's container exited non-zero.
    #[error("{step} failed (exit code {code}): {stderr}")]
    CommandFailed {
        step: &'static str,
        code: i64,
        stderr: String,
    },
    /// The server did not answer its health check in time.
    #[error("{addon} did not become ready within {secs} s: {last}")]
    NotReady {
        addon: String,
        secs: u64,
        last: String,
    },
    /// A backup whose scratch restore did not give the counts the capture saw.
    #[error("verification failed: {0}")]
    Mismatch(String),
    /// Reading or writing a file on the host (backups).
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Docker(#[from] DockerError),
}

impl AddonError {
    pub(crate) fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        AddonError::Io {
            op,
            path: path.display().to_string(),
            source,
        }
    }
}

//! Errors of the container runtime, with the operation and object they concern.

/// Errors from the container runtime. Messages name the operation and object, never config values.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// Could not reach or negotiate with the Docker engine.
    #[error("cannot connect to the Docker engine: {0}")]
    Connect(String),
    /// The image, container or path does not exist.
    #[error("{what} not found: {name}")]
    NotFound { what: &'static str, name: String },
    /// A Dockerfile build reported an error (the builder's own message).
    #[error("{0}")]
    BuildFailed(String),
    /// Any other failure of an engine call.
    #[error("docker {op} {target}: {message}")]
    Engine {
        op: &'static str,
        target: String,
        message: String,
    },
    /// A container printed a line longer than the reader's limit without a newline.
    #[error("a line of output longer than {limit} bytes without a newline")]
    LineTooLong { limit: u64 },
    /// A file or tar read out of a container is past its limit.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    /// Local file I/O around a call (reading a tar to upload, writing a download).
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl DockerError {
    /// Whether this is a "not found" answer.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DockerError::NotFound { .. })
    }
}

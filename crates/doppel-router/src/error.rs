//! The router's typed errors.

use std::path::PathBuf;

/// Everything that can go wrong while setting up or running the router.
///
/// Per-request failures never surface here: they become error pages and router log lines.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// A file of the platform CA could not be read.
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of the platform CA (or the data directory) could not be written.
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The stored platform CA is unusable (unparsable, or the key does not match).
    #[error("platform CA in {path} is invalid: {reason}")]
    InvalidCa { path: PathBuf, reason: String },
    /// Certificate or key generation failed.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls rejected a key, certificate or configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// A listener could not be inspected or converted.
    #[error("listener: {0}")]
    Listener(#[source] std::io::Error),
    /// A listening address could not be bound.
    #[error("listening on {addr}: {source} (is another server using the port? choose others with --http-port/--https-port)")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A router already serves this data directory.
    #[error("a router already runs on this data directory (pid {pid}, {socket}); `doppel router --upgrade` replaces it without downtime")]
    AlreadyRunning { pid: u32, socket: PathBuf },
    /// Passing the sockets to a new router process failed (the old one keeps serving).
    #[error("hand-over: {0}")]
    Handover(String),
}

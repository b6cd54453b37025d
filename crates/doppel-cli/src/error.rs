//! `CliError`: every way a client command fails, worded for the person at the terminal.

use std::path::PathBuf;

/// Where a fresh server keeps its data (admin token, platform CA), named in hints.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/doppel";

/// A failed command. `Display` is the message shown to the user: what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("No API token configured. Set DOPPEL_API_KEY or run `doppel login` (a new server's admin token is in <data-dir>/admin-token, by default {DEFAULT_DATA_DIR}/admin-token).")]
    NoToken,

    #[error("Invalid doppel host {host:?}: {reason}. Set DOPPEL_HOST to a URL such as https://localhost:8443, or run `doppel login --host URL`.")]
    InvalidHost { host: String, reason: String },

    #[error("Could not reach doppel at {host}: {reason}. Is `doppel server` running? Set DOPPEL_HOST or run `doppel login`.")]
    Unreachable { host: String, reason: String },

    #[error("TLS connection to {host} failed: {reason}. If the server uses doppel's own certificate authority, set DOPPEL_CA_CERT to its <data-dir>/ca.pem (by default {DEFAULT_DATA_DIR}/ca.pem) or run `doppel login --ca-cert <data-dir>/ca.pem`.")]
    Tls { host: String, reason: String },

    #[error("Could not use the CA certificate {}: {reason}. Point DOPPEL_CA_CERT (or `doppel login --ca-cert`) at the server's <data-dir>/ca.pem.", path.display())]
    CaCert { path: PathBuf, reason: String },

    #[error("Invalid credentials: set DOPPEL_API_KEY or run `doppel login`.")]
    Unauthorized,

    /// An error answered by the server in Heroku's `{"id","message"}` shape.
    #[error("{message}")]
    Api {
        status: u16,
        id: String,
        message: String,
    },

    #[error("Unexpected answer from doppel at {host} (HTTP {status}): {reason}. Check that DOPPEL_HOST points at a doppel server.")]
    BadResponse {
        host: String,
        status: u16,
        reason: String,
    },

    #[error("Could not {action} {}: {source}", path.display())]
    Credentials {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("The credentials file {} is not valid: {reason}. Run `doppel login` again, or delete the file.", path.display())]
    CredentialsFormat { path: PathBuf, reason: String },

    #[error("Cannot tell where to keep credentials: neither XDG_CONFIG_HOME nor HOME is set. Set one of them, or use DOPPEL_HOST and DOPPEL_API_KEY instead of `doppel login`.")]
    NoConfigDir,

    #[error("Could not read the token from standard input: {0}")]
    Stdin(#[source] std::io::Error),

    #[error(
        "No token given. Pass --token, pipe the token on standard input, or set DOPPEL_API_KEY."
    )]
    EmptyToken,

    #[error(
        "No app specified. Name the environment with -a, e.g. `-a myapp-staging` or `-a myapp`."
    )]
    NoApp,

    #[error(
        "No app specified. Name the app with -p, e.g. `-p myapp` (or either environment with -a)."
    )]
    NoPipeline,

    #[error(transparent)]
    InvalidName(#[from] doppel_types::NameError),

    #[error("Refusing to destroy {name}: this permanently deletes both its environments ({name}-staging and {name}) with their releases, config and add-ons. To proceed, run `doppel apps:destroy {name} --confirm {name}`.")]
    ConfirmRequired { name: String },

    #[error("Refusing to destroy {name}: --confirm {given} does not match the app name. To proceed, run `doppel apps:destroy {name} --confirm {name}`.")]
    ConfirmMismatch { name: String, given: String },

    #[error("Could not write output: {0}")]
    Output(#[source] std::io::Error),

    /// The command `doppel run` ran in a dyno exited with this code; doppel exits with it.
    #[error("the command exited with status {code}")]
    Exited { code: u8 },
}

impl CliError {
    /// The exit code the process should end with, when it is not the usual 1.
    pub fn exit_code(&self) -> Option<u8> {
        match self {
            CliError::Exited { code } => Some(*code),
            _ => None,
        }
    }

    /// The server's error id for API errors (`invalid_params`, `not_found`, …).
    pub fn api_id(&self) -> Option<&str> {
        match self {
            CliError::Api { id, .. } => Some(id),
            CliError::Unauthorized => Some("unauthorized"),
            _ => None,
        }
    }
}

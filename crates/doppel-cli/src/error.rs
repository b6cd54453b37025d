//! `CliError`: every way a client command fails, worded for the person at the terminal:
//! what went wrong, then what to do.

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

    #[error("Invalid credentials: the token was refused. Set DOPPEL_API_KEY to a valid token or run `doppel login`.")]
    Unauthorized,

    /// An error answered by the server in Heroku's `{"id","message"}` shape; the hint
    /// after the message depends on the id.
    #[error("{message}{}", api_hint(id, *status))]
    Api {
        status: u16,
        id: String,
        message: String,
    },

    #[error("Unexpected answer from doppel at {host} (HTTP {status}): {reason}. Check that DOPPEL_HOST points at a doppel server of the same version as this CLI.")]
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

    #[error("The file {} is not valid: {reason}. Run `doppel login` again, or delete the file.", path.display())]
    CredentialsFormat { path: PathBuf, reason: String },

    #[error("Cannot tell where to keep credentials: HOME is not set. Set it, or use DOPPEL_HOST and DOPPEL_API_KEY instead of `doppel login`.")]
    NoConfigDir,

    #[error("Could not read the token from standard input: {0}")]
    Stdin(#[source] std::io::Error),

    #[error(
        "No token given. Pass --token, pipe the token on standard input, or set DOPPEL_API_KEY."
    )]
    EmptyToken,

    #[error("No app specified. Name one environment with -a (e.g. `-a myapp-staging` or `-a myapp`), both with -p (`-p myapp`), or run the command inside a checkout whose git remotes point at doppel (`doppel git:remote -p myapp` adds them).")]
    NoApp,

    #[error("This checkout's git remotes point at several environments ({candidates}). Choose one with -a ENV or -r REMOTE{both}.")]
    AmbiguousApp { candidates: String, both: String },

    #[error("No git remote {remote:?} pointing at this doppel server ({host}) in this checkout. `git remote -v` lists the remotes; `doppel git:remote -p APP` adds staging and production.")]
    UnknownRemote { remote: String, host: String },

    #[error("`doppel {command}` acts on one environment: use -a {app}-staging or -a {app} instead of -p {app}.")]
    OneEnvironmentOnly { command: &'static str, app: String },

    #[error("`doppel {command}` concerns the whole app: use -p {app} (or the app name) instead of -a {env}.")]
    WholeAppOnly {
        command: &'static str,
        app: String,
        env: String,
    },

    #[error(
        "No app specified. Name the app with -p, e.g. `-p myapp` (or either environment with -a)."
    )]
    NoPipeline,

    #[error(transparent)]
    InvalidName(#[from] doppel_types::NameError),

    /// A command line the server never saw was wrong (`config:set FOO`, `ps:scale web`).
    #[error("{0}")]
    Usage(String),

    #[error("Refusing to destroy {name}: this permanently deletes both its environments ({name}-staging and {name}) with their releases, config and add-ons. To proceed, run `doppel apps:destroy {name} --confirm {name}`.")]
    ConfirmRequired { name: String },

    #[error("Refusing to destroy {name}: --confirm {given} does not match the app name. To proceed, run `doppel apps:destroy {name} --confirm {name}`.")]
    ConfirmMismatch { name: String, given: String },

    #[error("Release v{version} of {env} {status}; the previous release keeps serving. `doppel releases:info v{version} -a {env}` shows it, `doppel logs -a {env}` the dynos' output.")]
    ReleaseFailed {
        env: String,
        version: i64,
        status: String,
    },

    #[error("Dyno {dyno} of {env} crashed. `doppel logs -a {env}` shows why; `doppel ps -a {env}` lists the dynos.")]
    DynoCrashed { env: String, dyno: String },

    #[error("Release {what} of {env} not found. `doppel releases -a {env}` lists its releases.")]
    NoSuchRelease { env: String, what: String },

    #[error("git {action} failed: {reason}")]
    Git { action: String, reason: String },

    #[error("Could not write output: {0}")]
    Output(#[source] std::io::Error),

    /// The command `doppel run` ran in a dyno exited with this code; doppel exits with it.
    #[error("the command exited with status {code}")]
    Exited { code: u8 },
}

/// What to do after a server error, by its id.
fn api_hint(id: &str, status: u16) -> &'static str {
    match id {
        "not_found" => " Check the name (`doppel apps` lists what you can see; members see only the environments they collaborate on).",
        "forbidden" => " Your account may not do this: ask a doppel admin.",
        "rate_limit" => " Too many requests: wait a minute, then retry.",
        "not_acceptable" => " This server does not speak the API version this CLI uses: use a doppel CLI of the server's version.",
        "unavailable" => " The server is busy or starting: retry shortly.",
        _ if status >= 500 => " The server failed: its log (`journalctl -u doppel`) has the details.",
        _ => "",
    }
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

    /// The server's message alone (without the hint), for API errors.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            CliError::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// True for a 404 `not_found` answer.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CliError::Api { status: 404, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_carry_a_hint_by_id() {
        let e = CliError::Api {
            status: 404,
            id: "not_found".into(),
            message: "Couldn't find that app.".into(),
        };
        assert!(e
            .to_string()
            .starts_with("Couldn't find that app. Check the name"));
        assert_eq!(e.api_message(), Some("Couldn't find that app."));
        let e = CliError::Api {
            status: 422,
            id: "invalid_params".into(),
            message: "Name is already taken".into(),
        };
        assert_eq!(e.to_string(), "Name is already taken");
        let e = CliError::Api {
            status: 500,
            id: "internal_server_error".into(),
            message: "boom".into(),
        };
        assert!(e.to_string().contains("journalctl"));
    }
}

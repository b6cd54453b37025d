//! Service containers, named volumes and exec, in doppel's words: what an add-on's server
//! runs as ([`ServiceSpec`]), where its data lives ([`VolumeMount`], [`VolumeInfo`]), and
//! commands run inside a running container with bounded input and output ([`ExecSpec`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::Limits;

/// A named volume mounted into a container at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeMount {
    /// The volume's name (made by [`crate::ContainerRuntime::ensure_volume`]).
    pub volume: String,
    /// Absolute path inside the container.
    pub path: String,
}

/// A long-running service container (an add-on's server): created and started with restart
/// policy "no" (the supervisor owns restarts), a tiny init as PID 1 (so processes started by
/// `exec` that outlive their parent are reaped by it, not by the service), hardened like
/// every other container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceSpec {
    pub name: String,
    pub image: String,
    /// `None` runs the image's CMD.
    pub cmd: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Id of the network the container joins (its only one).
    pub network: Option<String>,
    /// DNS names the container answers to on that network.
    pub aliases: Vec<String>,
    /// `uid[:gid]` or a user name; `None` keeps the image's USER.
    pub user: Option<String>,
    pub volumes: Vec<VolumeMount>,
    pub limits: Limits,
    /// Capabilities put back after all are dropped.
    pub cap_add: Vec<String>,
    /// Size of `/dev/shm` in bytes; `None` keeps the engine's default (64 MiB).
    pub shm_bytes: Option<u64>,
}

/// A named volume as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// What a command run with `exec` reads on its standard input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExecInput {
    /// Nothing: standard input is closed at once.
    #[default]
    Empty,
    Bytes(Vec<u8>),
    /// A file streamed in chunks (never read whole into memory).
    File(PathBuf),
}

/// Where the standard output of a command run with `exec` goes. Both are bounded: past
/// `max_bytes` the command is abandoned with [`crate::DockerError::TooLarge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutput {
    /// Kept in memory and returned in [`ExecResult::stdout`].
    Capture { max_bytes: u64 },
    /// Streamed to a new file at `path` (removed again when the limit is passed).
    File { path: PathBuf, max_bytes: u64 },
}

impl Default for ExecOutput {
    fn default() -> ExecOutput {
        ExecOutput::Capture {
            max_bytes: 1024 * 1024,
        }
    }
}

/// A command to run inside a running container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecSpec {
    pub cmd: Vec<String>,
    /// Added to the container's environment for this command only (never logged).
    pub env: BTreeMap<String, String>,
    /// `None` runs as the container's user.
    pub user: Option<String>,
    pub stdin: ExecInput,
    pub stdout: ExecOutput,
}

/// An interactive command in a running container (`pg:psql` on a terminal): its standard
/// streams are the caller's to drive ([`crate::ContainerRuntime::exec_attach`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InteractiveExec {
    pub cmd: Vec<String>,
    /// Added to the container's environment for this command only (never logged).
    pub env: BTreeMap<String, String>,
    /// `None` runs as the container's user.
    pub user: Option<String>,
    /// Allocate a terminal.
    pub tty: bool,
}

/// How an `exec` ended. Standard error is kept up to [`MAX_EXEC_STDERR`] bytes (the rest is
/// dropped), so a chatty command cannot exhaust memory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecResult {
    pub exit_code: i64,
    /// Captured standard output (empty when it went to a file).
    pub stdout: Vec<u8>,
    /// Bytes written to standard output, wherever they went.
    pub stdout_bytes: u64,
    pub stderr: Vec<u8>,
}

/// The most standard error an `exec` keeps.
pub const MAX_EXEC_STDERR: usize = 64 * 1024;

impl ExecResult {
    /// Standard error as text (lossy).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Captured standard output as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

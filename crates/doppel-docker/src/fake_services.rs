//! The fake's service containers, volumes and exec: what [`crate::FakeRuntime`] records for
//! them, and the scripted answer of an `exec` ([`FakeExecHandler`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{DockerError, ExecInput, ExecOutput, ExecResult, ExecSpec};

/// A volume the fake holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeVolume {
    pub labels: BTreeMap<String, String>,
}

/// One command run with `exec`, as the fake saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeExec {
    pub container: String,
    pub cmd: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub user: Option<String>,
    /// Everything the command read on standard input.
    pub stdin: Vec<u8>,
}

/// What a scripted command answers: exit code, standard output and error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeExecReply {
    pub exit_code: i64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

type Handler = dyn Fn(&FakeExec) -> FakeExecReply + Send + Sync;

/// The answer of every `exec`; without one, commands exit 0 with no output.
#[derive(Clone)]
pub struct FakeExecHandler(pub Arc<Handler>);

impl FakeExecHandler {
    pub fn new(f: impl Fn(&FakeExec) -> FakeExecReply + Send + Sync + 'static) -> Self {
        FakeExecHandler(Arc::new(f))
    }
}

impl std::fmt::Debug for FakeExecHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeExecHandler(..)")
    }
}

/// Reads the input an exec gets.
pub(crate) fn read_input(input: &ExecInput) -> Result<Vec<u8>, DockerError> {
    match input {
        ExecInput::Empty => Ok(Vec::new()),
        ExecInput::Bytes(b) => Ok(b.clone()),
        ExecInput::File(path) => std::fs::read(path).map_err(|source| DockerError::Io {
            op: "read",
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Delivers a scripted reply as the real runtime would: output to memory or a file, within
/// the limit, standard error truncated.
pub(crate) fn deliver(reply: FakeExecReply, spec: &ExecSpec) -> Result<ExecResult, DockerError> {
    let too_large = |limit| DockerError::TooLarge {
        what: "the command's output".to_string(),
        limit,
    };
    let mut result = ExecResult {
        exit_code: reply.exit_code,
        stdout_bytes: reply.stdout.len() as u64,
        stderr: reply.stderr,
        ..Default::default()
    };
    result.stderr.truncate(crate::MAX_EXEC_STDERR);
    match &spec.stdout {
        ExecOutput::Capture { max_bytes } => {
            if result.stdout_bytes > *max_bytes {
                return Err(too_large(*max_bytes));
            }
            result.stdout = reply.stdout;
        }
        ExecOutput::File { path, max_bytes } => {
            if result.stdout_bytes > *max_bytes {
                return Err(too_large(*max_bytes));
            }
            std::fs::write(path, &reply.stdout).map_err(|source| DockerError::Io {
                op: "write",
                path: path.display().to_string(),
                source,
            })?;
        }
    }
    Ok(result)
}

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

/// An interactive command on the fake: it reads its standard input to the end, then answers
/// what the [`FakeExecHandler`] says for that input (standard output then error) and ends
/// with its exit code, recorded under the exec's id in `exec_exits`.
pub(crate) fn exec_attach(
    shared: Arc<std::sync::Mutex<crate::FakeState>>,
    container: &str,
    spec: crate::InteractiveExec,
) -> Result<(String, crate::AttachIo), DockerError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncReadExt;
    let handler = {
        let st = shared.lock().unwrap_or_else(|e| e.into_inner());
        if !st.containers.get(container).is_some_and(|c| c.running) {
            return Err(DockerError::Engine {
                op: "exec",
                target: container.to_string(),
                message: "container is not running".to_string(),
            });
        }
        st.script.exec_handler.clone()
    };
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let exec_id = format!(
        "exec-{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    let (tx, rx) = tokio::sync::oneshot::channel::<Vec<u8>>();
    let exec = FakeExec {
        container: container.to_string(),
        cmd: spec.cmd,
        env: spec.env,
        user: spec.user,
        stdin: Vec::new(),
    };
    let id = exec_id.clone();
    tokio::spawn(async move {
        let mut exec = exec;
        let _ = server.read_to_end(&mut exec.stdin).await;
        let reply = handler.map(|h| (h.0)(&exec)).unwrap_or_default();
        {
            let mut st = shared.lock().unwrap_or_else(|e| e.into_inner());
            st.execs.push(exec);
            st.exec_exits.insert(id, reply.exit_code);
        }
        let _ = tx.send([reply.stdout, reply.stderr].concat());
    });
    let output = futures_util::stream::once(rx)
        .filter_map(|r| async move { r.ok().filter(|b| !b.is_empty()) })
        .map(|b| Ok(bytes::Bytes::from(b)));
    Ok((
        exec_id,
        crate::AttachIo {
            output: Box::pin(output),
            input: Box::pin(client),
        },
    ))
}

//! Runs a host command, streaming its stdout and stderr lines as progress.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use super::StackError;

async fn forward(reader: impl AsyncRead + Unpin, progress: mpsc::Sender<String>) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let _ = progress.send(line).await;
    }
}

/// Runs `program args…`; every output line goes to `progress`. Non-zero exit is an error.
pub(crate) async fn run(
    program: &str,
    args: &[String],
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| StackError::Spawn {
            program: program.to_string(),
            source,
        })?;
    let out = child
        .stdout
        .take()
        .map(|o| tokio::spawn(forward(o, progress.clone())));
    let err = child
        .stderr
        .take()
        .map(|e| tokio::spawn(forward(e, progress.clone())));
    let status = child.wait().await.map_err(|source| StackError::Spawn {
        program: program.to_string(),
        source,
    })?;
    for task in [out, err].into_iter().flatten() {
        let _ = task.await;
    }
    if status.success() {
        Ok(())
    } else {
        Err(StackError::CommandFailed {
            command: format!("{program} {}", args.join(" ")),
            status: status.code(),
        })
    }
}

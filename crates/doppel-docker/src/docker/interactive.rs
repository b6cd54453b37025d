//! Interactive commands in running containers (`pg:psql`, `redis:cli` on a terminal): an
//! exec with its standard input open and, when asked, a terminal; the caller drives both
//! streams, sizes the terminal and reads the exit code once the output has ended.

use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;

use super::util::engine;
use crate::{AttachIo, DockerError, InteractiveExec};

pub(crate) async fn exec_attach(
    docker: &Docker,
    container: &str,
    spec: InteractiveExec,
) -> Result<(String, AttachIo), DockerError> {
    let target = format!(
        "{container}: {}",
        spec.cmd.first().map_or("", String::as_str)
    );
    let options = CreateExecOptions::<String> {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(spec.tty),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        cmd: Some(spec.cmd.clone()),
        user: spec.user.clone(),
        ..Default::default()
    };
    let created = docker
        .create_exec(container, options)
        .await
        .map_err(|e| engine("exec", &target, e))?;
    let started = docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: spec.tty,
                output_capacity: Some(64 * 1024),
            }),
        )
        .await
        .map_err(|e| engine("exec", &target, e))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(DockerError::Engine {
            op: "exec",
            target,
            message: "the engine did not attach to the command".to_string(),
        });
    };
    let output = output.map(move |item| match item {
        Ok(out) => Ok(out.into_bytes()),
        Err(e) => Err(engine("exec output", &target, e)),
    });
    Ok((
        created.id,
        AttachIo {
            output: Box::pin(output),
            input,
        },
    ))
}

pub(crate) async fn resize_exec(
    docker: &Docker,
    exec_id: &str,
    rows: u16,
    cols: u16,
) -> Result<(), DockerError> {
    let options = ResizeExecOptions {
        height: rows,
        width: cols,
    };
    docker
        .resize_exec(exec_id, options)
        .await
        .map_err(|e| engine("resize terminal of", exec_id, e))
}

pub(crate) async fn exit_code(docker: &Docker, exec_id: &str) -> Result<Option<i64>, DockerError> {
    let inspected = docker
        .inspect_exec(exec_id)
        .await
        .map_err(|e| engine("inspect exec", exec_id, e))?;
    Ok(match inspected.running {
        Some(true) => None,
        _ => inspected.exit_code,
    })
}

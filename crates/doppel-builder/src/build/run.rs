//! Running a started build container to completion: live log lines, the timeout, the exit code.

use std::time::Duration;

use doppel_docker::{ContainerRuntime, DockerError};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::BuildError;

/// Streams the container's output to `log` until it exits; returns its exit code. Past
/// `timeout` the container is killed and the build fails with [`BuildError::Timeout`].
pub(crate) async fn follow(
    rt: &dyn ContainerRuntime,
    container: &str,
    log: &mpsc::Sender<String>,
    timeout: Duration,
) -> Result<i64, BuildError> {
    let work = async {
        let mut lines = rt.logs(container).await?;
        // Forward lines until the output ends; output doppel refuses to read (a line with no
        // end) stops the build.
        let forward = async {
            while let Some(line) = lines.next().await {
                match line {
                    Ok(line) => {
                        let _ = log.send(line).await;
                    }
                    Err(e @ DockerError::LineTooLong { .. }) => return Err(BuildError::from(e)),
                    Err(e) => {
                        tracing::warn!(container, error = %e, "build log stream broke");
                        break;
                    }
                }
            }
            Ok(())
        };
        tokio::pin!(forward);
        let wait = rt.wait(container);
        tokio::pin!(wait);
        // The exit code is read only after every line was forwarded, or the output was refused.
        let mut forwarded = false;
        loop {
            tokio::select! {
                done = &mut forward, if !forwarded => {
                    done?;
                    forwarded = true;
                }
                code = &mut wait, if forwarded => return Ok::<i64, BuildError>(code?),
            }
        }
    };
    let outcome = tokio::time::timeout(timeout, work).await;
    let result = match outcome {
        Ok(result) => result,
        Err(_) => Err(BuildError::Timeout(timeout)),
    };
    if result.is_err() {
        if let Err(e) = rt.kill(container).await {
            tracing::warn!(container, error = %e, "could not kill a stopped build");
        }
    }
    result
}

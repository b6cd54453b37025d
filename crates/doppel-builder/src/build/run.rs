//! Running a started build container to completion: live log lines, the timeout, the exit code.

use std::time::Duration;

use doppel_docker::ContainerRuntime;
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
        let forward = async {
            while let Some(line) = lines.next().await {
                match line {
                    Ok(line) => {
                        let _ = log.send(line).await;
                    }
                    Err(e) => {
                        tracing::warn!(container, error = %e, "build log stream broke");
                        break;
                    }
                }
            }
        };
        let (code, ()) = tokio::join!(rt.wait(container), forward);
        Ok::<i64, BuildError>(code?)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => {
            if let Err(e) = rt.kill(container).await {
                tracing::warn!(container, error = %e, "could not kill a timed-out build");
            }
            Err(BuildError::Timeout(timeout))
        }
    }
}

//! Dockerfile builds: the pushed tree is the context of a classic-builder build.

use doppel_docker::{ContainerRuntime, DockerError, DockerfileBuild};
use doppel_types::{ImageKind, ProcessTypes, Procfile};
use tokio::sync::mpsc;

use super::source::SourceInfo;
use super::{image_labels, image_tag, BuildError, BuildOutput, BuildRequest, LABEL_ROLE};

/// Turns the engine's complaint about a missing base image into advice.
fn explain(message: String, run_image: &str) -> String {
    let lower = message.to_lowercase();
    let missing_base = lower.contains("pull access denied")
        || lower.contains("repository does not exist")
        || lower.contains("no such host")
        || (lower.contains("manifest") && lower.contains("not found"))
        || lower.contains("dial tcp")
        || lower.contains("registry");
    if missing_base {
        format!("{message}\nno image can be pulled (this platform has no registry access): FROM must name a local image such as {run_image}")
    } else {
        message
    }
}

/// A sender whose lines reach `log` indented as buildpack detail lines (7 spaces), and the
/// task doing it, which ends when every clone of the sender is dropped.
fn indented(log: &mpsc::Sender<String>) -> (mpsc::Sender<String>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let log = log.clone();
    let task = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if log.send(format!("       {line}")).await.is_err() {
                break;
            }
        }
    });
    (tx, task)
}

pub(crate) async fn build(
    rt: &dyn ContainerRuntime,
    req: &BuildRequest,
    source: SourceInfo,
    log: &mpsc::Sender<String>,
) -> Result<BuildOutput, BuildError> {
    // Validate the Procfile before spending time on the build.
    let process_types: ProcessTypes = match &source.procfile {
        Some(bytes) => Procfile::parse(bytes)?.types,
        None => ProcessTypes::new(),
    };
    let tag = image_tag(req);
    let mut labels = image_labels(req, ImageKind::Dockerfile);
    labels.insert(LABEL_ROLE.to_string(), "release".to_string());
    let spec = DockerfileBuild {
        context: req.source_tar.clone(),
        tag: tag.clone(),
        labels,
        network: req.network.clone(),
        limits: req.limits.resources,
    };
    let _ = log
        .send("-----> Building with the app's Dockerfile (local images only)".to_string())
        .await;
    let (lines, indenter) = indented(log);
    let outcome = tokio::time::timeout(req.limits.timeout, rt.build_dockerfile(spec, lines)).await;
    let _ = indenter.await;
    let image_id = match outcome {
        Err(_) => return Err(BuildError::Timeout(req.limits.timeout)),
        Ok(Err(DockerError::BuildFailed(message))) => {
            let run_image = req.stack.run_image.trim_end_matches(":latest");
            return Err(BuildError::DockerfileFailed(explain(message, run_image)));
        }
        Ok(Err(e)) => return Err(e.into()),
        Ok(Ok(id)) => id,
    };
    let size_bytes = rt.image_info(&tag).await?.map(|i| i.size).unwrap_or(0);
    if size_bytes > req.limits.max_slug_bytes {
        if let Err(e) = rt.remove_image(&tag).await {
            tracing::warn!(image = %tag, error = %e, "could not remove an oversized image");
        }
        return Err(BuildError::TooLarge {
            size: size_bytes,
            limit: req.limits.max_slug_bytes,
        });
    }
    tracing::info!(build = %req.build_id, image = %tag, "dockerfile build finished");
    Ok(BuildOutput {
        image_id,
        image_tag: tag,
        kind: ImageKind::Dockerfile,
        process_types,
        buildpack: None,
        stack: req.stack.stack.clone(),
        size_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn explains_missing_base_images() {
        let m = explain(
            "pull access denied for nope, repository does not exist".into(),
            "doppel/heroku-24",
        );
        assert!(m.contains("FROM must name a local image such as doppel/heroku-24"));
        assert_eq!(explain("RUN failed".into(), "x"), "RUN failed");
    }
}

//! Helpers shared by the Docker calls: error mapping, tar bodies, splitting `repo:tag`.

use bollard::errors::Error as BollardError;
use bollard::models::HostConfig;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use tokio_util::io::ReaderStream;

use crate::{DockerError, Limits, TarSource};

/// The hardened part of every container's host config: all capabilities dropped but
/// `cap_add`, `no-new-privileges`, and the limits (CPUs clamped to the engine's `ncpu`).
pub(crate) fn hardened(limits: &Limits, cap_add: &[String], ncpu: f64) -> HostConfig {
    let memory = limits.memory.and_then(|m| i64::try_from(m).ok());
    let nano_cpus = limits.cpus.map(|c| (c.min(ncpu).max(0.01) * 1e9) as i64);
    HostConfig {
        memory,
        memory_swap: memory,
        nano_cpus,
        pids_limit: limits.pids.and_then(|p| i64::try_from(p).ok()),
        cap_drop: Some(vec!["ALL".to_string()]),
        cap_add: (!cap_add.is_empty()).then(|| cap_add.to_vec()),
        security_opt: Some(vec!["no-new-privileges".to_string()]),
        ..Default::default()
    }
}

/// Maps a bollard error for operation `op` on `target`: 404 becomes `NotFound`.
pub(crate) fn engine(op: &'static str, target: &str, e: BollardError) -> DockerError {
    match e {
        BollardError::DockerResponseServerError {
            status_code: 404,
            message,
        } => DockerError::NotFound {
            what: op,
            name: format!("{target} ({message})"),
        },
        BollardError::DockerResponseServerError { message, .. } => DockerError::Engine {
            op,
            target: target.to_string(),
            message,
        },
        other => DockerError::Engine {
            op,
            target: target.to_string(),
            message: other.to_string(),
        },
    }
}

/// Whether a bollard error is the engine's 404 (or 304 "not modified" for no-op stop/kill).
pub(crate) fn is_status(e: &BollardError, codes: &[u16]) -> bool {
    matches!(e, BollardError::DockerResponseServerError { status_code, .. } if codes.contains(status_code))
}

/// The bytes of `tar` as a stream (a file is read in chunks, never whole).
pub(crate) async fn tar_stream(
    tar: TarSource,
) -> Result<BoxStream<'static, Result<Bytes, std::io::Error>>, DockerError> {
    match tar {
        TarSource::Bytes(b) => {
            Ok(futures_util::stream::once(async move { Ok(Bytes::from(b)) }).boxed())
        }
        TarSource::File(path) => {
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|source| DockerError::Io {
                    op: "open",
                    path: path.display().to_string(),
                    source,
                })?;
            Ok(ReaderStream::with_capacity(file, 256 * 1024).boxed())
        }
    }
}

/// Splits `repo:tag` (the tag defaults to `latest`; a registry port is not a tag).
pub(crate) fn split_repo_tag(repo_tag: &str) -> (String, String) {
    match repo_tag.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (repo_tag.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tags() {
        assert_eq!(split_repo_tag("a/b:1"), ("a/b".into(), "1".into()));
        assert_eq!(split_repo_tag("a/b"), ("a/b".into(), "latest".into()));
        assert_eq!(
            split_repo_tag("h:5000/b"),
            ("h:5000/b".into(), "latest".into())
        );
    }
}

//! Image operations: inspect, `docker import`, classic Dockerfile builds, tag, remove.

use std::collections::{BTreeMap, HashMap};

use bollard::query_parameters::{
    BuildImageOptions, CreateImageOptions, RemoveImageOptions, TagImageOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::util::{engine, is_status, split_repo_tag, tar_stream};
use crate::{DockerError, DockerfileBuild, ImageInfo, LineSplitter, TarSource};

pub(crate) async fn image_info(
    docker: &Docker,
    name: &str,
) -> Result<Option<ImageInfo>, DockerError> {
    match docker.inspect_image(name).await {
        Ok(img) => {
            let config = img.config.unwrap_or_default();
            Ok(Some(ImageInfo {
                id: img.id.unwrap_or_default(),
                size: img.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                labels: config.labels.unwrap_or_default().into_iter().collect(),
                cmd: config.cmd,
            }))
        }
        Err(e) if is_status(&e, &[404]) => Ok(None),
        Err(e) => Err(engine("inspect image", name, e)),
    }
}

pub(crate) async fn import_rootfs(
    docker: &Docker,
    rootfs: TarSource,
    repo_tag: &str,
    changes: &[String],
) -> Result<String, DockerError> {
    let (repo, tag) = split_repo_tag(repo_tag);
    let options = CreateImageOptions {
        from_src: Some("-".to_string()),
        repo: Some(repo),
        tag: Some(tag),
        changes: changes.to_vec(),
        ..Default::default()
    };
    let body = bollard::body_try_stream(tar_stream(rootfs).await?);
    let mut stream = docker.create_image(Some(options), Some(body), None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| engine("import", repo_tag, e))?;
        if let Some(detail) = info.error_detail {
            return Err(DockerError::Engine {
                op: "import",
                target: repo_tag.to_string(),
                message: detail.message.unwrap_or_default(),
            });
        }
    }
    let info = image_info(docker, repo_tag)
        .await?
        .ok_or_else(|| DockerError::NotFound {
            what: "imported image",
            name: repo_tag.to_string(),
        })?;
    Ok(info.id)
}

/// CPU quota period of Dockerfile `RUN` steps (the engine's default, 100 ms).
const CPU_PERIOD: i32 = 100_000;

pub(crate) async fn build_dockerfile(
    docker: &Docker,
    build: DockerfileBuild,
    log: mpsc::Sender<String>,
    ncpu: f64,
) -> Result<String, DockerError> {
    let labels: HashMap<String, String> = build.labels.clone().into_iter().collect();
    // The build API takes memory as a 32-bit number: larger limits are capped just under 2 GiB.
    let memory = build
        .limits
        .memory
        .map(|m| i32::try_from(m).unwrap_or(i32::MAX));
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".to_string(),
        t: Some(build.tag.clone()),
        rm: true,
        forcerm: true,
        labels: Some(labels),
        // Never the host's network: RUN steps join the network the caller names, or none.
        networkmode: Some(build.network.clone().unwrap_or_else(|| "none".to_string())),
        memory,
        memswap: memory,
        cpuperiod: build.limits.cpus.map(|_| CPU_PERIOD),
        cpuquota: build
            .limits
            .cpus
            .map(|c| (c.min(ncpu).max(0.01) * f64::from(CPU_PERIOD)) as i32),
        ..Default::default()
    };
    let body = bollard::body_try_stream(tar_stream(TarSource::File(build.context.clone())).await?);
    let mut stream = docker.build_image(options, None, Some(body));
    let mut splitter = LineSplitter::default();
    let mut image_id = None;
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(DockerError::BuildFailed(error))
            }
            Err(e) => return Err(engine("build", &build.tag, e)),
        };
        if let Some(detail) = info.error_detail {
            return Err(DockerError::BuildFailed(detail.message.unwrap_or_default()));
        }
        if let Some(text) = info.stream {
            for line in splitter.push(text.as_bytes())? {
                // A closed receiver only means nobody listens any more.
                let _ = log.send(line).await;
            }
        }
        if let Some(id) = info.aux {
            image_id = id.id;
        }
    }
    if let Some(rest) = splitter.finish() {
        let _ = log.send(rest).await;
    }
    match image_id {
        Some(id) => Ok(id),
        None => image_info(docker, &build.tag)
            .await?
            .map(|i| i.id)
            .ok_or_else(|| {
                DockerError::BuildFailed(format!("build produced no image {}", build.tag))
            }),
    }
}

pub(crate) async fn tag_image(
    docker: &Docker,
    image: &str,
    repo_tag: &str,
) -> Result<(), DockerError> {
    let (repo, tag) = split_repo_tag(repo_tag);
    let options = TagImageOptions {
        repo: Some(repo),
        tag: Some(tag),
    };
    docker
        .tag_image(image, Some(options))
        .await
        .map_err(|e| engine("tag image", image, e))
}

pub(crate) async fn remove_image(docker: &Docker, name: &str) -> Result<(), DockerError> {
    let options = RemoveImageOptions {
        force: true,
        ..Default::default()
    };
    match docker.remove_image(name, Some(options), None).await {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, &[404]) => Ok(()),
        Err(e) => Err(engine("remove image", name, e)),
    }
}

/// Labels as the engine wants them.
pub(crate) fn to_hash(labels: &BTreeMap<String, String>) -> HashMap<String, String> {
    labels.clone().into_iter().collect()
}

//! Stack images: the run image (`doppel/heroku-24`) made from Debian's archive with
//! debootstrap and imported, and the build image (`doppel/heroku-24-build`) built FROM it.
//! The package lists and their heroku-24 mapping are in [`packages`].

pub mod packages;
mod process;
mod rootfs;

use std::collections::BTreeMap;
use std::time::Instant;

use doppel_docker::{ContainerRuntime, DockerError, DockerfileBuild, TarSource};
use tokio::sync::mpsc;

use packages::BUILD_PACKAGES;

/// Label carried by both stack images (value: the stack name).
pub const LABEL_STACK: &str = "doppel.stack";

/// Where the stack comes from and what its images are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    /// Stack name reported to clients (`heroku-24`).
    pub name: String,
    pub run_image: String,
    pub build_image: String,
    /// Debian mirror (plain HTTP works from the host and from containers).
    pub mirror: String,
    /// Debian suite heroku-24 is mapped to.
    pub suite: String,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            name: "heroku-24".to_string(),
            run_image: "doppel/heroku-24:latest".to_string(),
            build_image: "doppel/heroku-24-build:latest".to_string(),
            mirror: "http://deb.debian.org/debian".to_string(),
            suite: "bookworm".to_string(),
        }
    }
}

/// The stack's images, ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImages {
    /// Stack name (`heroku-24`).
    pub stack: String,
    /// Run image name (`repo:tag`).
    pub run_image: String,
    /// Build image name (`repo:tag`).
    pub build_image: String,
}

/// Why the stack could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("cannot run {program} (is it installed, and are we root?): {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed with exit status {status:?}")]
    CommandFailed {
        command: String,
        status: Option<i32>,
    },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("stack image {image}: {source}")]
    Docker {
        image: String,
        #[source]
        source: DockerError,
    },
}

impl StackConfig {
    fn images(&self) -> StackImages {
        StackImages {
            stack: self.name.clone(),
            run_image: self.run_image.clone(),
            build_image: self.build_image.clone(),
        }
    }
}

fn docker_err(image: &str) -> impl FnOnce(DockerError) -> StackError + '_ {
    move |source| StackError::Docker {
        image: image.to_string(),
        source,
    }
}

/// Makes sure both stack images exist; with `force` (or when one is missing) rebuilds them.
/// Progress lines (debootstrap's and docker build's output) go to `progress`.
pub async fn ensure_stack(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    force: bool,
    progress: mpsc::Sender<String>,
) -> Result<StackImages, StackError> {
    let run = rt
        .image_info(&cfg.run_image)
        .await
        .map_err(docker_err(&cfg.run_image))?;
    let build = rt
        .image_info(&cfg.build_image)
        .await
        .map_err(docker_err(&cfg.build_image))?;
    if !force && build.is_some() && run.is_some() {
        return Ok(cfg.images());
    }
    let started = Instant::now();
    if force || run.is_none() {
        build_run_image(rt, cfg, &progress).await?;
    }
    build_build_image(rt, cfg, &progress).await?;
    let _ = progress
        .send(format!(
            "stack {} ready in {}s",
            cfg.name,
            started.elapsed().as_secs()
        ))
        .await;
    tracing::info!(stack = %cfg.name, secs = started.elapsed().as_secs(), "stack images built");
    Ok(cfg.images())
}

async fn build_run_image(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let dir = tempfile::tempdir().map_err(|source| StackError::Io {
        op: "create temporary directory",
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let root = dir.path().join("rootfs");
    let tar = dir.path().join("rootfs.tar");
    let _ = progress
        .send(format!(
            "debootstrap {} from {} (minbase + run packages)",
            cfg.suite, cfg.mirror
        ))
        .await;
    rootfs::debootstrap(cfg, &root, progress).await?;
    rootfs::customize(&root, progress).await?;
    rootfs::tar_rootfs(&root, &tar, progress).await?;
    let _ = progress.send(format!("importing {}", cfg.run_image)).await;
    let changes = vec![
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        "ENV LANG=C.UTF-8".to_string(),
        "ENV HOME=/app".to_string(),
        "WORKDIR /app".to_string(),
        "USER heroku".to_string(),
        "CMD [\"/bin/bash\"]".to_string(),
        format!("LABEL {LABEL_STACK}={}", cfg.name),
    ];
    rt.import_rootfs(TarSource::File(tar), &cfg.run_image, &changes)
        .await
        .map_err(docker_err(&cfg.run_image))?;
    Ok(())
}

/// The build image's Dockerfile: compilers and headers on top of the run image.
pub fn build_dockerfile(run_image: &str) -> String {
    format!(
        "FROM {run_image}\nUSER root\nRUN apt-get update && \\\n    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {} && \\\n    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb\nUSER heroku\n",
        BUILD_PACKAGES.join(" ")
    )
}

async fn build_build_image(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let dir = tempfile::tempdir().map_err(|source| StackError::Io {
        op: "create temporary directory",
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let context = dir.path().join("context.tar");
    let dockerfile = build_dockerfile(&cfg.run_image);
    crate::tarball::write_single_file(&context, "Dockerfile", dockerfile.as_bytes(), 0o644)
        .map_err(|source| StackError::Io {
            op: "write",
            path: context.display().to_string(),
            source,
        })?;
    let build = DockerfileBuild {
        context,
        tag: cfg.build_image.clone(),
        labels: BTreeMap::from([(LABEL_STACK.to_string(), cfg.name.clone())]),
        network_mode: Some("host".to_string()),
        memory: None,
    };
    rt.build_dockerfile(build, progress.clone())
        .await
        .map_err(docker_err(&cfg.build_image))?;
    Ok(())
}

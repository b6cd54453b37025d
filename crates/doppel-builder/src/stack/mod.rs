//! Stack images: the run image (`doppel/heroku-24`) made from Debian's archive with
//! debootstrap and imported, and the build image (`doppel/heroku-24-build`) built FROM it.
//! The package lists and their heroku-24 mapping are in [`packages`].

mod lock;
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
/// Label carried by both stack images: the fingerprint of the recipe that made them, so a
/// doppel whose package lists changed rebuilds images an older doppel made.
pub const LABEL_RECIPE: &str = "doppel.stack-recipe";

/// Bump when the way the images are made changes in a way the package lists do not show.
const RECIPE_REVISION: &str = "1";

/// The fingerprint of the stack recipe: revision, suite and both package lists.
pub fn recipe_id(cfg: &StackConfig) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [RECIPE_REVISION, cfg.suite.as_str(), cfg.name.as_str()] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    for list in [packages::RUN_PACKAGES, BUILD_PACKAGES] {
        hasher.update(list.join(" ").as_bytes());
        hasher.update(b"\0");
    }
    hasher.finalize().to_hex()[..16].to_string()
}

/// Whether an image exists but was made by doppel from another recipe. Images without
/// doppel's stack label were provided by an admin and are never rebuilt.
fn is_stale(info: Option<&doppel_docker::ImageInfo>, recipe: &str) -> bool {
    info.is_some_and(|i| {
        i.labels.contains_key(LABEL_STACK)
            && i.labels.get(LABEL_RECIPE).map(String::as_str) != Some(recipe)
    })
}

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
    let recipe = recipe_id(cfg);
    if !force && !needs(rt, cfg, &recipe).await?.1 {
        return Ok(cfg.images());
    }
    // One stack build per machine at a time; whoever waited re-checks, since the holder
    // may just have made the images.
    let _ = progress
        .send("stack images need making; taking the machine-wide stack build lock".to_string())
        .await;
    let _lock = lock::StackLock::acquire().await?;
    let (run_needed, build_needed) = match force {
        true => (true, true),
        false => needs(rt, cfg, &recipe).await?,
    };
    if !build_needed {
        return Ok(cfg.images());
    }
    if run_needed && !force {
        let _ = progress
            .send(format!(
                "stack images are missing or were made from another recipe; making them (recipe {recipe})"
            ))
            .await;
    }
    let started = Instant::now();
    if run_needed {
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

/// Which images must be (re)made: (run image, build image). A new run image means a new
/// build image too, since the build image is made FROM it.
async fn needs(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    recipe: &str,
) -> Result<(bool, bool), StackError> {
    let run = rt
        .image_info(&cfg.run_image)
        .await
        .map_err(docker_err(&cfg.run_image))?;
    let build = rt
        .image_info(&cfg.build_image)
        .await
        .map_err(docker_err(&cfg.build_image))?;
    let run_needed = run.is_none() || is_stale(run.as_ref(), recipe);
    let build_needed = run_needed || build.is_none() || is_stale(build.as_ref(), recipe);
    Ok((run_needed, build_needed))
}

/// A temporary directory for one image's inputs, removed when dropped.
fn scratch_dir() -> Result<tempfile::TempDir, StackError> {
    tempfile::tempdir().map_err(|source| StackError::Io {
        op: "create temporary directory",
        path: std::env::temp_dir().display().to_string(),
        source,
    })
}

async fn build_run_image(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let dir = scratch_dir()?;
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
        format!("LABEL {LABEL_RECIPE}={}", recipe_id(cfg)),
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
    let dir = scratch_dir()?;
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
        labels: BTreeMap::from([
            (LABEL_STACK.to_string(), cfg.name.clone()),
            (LABEL_RECIPE.to_string(), recipe_id(cfg)),
        ]),
        // Docker's default bridge: the archive is reachable, the host's loopback is not.
        network: Some("bridge".to_string()),
        limits: doppel_docker::Limits::default(),
    };
    rt.build_dockerfile(build, progress.clone())
        .await
        .map_err(docker_err(&cfg.build_image))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_docker::ImageInfo;

    fn image(labels: &[(&str, &str)]) -> ImageInfo {
        ImageInfo {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ImageInfo::default()
        }
    }

    #[test]
    fn recipe_changes_with_the_package_lists_inputs() {
        let cfg = StackConfig::default();
        assert_eq!(recipe_id(&cfg), recipe_id(&cfg));
        let other = StackConfig {
            suite: "trixie".into(),
            ..StackConfig::default()
        };
        assert_ne!(recipe_id(&cfg), recipe_id(&other));
    }

    #[test]
    fn only_doppel_made_images_from_another_recipe_are_stale() {
        let recipe = recipe_id(&StackConfig::default());
        let current = image(&[(LABEL_STACK, "heroku-24"), (LABEL_RECIPE, &recipe)]);
        let old = image(&[(LABEL_STACK, "heroku-24")]);
        let admins = image(&[]);
        assert!(!is_stale(Some(&current), &recipe));
        assert!(is_stale(Some(&old), &recipe));
        assert!(!is_stale(Some(&admins), &recipe));
        assert!(!is_stale(None, &recipe));
    }
}

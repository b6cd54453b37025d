//! Stack images: each stack's run image (`doppel/<stack>`) made from Debian's archive with
//! debootstrap and imported, and its build image (`doppel/<stack>-build`) built FROM it.
//! The stacks are in [`catalog`]; their package lists and the heroku-24 mapping in [`packages`].

pub mod catalog;
mod lock;
pub mod packages;
mod process;
mod rootfs;

use std::collections::BTreeMap;
use std::time::Instant;

use doppel_docker::{ContainerRuntime, DockerError, DockerfileBuild, TarSource};
use tokio::sync::mpsc;

pub use catalog::{find_stack, StackCatalog, StackSpec, StackStatus, UnknownStack};

/// Label carried by both stack images (value: the stack name).
pub const LABEL_STACK: &str = "doppel.stack";
/// Label carried by both stack images: the fingerprint of the recipe that made them, so a
/// doppel whose package lists changed rebuilds images an older doppel made.
pub const LABEL_RECIPE: &str = "doppel.stack-recipe";

/// Bump when the way the images are made changes in a way the package lists do not show.
const RECIPE_REVISION: &str = "1";

/// The fingerprint of the stack recipe: revision, suite, image stem and both package lists
/// (for `debian-12` the same inputs as when it was called heroku-24, so its images stay current).
pub fn recipe_id(cfg: &StackConfig) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [RECIPE_REVISION, cfg.spec.suite, cfg.spec.image_stem()] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    for list in [cfg.spec.run_packages, cfg.spec.build_packages] {
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

/// One stack to make: which, and from which Debian mirror ([`StackCatalog::config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    pub spec: &'static StackSpec,
    /// Debian mirror (plain HTTP works from the host and from containers).
    pub mirror: String,
}

/// The stack's images, ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImages {
    /// Stack name (`debian-13`).
    pub stack: String,
    /// Run image name (`repo:tag`).
    pub run_image: String,
    /// Build image name (`repo:tag`).
    pub build_image: String,
}

/// Why the stack could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Unknown(#[from] UnknownStack),
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
        self.spec.images()
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
            cfg.spec.name,
            started.elapsed().as_secs()
        ))
        .await;
    tracing::info!(stack = %cfg.spec.name, secs = started.elapsed().as_secs(), "stack images built");
    Ok(cfg.images())
}

/// Which images must be (re)made: (run image, build image). A new run image means a new
/// build image too, since the build image is made FROM it.
async fn needs(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    recipe: &str,
) -> Result<(bool, bool), StackError> {
    let (run_image, build_image) = (cfg.spec.run_image(), cfg.spec.build_image());
    let run = rt
        .image_info(&run_image)
        .await
        .map_err(docker_err(&run_image))?;
    let build = rt
        .image_info(&build_image)
        .await
        .map_err(docker_err(&build_image))?;
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
            cfg.spec.suite, cfg.mirror
        ))
        .await;
    rootfs::debootstrap(cfg, &root, progress).await?;
    rootfs::customize(&root, progress).await?;
    rootfs::tar_rootfs(&root, &tar, progress).await?;
    let run_image = cfg.spec.run_image();
    let _ = progress.send(format!("importing {run_image}")).await;
    let changes = vec![
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        "ENV LANG=C.UTF-8".to_string(),
        "ENV HOME=/app".to_string(),
        "WORKDIR /app".to_string(),
        "USER heroku".to_string(),
        "CMD [\"/bin/bash\"]".to_string(),
        format!("LABEL {LABEL_STACK}={}", cfg.spec.name),
        format!("LABEL {LABEL_RECIPE}={}", recipe_id(cfg)),
    ];
    rt.import_rootfs(TarSource::File(tar), &run_image, &changes)
        .await
        .map_err(docker_err(&run_image))?;
    Ok(())
}

/// The build image's Dockerfile: compilers and headers on top of the run image. The Release
/// file's `Valid-Until` is not enforced: testing's expires within days, and a mirror or
/// snapshot that lags behind (as debootstrap, which never checks it, already accepted for
/// the run image) must still give the same packages.
pub fn build_dockerfile(run_image: &str, packages: &[&str]) -> String {
    format!(
        "FROM {run_image}\nUSER root\nRUN apt-get -o Acquire::Check-Valid-Until=false update && \\\n    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {} && \\\n    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb\nUSER heroku\n",
        packages.join(" ")
    )
}

async fn build_build_image(
    rt: &dyn ContainerRuntime,
    cfg: &StackConfig,
    progress: &mpsc::Sender<String>,
) -> Result<(), StackError> {
    let dir = scratch_dir()?;
    let context = dir.path().join("context.tar");
    let dockerfile = build_dockerfile(&cfg.spec.run_image(), cfg.spec.build_packages);
    crate::tarball::write_single_file(&context, "Dockerfile", dockerfile.as_bytes(), 0o644)
        .map_err(|source| StackError::Io {
            op: "write",
            path: context.display().to_string(),
            source,
        })?;
    let build_image = cfg.spec.build_image();
    let build = DockerfileBuild {
        context,
        tag: build_image.clone(),
        labels: BTreeMap::from([
            (LABEL_STACK.to_string(), cfg.spec.name.to_string()),
            (LABEL_RECIPE.to_string(), recipe_id(cfg)),
        ]),
        // Docker's default bridge: the archive is reachable, the host's loopback is not.
        network: Some("bridge".to_string()),
        limits: doppel_docker::Limits::default(),
    };
    rt.build_dockerfile(build, progress.clone())
        .await
        .map_err(docker_err(&build_image))?;
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

    /// The recipe fingerprint of the heroku-24 images doppel made before the stack catalog
    /// (blake3 of revision "1", "bookworm", "heroku-24" and the two bookworm lists).
    const HEROKU_24_RECIPE: &str = "29bbd9dec2ef41ec";

    fn config(name: &str) -> StackConfig {
        let cat = StackCatalog::default();
        cat.config(cat.resolve(name).expect("stack"))
    }

    #[test]
    fn recipe_changes_with_the_stack() {
        let cfg = config("debian-12");
        assert_eq!(recipe_id(&cfg), recipe_id(&config("heroku-24")));
        assert_ne!(recipe_id(&cfg), recipe_id(&config("debian-13")));
        assert_ne!(
            recipe_id(&config("debian-13")),
            recipe_id(&config("debian-testing"))
        );
    }

    #[test]
    fn debian_12_images_made_as_heroku_24_stay_current() {
        // The fingerprint heroku-24 images carry (doppel before the stack catalog).
        assert_eq!(recipe_id(&config("debian-12")), HEROKU_24_RECIPE);
    }

    #[test]
    fn only_doppel_made_images_from_another_recipe_are_stale() {
        let recipe = recipe_id(&config("debian-12"));
        let current = image(&[(LABEL_STACK, "heroku-24"), (LABEL_RECIPE, &recipe)]);
        let old = image(&[(LABEL_STACK, "heroku-24")]);
        let admins = image(&[]);
        assert!(!is_stale(Some(&current), &recipe));
        assert!(is_stale(Some(&old), &recipe));
        assert!(!is_stale(Some(&admins), &recipe));
        assert!(!is_stale(None, &recipe));
    }
}

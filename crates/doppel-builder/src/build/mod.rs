//! Builds: a pushed tree becomes a release image, through buildpacks (default) or through the
//! app's own Dockerfile when the tree has one at its root.

mod buildpack;
mod dockerfile;
mod embedded;
mod error;
mod process_types;
mod run;
mod source;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use doppel_docker::{ContainerRuntime, Limits};
use doppel_types::{ImageKind, ProcessTypes};
use tokio::sync::mpsc;

use crate::StackImages;

pub use error::BuildError;

/// Label: environment the image/container belongs to.
pub const LABEL_ENV: &str = "doppel.env";
/// Label: build id.
pub const LABEL_BUILD: &str = "doppel.build";
/// Label: `buildpack` or `dockerfile` (release images).
pub const LABEL_KIND: &str = "doppel.kind";
/// Label: `build` on temporary build containers, so leftovers can be removed.
pub const LABEL_ROLE: &str = "doppel.role";

/// Resource limits of one build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildLimits {
    /// Wall-clock limit of the compile (or Dockerfile build).
    pub timeout: Duration,
    /// Largest allowed slug (`/app` tar) or Dockerfile image.
    pub max_slug_bytes: u64,
    /// Memory, CPUs and processes of the build container (Dockerfile builds: memory and CPUs
    /// of each `RUN` step; the engine's build API has no process limit).
    pub resources: Limits,
}

impl Default for BuildLimits {
    fn default() -> Self {
        BuildLimits {
            timeout: Duration::from_secs(15 * 60),
            max_slug_bytes: 1 << 30,
            resources: Limits {
                memory: Some(2 << 30),
                cpus: Some(2.0),
                pids: Some(4096),
            },
        }
    }
}

/// Largest Procfile doppel reads.
pub const MAX_PROCFILE_BYTES: u64 = 1024 * 1024;
/// Largest buildpack result (`bin/release` output) doppel reads.
pub const MAX_RESULT_BYTES: u64 = 1024 * 1024;

/// One build of one pushed commit.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub build_id: String,
    pub env_name: String,
    pub app_name: String,
    pub commit: String,
    /// Tar of the pushed tree (paths relative to the repository root).
    pub source_tar: PathBuf,
    /// Config vars (secrets: never logged).
    pub config: BTreeMap<String, String>,
    /// The images of the stack this build runs on (the environment's stack, chosen per build).
    pub stack: StackImages,
    /// Extra environment of the build container: the stack catalog's
    /// [`crate::StackCatalog::build_env`], the Python mirror (`DOPPEL_PYTHON_MIRROR`).
    /// Never holds secrets (they go in `config`).
    pub build_env: BTreeMap<String, String>,
    /// Host directory persisted per environment, mounted at `/cache`.
    pub cache_dir: PathBuf,
    /// Extra CA bundle mounted read-only at `/etc/ssl/certs/ca-certificates.crt`.
    pub ca_bundle: Option<PathBuf>,
    pub limits: BuildLimits,
    /// The network the build joins (by id): outbound access only, never the host's network.
    /// `None` gives the build no network at all.
    pub network: Option<String>,
    /// Image repository, e.g. `doppel/app-myapp-staging`; the tag is the build id.
    pub image_repo: String,
}

/// What a successful build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutput {
    pub image_id: String,
    /// `<image_repo>:<build_id>`.
    pub image_tag: String,
    pub kind: ImageKind,
    /// Empty for a Dockerfile build without a Procfile (web runs the image's CMD).
    pub process_types: ProcessTypes,
    /// Detected buildpack name (buildpack builds).
    pub buildpack: Option<String>,
    pub stack: String,
    pub size_bytes: u64,
}

/// Builds `req.source_tar`; every log line goes to `log` as it is produced.
pub async fn build(
    rt: &dyn ContainerRuntime,
    req: BuildRequest,
    log: mpsc::Sender<String>,
) -> Result<BuildOutput, BuildError> {
    let source = source::inspect(&req.source_tar)?;
    tracing::info!(build = %req.build_id, env = %req.env_name, dockerfile = source.has_dockerfile, "build starting");
    if source.has_dockerfile {
        dockerfile::build(rt, &req, source, &log).await
    } else {
        buildpack::build(rt, &req, &log).await
    }
}

fn image_labels(req: &BuildRequest, kind: ImageKind) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_ENV.to_string(), req.env_name.clone()),
        (LABEL_BUILD.to_string(), req.build_id.clone()),
        (LABEL_KIND.to_string(), kind.as_str().to_string()),
    ])
}

fn image_tag(req: &BuildRequest) -> String {
    format!("{}:{}", req.image_repo, req.build_id)
}

#[cfg(test)]
mod tests;

//! The `ContainerRuntime` trait: every Docker operation the builder and the control plane need.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::{
    ContainerConfig, ContainerEvent, ContainerSpec, ContainerState, DockerError, DockerfileBuild,
    DynoSpec, ExecResult, ExecSpec, HealthCheck, ImageInfo, InteractiveExec, LogLine, NetworkInfo,
    NetworkSpec, ServiceSpec, TarSource, VolumeInfo,
};

/// Output lines of a container (stdout and stderr interleaved, as produced).
pub type LineStream = Pin<Box<dyn Stream<Item = Result<String, DockerError>> + Send>>;

/// A dyno's output lines with the engine's timestamps.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<LogLine, DockerError>> + Send>>;

/// The engine's container events; the stream ends when the engine goes away.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<ContainerEvent, DockerError>> + Send>>;

/// Raw bytes out of an attached container.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, DockerError>> + Send>>;

/// Both directions of an attached container: what it prints, and its standard input.
pub struct AttachIo {
    pub output: ByteStream,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// Docker in doppel's vocabulary. Object-safe; used as `Arc<dyn ContainerRuntime>`.
#[async_trait]
pub trait ContainerRuntime: Send + Sync {
    // ----- images
    /// The image `name` (`repo:tag` or id), or `None` when it does not exist.
    async fn image_info(&self, name: &str) -> Result<Option<ImageInfo>, DockerError>;
    /// `docker import`: a rootfs tar becomes `repo_tag`; `changes` are Dockerfile
    /// instructions (`ENV`, `WORKDIR`, `USER`, `CMD`, `LABEL`, …). Returns the image id.
    async fn import_rootfs(
        &self,
        rootfs: TarSource,
        repo_tag: &str,
        changes: &[String],
    ) -> Result<String, DockerError>;
    /// Classic-builder build (never pulls; intermediate containers removed). Every output
    /// line goes to `log`; a build error becomes [`DockerError::BuildFailed`]. Returns the image id.
    async fn build_dockerfile(
        &self,
        build: DockerfileBuild,
        log: mpsc::Sender<String>,
    ) -> Result<String, DockerError>;
    /// Adds the name `repo_tag` to an image.
    async fn tag_image(&self, image: &str, repo_tag: &str) -> Result<(), DockerError>;
    /// Removes an image (forced); a missing image is not an error.
    async fn remove_image(&self, name: &str) -> Result<(), DockerError>;

    // ----- build containers
    /// Creates (does not start) a container; returns its id.
    async fn create_container(&self, spec: ContainerSpec) -> Result<String, DockerError>;
    /// Extracts `tar` into `dest` (an existing directory) in the container.
    async fn upload_tar(
        &self,
        container: &str,
        dest: &str,
        tar: TarSource,
    ) -> Result<(), DockerError>;
    async fn start(&self, container: &str) -> Result<(), DockerError>;
    /// Follows the container's output from its start until it exits.
    async fn logs(&self, container: &str) -> Result<LineStream, DockerError>;
    /// Waits for the container to exit; returns its exit code.
    async fn wait(&self, container: &str) -> Result<i64, DockerError>;
    /// Writes `path` of the container as a tar (entries named after its last component) to
    /// `dest`; returns the tar's size. A missing path is [`DockerError::NotFound`]; a tar
    /// longer than `max_bytes` stops there with [`DockerError::TooLarge`].
    async fn download_tar(
        &self,
        container: &str,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<u64, DockerError>;
    /// Commits the container as `repo_tag` with `labels` and Dockerfile-style `changes`
    /// (`WORKDIR`, `USER`, `ENV`, `CMD`, `ENTRYPOINT`); returns the image id.
    async fn commit(
        &self,
        container: &str,
        repo_tag: &str,
        labels: &BTreeMap<String, String>,
        changes: &[String],
    ) -> Result<String, DockerError>;
    /// SIGKILL; a container that is not running is not an error.
    async fn kill(&self, container: &str) -> Result<(), DockerError>;
    /// Removes the container (with `force`, also a running one); a missing one is not an error.
    async fn remove(&self, container: &str, force: bool) -> Result<(), DockerError>;

    // ----- dynos
    /// Creates and starts a dyno container; returns its id.
    async fn run_dyno(&self, spec: DynoSpec) -> Result<String, DockerError>;
    /// Creates a dyno container without starting it (to attach first); returns its id.
    async fn create_dyno(&self, spec: DynoSpec) -> Result<String, DockerError>;
    /// Attaches to a container's standard streams (before [`ContainerRuntime::start`], so no
    /// output is missed).
    async fn attach(&self, id: &str) -> Result<AttachIo, DockerError>;
    /// Sets the terminal size of a container made with `tty`.
    async fn resize_tty(&self, id: &str, rows: u16, cols: u16) -> Result<(), DockerError>;
    /// SIGTERM, then SIGKILL after `grace`; a stopped or missing container is not an error.
    async fn stop(&self, id: &str, grace: Duration) -> Result<(), DockerError>;
    /// Follows a container's output from `since` (all of it when `None`) until it exits.
    /// The last lines are never lost to the engine's race between exit and the log's end.
    async fn follow_logs(
        &self,
        id: &str,
        since: Option<time::OffsetDateTime>,
    ) -> Result<LogStream, DockerError>;
    /// The engine's container events for containers labelled `key=value`, from now on.
    async fn events(&self, label: &str) -> Result<EventStream, DockerError>;
    /// Checks once, within `timeout`, whether a dyno at `addr` passes `check`; `Err` says why not.
    async fn probe(
        &self,
        addr: SocketAddr,
        check: &HealthCheck,
        timeout: Duration,
    ) -> Result<(), String>;
    /// The container's state with its IP on `network`, or `None` when it does not exist.
    async fn inspect_container(
        &self,
        id: &str,
        network: Option<&str>,
    ) -> Result<Option<ContainerState>, DockerError>;
    /// The image and environment a container runs with, or `None` when it does not exist.
    async fn container_config(&self, id: &str) -> Result<Option<ContainerConfig>, DockerError>;
    /// Stops with `grace` before SIGKILL, then removes; a missing container is not an error.
    async fn stop_and_remove(&self, id: &str, grace: Duration) -> Result<(), DockerError>;
    /// All containers (running or not) carrying the label `key=value`.
    async fn list_containers(&self, label: &str) -> Result<Vec<ContainerState>, DockerError>;

    // ----- networks
    /// Makes sure exactly one network called `spec.name` exists and returns its id. Creation
    /// holds a machine-wide lock; duplicates left by an earlier race are removed (the oldest
    /// is kept, its containers stay). The subnet comes from `spec.pool`.
    async fn ensure_network(&self, spec: &NetworkSpec) -> Result<String, DockerError>;
    /// Networks carrying the label `key=value`, with the containers attached to them.
    async fn list_networks(&self, label: &str) -> Result<Vec<NetworkInfo>, DockerError>;
    /// Removes a network; a missing one is not an error, one with containers is.
    async fn remove_network(&self, id: &str) -> Result<(), DockerError>;
    /// Attaches a container to a network (by id); already attached is not an error.
    async fn connect_network(&self, network: &str, container: &str) -> Result<(), DockerError>;

    // ----- services, volumes and exec (add-ons)
    /// Creates and starts a service container (restart policy "no", an init as PID 1); returns
    /// its id. A volume it mounts that does not exist yet is made by the engine, unlabelled:
    /// call [`ContainerRuntime::ensure_volume`] first.
    async fn run_service(&self, spec: ServiceSpec) -> Result<String, DockerError>;
    /// Makes sure the named volume exists; `labels` are set when it is made. Existing is not
    /// an error.
    async fn ensure_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), DockerError>;
    /// Volumes carrying the label `key=value`.
    async fn list_volumes(&self, label: &str) -> Result<Vec<VolumeInfo>, DockerError>;
    /// Removes a volume and its data; a missing one is not an error, one in use is.
    async fn remove_volume(&self, name: &str) -> Result<(), DockerError>;
    /// Runs a command in a running container and waits for it to exit. Standard input,
    /// output and error are streamed and bounded (see [`ExecSpec`]); a non-zero exit is not an
    /// error, it is in [`ExecResult::exit_code`].
    async fn exec(&self, container: &str, spec: ExecSpec) -> Result<ExecResult, DockerError>;
    /// Starts an interactive command in a running container and hands back its id and both
    /// directions of its standard streams (output ends when the command does; shutting the
    /// input down is its end of input).
    async fn exec_attach(
        &self,
        container: &str,
        spec: InteractiveExec,
    ) -> Result<(String, AttachIo), DockerError>;
    /// Sets the terminal size of an interactive command started with `tty`.
    async fn resize_exec(&self, exec_id: &str, rows: u16, cols: u16) -> Result<(), DockerError>;
    /// The exit code of an interactive command, once it has ended (`None` while it runs).
    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, DockerError>;
}

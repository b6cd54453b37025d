//! `DockerRuntime`: the `ContainerRuntime` over a local Docker engine through bollard.

mod containers;
mod dynos;
mod images;
mod interactive;
mod networks;
mod probe;
mod services;
mod streams;
mod util;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bollard::Docker;
use tokio::sync::mpsc;

use crate::{
    AttachIo, ContainerConfig, ContainerRuntime, ContainerSpec, ContainerState, DockerError,
    DockerfileBuild, DynoSpec, EventStream, ExecResult, ExecSpec, HealthCheck, ImageInfo,
    InteractiveExec, LineStream, LogStream, NetworkInfo, NetworkSpec, ServiceSpec, TarSource,
    VolumeInfo,
};

/// Time allowed for long engine calls (builds, imports, commits, uploads) to answer.
const LONG_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The real runtime. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DockerRuntime {
    /// Default client (120 s response timeout).
    docker: Docker,
    /// Same engine, for calls that may take long before answering.
    long: Docker,
    /// CPUs the engine has: CPU quotas are clamped to it.
    ncpu: f64,
}

impl DockerRuntime {
    /// Connects with the local defaults (`DOCKER_HOST` or the unix socket) and negotiates the
    /// API version with the engine.
    pub async fn connect() -> Result<DockerRuntime, DockerError> {
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| DockerError::Connect(e.to_string()))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| DockerError::Connect(e.to_string()))?;
        let long = docker.clone().with_timeout(LONG_TIMEOUT);
        let info = docker
            .info()
            .await
            .map_err(|e| DockerError::Connect(e.to_string()))?;
        let ncpu = info.ncpu.filter(|n| *n > 0).unwrap_or(1) as f64;
        Ok(DockerRuntime { docker, long, ncpu })
    }
}

#[async_trait]
impl ContainerRuntime for DockerRuntime {
    async fn image_info(&self, name: &str) -> Result<Option<ImageInfo>, DockerError> {
        images::image_info(&self.docker, name).await
    }

    async fn import_rootfs(
        &self,
        rootfs: TarSource,
        repo_tag: &str,
        changes: &[String],
    ) -> Result<String, DockerError> {
        images::import_rootfs(&self.long, rootfs, repo_tag, changes).await
    }

    async fn build_dockerfile(
        &self,
        build: DockerfileBuild,
        log: mpsc::Sender<String>,
    ) -> Result<String, DockerError> {
        images::build_dockerfile(&self.long, build, log, self.ncpu).await
    }

    async fn tag_image(&self, image: &str, repo_tag: &str) -> Result<(), DockerError> {
        images::tag_image(&self.docker, image, repo_tag).await
    }

    async fn remove_image(&self, name: &str) -> Result<(), DockerError> {
        images::remove_image(&self.docker, name).await
    }

    async fn create_container(&self, spec: ContainerSpec) -> Result<String, DockerError> {
        containers::create(&self.docker, spec, self.ncpu).await
    }

    async fn upload_tar(
        &self,
        container: &str,
        dest: &str,
        tar: TarSource,
    ) -> Result<(), DockerError> {
        containers::upload_tar(&self.long, container, dest, tar).await
    }

    async fn start(&self, container: &str) -> Result<(), DockerError> {
        containers::start(&self.docker, container).await
    }

    async fn logs(&self, container: &str) -> Result<LineStream, DockerError> {
        Ok(containers::logs(&self.docker, container))
    }

    async fn wait(&self, container: &str) -> Result<i64, DockerError> {
        containers::wait(&self.docker, container).await
    }

    async fn download_tar(
        &self,
        container: &str,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<u64, DockerError> {
        containers::download_tar(&self.long, container, path, dest, max_bytes).await
    }

    async fn commit(
        &self,
        container: &str,
        repo_tag: &str,
        labels: &BTreeMap<String, String>,
        changes: &[String],
    ) -> Result<String, DockerError> {
        containers::commit(&self.long, container, repo_tag, labels, changes).await
    }

    async fn kill(&self, container: &str) -> Result<(), DockerError> {
        containers::kill(&self.docker, container).await
    }

    async fn remove(&self, container: &str, force: bool) -> Result<(), DockerError> {
        containers::remove(&self.docker, container, force).await
    }

    async fn run_dyno(&self, spec: DynoSpec) -> Result<String, DockerError> {
        dynos::run_dyno(&self.docker, spec, self.ncpu).await
    }

    async fn create_dyno(&self, spec: DynoSpec) -> Result<String, DockerError> {
        dynos::create_dyno(&self.docker, spec, self.ncpu).await
    }

    async fn attach(&self, id: &str) -> Result<AttachIo, DockerError> {
        // Attached sessions last as long as the dyno: no response timeout.
        streams::attach(&self.long, id).await
    }

    async fn resize_tty(&self, id: &str, rows: u16, cols: u16) -> Result<(), DockerError> {
        dynos::resize_tty(&self.docker, id, rows, cols).await
    }

    async fn stop(&self, id: &str, grace: Duration) -> Result<(), DockerError> {
        dynos::stop(&self.long, id, grace).await
    }

    async fn follow_logs(
        &self,
        id: &str,
        since: Option<time::OffsetDateTime>,
    ) -> Result<LogStream, DockerError> {
        Ok(streams::follow_logs(&self.docker, id, since))
    }

    async fn events(&self, label: &str) -> Result<EventStream, DockerError> {
        Ok(streams::events(&self.docker, label))
    }

    async fn probe(
        &self,
        addr: SocketAddr,
        check: &HealthCheck,
        timeout: Duration,
    ) -> Result<(), String> {
        probe::probe(addr, check, timeout).await
    }

    async fn inspect_container(
        &self,
        id: &str,
        network: Option<&str>,
    ) -> Result<Option<ContainerState>, DockerError> {
        dynos::inspect(&self.docker, id, network).await
    }

    async fn container_config(&self, id: &str) -> Result<Option<ContainerConfig>, DockerError> {
        dynos::config(&self.docker, id).await
    }

    async fn stop_and_remove(&self, id: &str, grace: Duration) -> Result<(), DockerError> {
        dynos::stop_and_remove(&self.long, id, grace).await
    }

    async fn list_containers(&self, label: &str) -> Result<Vec<ContainerState>, DockerError> {
        dynos::list(&self.docker, label).await
    }

    async fn ensure_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        networks::ensure(&self.docker, spec).await
    }

    async fn list_networks(&self, label: &str) -> Result<Vec<NetworkInfo>, DockerError> {
        networks::list(&self.docker, label).await
    }

    async fn remove_network(&self, id: &str) -> Result<(), DockerError> {
        networks::remove(&self.docker, id).await
    }

    async fn connect_network(&self, network: &str, container: &str) -> Result<(), DockerError> {
        networks::connect(&self.docker, network, container).await
    }

    async fn run_service(&self, spec: ServiceSpec) -> Result<String, DockerError> {
        services::run_service(&self.docker, spec, self.ncpu).await
    }

    async fn ensure_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), DockerError> {
        services::ensure_volume(&self.docker, name, labels).await
    }

    async fn list_volumes(&self, label: &str) -> Result<Vec<VolumeInfo>, DockerError> {
        services::list_volumes(&self.docker, label).await
    }

    async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        services::remove_volume(&self.docker, name).await
    }

    async fn exec(&self, container: &str, spec: ExecSpec) -> Result<ExecResult, DockerError> {
        services::exec(&self.long, container, spec).await
    }

    async fn exec_attach(
        &self,
        container: &str,
        spec: InteractiveExec,
    ) -> Result<(String, AttachIo), DockerError> {
        // A session lasts as long as its user types: no response timeout.
        interactive::exec_attach(&self.long, container, spec).await
    }

    async fn resize_exec(&self, exec_id: &str, rows: u16, cols: u16) -> Result<(), DockerError> {
        interactive::resize_exec(&self.docker, exec_id, rows, cols).await
    }

    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, DockerError> {
        interactive::exit_code(&self.docker, exec_id).await
    }
}

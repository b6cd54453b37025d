//! `FakeRuntime`: the one shared in-memory `ContainerRuntime` for other crates' unit tests
//! (feature `test-util`). Behaviour is scripted through [`FakeScript`]; everything done is
//! recorded in [`FakeState`] for assertions.

mod dynos;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{broadcast, mpsc};

use crate::fake_services::{self, FakeExec, FakeExecHandler, FakeVolume};
use crate::{
    AttachIo, ContainerAction, ContainerConfig, ContainerEvent, ContainerRuntime, ContainerSpec,
    ContainerState, DockerError, DockerfileBuild, DynoSpec, EventStream, ExecResult, ExecSpec,
    HealthCheck, ImageInfo, InteractiveExec, LineStream, LogStream, NetworkInfo, NetworkSpec,
    ServiceSpec, TarSource, VolumeInfo,
};

/// What the fake does when asked.
#[derive(Debug, Clone, Default)]
pub struct FakeScript {
    /// Exit code `wait` reports for started build containers.
    pub exit_code: i64,
    /// Lines `logs` yields.
    pub log_lines: Vec<String>,
    /// After its lines, `logs` yields [`DockerError::LineTooLong`] (output with no end).
    pub log_line_too_long: bool,
    /// `wait` never returns (to test timeouts).
    pub hang: bool,
    /// Path → tar bytes served by `download_tar` (any container); other paths are NotFound.
    pub downloads: BTreeMap<String, Vec<u8>>,
    /// Lines `build_dockerfile` sends.
    pub build_lines: Vec<String>,
    /// When set, `build_dockerfile` fails with this message.
    pub build_error: Option<String>,
    /// Size of images made by import, build and commit.
    pub image_size: u64,
    /// Answers every `exec`; `None`: exit 0, no output.
    pub exec_handler: Option<FakeExecHandler>,
    /// Dynos of these images never pass a health probe (they "do not listen").
    pub unhealthy_images: BTreeSet<String>,
    /// Creating a dyno of one of these images fails.
    pub failing_images: BTreeSet<String>,
    /// Lines every new dyno prints as it starts.
    pub dyno_output: Vec<String>,
    /// The address containers report on their networks (`10.0.0.2` when unset). A test that
    /// listens on `<dyno_ip>:5000` (any `127.x.y.z` is loopback) makes web dynos pass the
    /// rollout's health check.
    pub dyno_ip: Option<String>,
}

/// One container the fake made.
#[derive(Debug, Clone, Default)]
pub struct FakeContainer {
    pub spec: ContainerSpec,
    /// Set for containers made by `run_dyno`.
    pub dyno: Option<DynoSpec>,
    /// Set for containers made by `run_service`.
    pub service: Option<ServiceSpec>,
    /// (destination, tar bytes) per upload.
    pub uploads: Vec<(String, Vec<u8>)>,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub killed: bool,
    /// The container's address on its network.
    pub ip: String,
    /// Whether health probes of it pass.
    pub healthy: bool,
    /// What it printed, with when.
    pub output: Vec<(time::OffsetDateTime, String)>,
    /// Unix seconds.
    pub created: i64,
    /// The grace each `stop` was asked for.
    pub stops: Vec<Duration>,
}

/// A network the fake holds.
#[derive(Debug, Clone, Default)]
pub struct FakeNetwork {
    pub spec: Option<NetworkSpec>,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Ids of attached containers.
    pub containers: BTreeSet<String>,
}

/// A commit the fake recorded.
#[derive(Debug, Clone, Default)]
pub struct FakeCommit {
    pub container: String,
    pub repo_tag: String,
    pub labels: BTreeMap<String, String>,
    pub changes: Vec<String>,
}

/// Everything the fake holds.
#[derive(Debug, Default)]
pub struct FakeState {
    pub script: FakeScript,
    /// Images by name (`repo:tag`).
    pub images: BTreeMap<String, ImageInfo>,
    /// Live containers by id.
    pub containers: BTreeMap<String, FakeContainer>,
    /// Ids of removed containers, in order.
    pub removed: Vec<String>,
    /// Removed containers by id, as they were when removed.
    pub graveyard: BTreeMap<String, FakeContainer>,
    /// Networks by id.
    pub networks: BTreeMap<String, FakeNetwork>,
    /// Names of every network `ensure_network` was asked for, in order.
    pub network_requests: Vec<String>,
    pub commits: Vec<FakeCommit>,
    pub builds: Vec<DockerfileBuild>,
    /// (repo_tag, changes) per import.
    pub imports: Vec<(String, Vec<String>)>,
    /// Volumes by name.
    pub volumes: BTreeMap<String, FakeVolume>,
    /// Every `exec`, in order.
    pub execs: Vec<FakeExec>,
    /// What clients wrote to attached containers' standard input, by container id.
    pub stdin: BTreeMap<String, tokio::io::DuplexStream>,
    /// (container, rows, cols) per terminal resize (interactive commands: their exec id).
    pub resizes: Vec<(String, u16, u16)>,
    /// Exit codes of interactive commands that ended, by exec id.
    pub exec_exits: BTreeMap<String, i64>,
    /// Addresses probed, in order.
    pub probes: Vec<SocketAddr>,
    next_id: u64,
}

impl FakeState {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    fn add_image(&mut self, name: &str, labels: BTreeMap<String, String>) -> String {
        let id = self.id("sha256:fake");
        let size = self.script.image_size;
        self.images.insert(
            name.to_string(),
            ImageInfo {
                id: id.clone(),
                size,
                labels,
                cmd: None,
            },
        );
        id
    }

    fn container(&mut self, id: &str) -> Result<&mut FakeContainer, DockerError> {
        self.containers
            .get_mut(id)
            .ok_or_else(|| DockerError::NotFound {
                what: "container",
                name: id.to_string(),
            })
    }
}

/// Whether `labels` carry `key=value` (or just `key`, when the filter has no `=`).
fn has_label(labels: &BTreeMap<String, String>, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((key, value)) => labels.get(key).map(String::as_str) == Some(value),
        None => labels.contains_key(filter),
    }
}

/// In-memory runtime. `FakeRuntime::default()` has no images.
#[derive(Debug)]
pub struct FakeRuntime {
    state: Shared,
    events: broadcast::Sender<ContainerEvent>,
}

/// The fake's state, shared with the streams it hands out.
type Shared = Arc<Mutex<FakeState>>;

impl Default for FakeRuntime {
    fn default() -> FakeRuntime {
        FakeRuntime {
            state: Arc::new(Mutex::new(FakeState::default())),
            events: broadcast::channel(1024).0,
        }
    }
}

impl FakeRuntime {
    pub fn new() -> FakeRuntime {
        FakeRuntime::default()
    }

    /// Sends `event` to every events stream open now.
    pub fn emit(&self, event: ContainerEvent) {
        let _ = self.events.send(event);
    }

    /// Sends an event of `action` about container `id` (with its labels).
    pub fn emit_for(&self, id: &str, action: ContainerAction, exit_code: Option<i64>) {
        let labels = {
            let st = self.state();
            st.containers
                .get(id)
                .or_else(|| st.graveyard.get(id))
                .map(|c| c.spec.labels.clone())
                .unwrap_or_default()
        };
        self.emit(ContainerEvent {
            id: id.to_string(),
            action,
            labels,
            exit_code,
            time_nanos: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64,
        });
    }

    /// The container's main process exits with `code` (a crash, or `docker kill` by hand).
    pub fn crash(&self, id: &str, code: i64) {
        if let Some(c) = self.state().containers.get_mut(id) {
            c.running = false;
            c.exit_code = Some(code);
        }
        self.emit_for(id, ContainerAction::Die, Some(code));
    }

    /// The container prints `line`.
    pub fn print(&self, id: &str, line: &str) {
        if let Some(c) = self.state().containers.get_mut(id) {
            c.output
                .push((time::OffsetDateTime::now_utc(), line.to_string()));
        }
    }

    /// The state, for scripting and assertions.
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn shared(&self) -> Shared {
        self.state.clone()
    }

    /// Adds an image named `name`.
    pub fn with_image(self, name: &str) -> FakeRuntime {
        self.state().add_image(name, BTreeMap::new());
        self
    }
}

fn read_tar(tar: TarSource) -> Result<Vec<u8>, DockerError> {
    match tar {
        TarSource::Bytes(b) => Ok(b),
        TarSource::File(path) => std::fs::read(&path).map_err(|source| DockerError::Io {
            op: "read",
            path: path.display().to_string(),
            source,
        }),
    }
}

fn state_of(id: &str, c: &FakeContainer, st: &FakeState) -> ContainerState {
    let networks: BTreeMap<String, String> = st
        .networks
        .iter()
        .filter(|(_, n)| n.containers.contains(id))
        .map(|(net, _)| {
            // A scripted address stands for every container's (tests listening on it).
            let ip = st.script.dyno_ip.clone().unwrap_or_else(|| c.ip.clone());
            (net.clone(), ip)
        })
        .collect();
    ContainerState {
        id: id.to_string(),
        name: c.spec.name.clone().unwrap_or_default(),
        running: c.running,
        exit_code: c.exit_code,
        ip: if c.running {
            networks.values().next().cloned()
        } else {
            None
        },
        networks,
        labels: c.spec.labels.clone(),
        created: Some(c.created),
    }
}

#[async_trait]
impl ContainerRuntime for FakeRuntime {
    async fn image_info(&self, name: &str) -> Result<Option<ImageInfo>, DockerError> {
        Ok(self.state().images.get(name).cloned())
    }

    async fn import_rootfs(
        &self,
        rootfs: TarSource,
        repo_tag: &str,
        changes: &[String],
    ) -> Result<String, DockerError> {
        read_tar(rootfs)?;
        let mut st = self.state();
        st.imports.push((repo_tag.to_string(), changes.to_vec()));
        Ok(st.add_image(repo_tag, BTreeMap::new()))
    }

    async fn build_dockerfile(
        &self,
        build: DockerfileBuild,
        log: mpsc::Sender<String>,
    ) -> Result<String, DockerError> {
        let (lines, error) = {
            let mut st = self.state();
            st.builds.push(build.clone());
            (st.script.build_lines.clone(), st.script.build_error.clone())
        };
        for line in lines {
            let _ = log.send(line).await;
        }
        if let Some(message) = error {
            return Err(DockerError::BuildFailed(message));
        }
        Ok(self.state().add_image(&build.tag, build.labels.clone()))
    }

    async fn tag_image(&self, image: &str, repo_tag: &str) -> Result<(), DockerError> {
        let mut st = self.state();
        let info = st
            .images
            .get(image)
            .cloned()
            .ok_or_else(|| DockerError::NotFound {
                what: "image",
                name: image.to_string(),
            })?;
        st.images.insert(repo_tag.to_string(), info);
        Ok(())
    }

    async fn remove_image(&self, name: &str) -> Result<(), DockerError> {
        self.state().images.remove(name);
        Ok(())
    }

    async fn create_container(&self, spec: ContainerSpec) -> Result<String, DockerError> {
        let mut st = self.state();
        if !st.images.contains_key(&spec.image) {
            return Err(DockerError::NotFound {
                what: "image",
                name: spec.image.clone(),
            });
        }
        let id = st.id("fake-container");
        st.containers.insert(
            id.clone(),
            FakeContainer {
                spec,
                ..Default::default()
            },
        );
        Ok(id)
    }

    async fn upload_tar(
        &self,
        container: &str,
        dest: &str,
        tar: TarSource,
    ) -> Result<(), DockerError> {
        let bytes = read_tar(tar)?;
        self.state()
            .container(container)?
            .uploads
            .push((dest.to_string(), bytes));
        Ok(())
    }

    async fn start(&self, container: &str) -> Result<(), DockerError> {
        {
            let mut st = self.state();
            let output = st.script.dyno_output.clone();
            let c = st.container(container)?;
            c.running = true;
            if c.dyno.is_some() {
                let now = time::OffsetDateTime::now_utc();
                c.output.extend(output.into_iter().map(|l| (now, l)));
            }
        }
        self.emit_for(container, ContainerAction::Start, None);
        Ok(())
    }

    async fn logs(&self, container: &str) -> Result<LineStream, DockerError> {
        let mut st = self.state();
        st.container(container)?;
        let mut lines: Vec<Result<String, DockerError>> =
            st.script.log_lines.iter().cloned().map(Ok).collect();
        if st.script.log_line_too_long {
            lines.push(Err(DockerError::LineTooLong {
                limit: crate::MAX_LINE_BYTES as u64,
            }));
        }
        Ok(Box::pin(futures_util::stream::iter(lines)))
    }

    async fn wait(&self, container: &str) -> Result<i64, DockerError> {
        let (hang, code) = {
            let mut st = self.state();
            let code = st.script.exit_code;
            let hang = st.script.hang;
            let c = st.container(container)?;
            if !hang {
                c.running = false;
                c.exit_code = Some(code);
            }
            (hang, code)
        };
        if hang {
            std::future::pending::<()>().await;
        }
        Ok(code)
    }

    async fn download_tar(
        &self,
        container: &str,
        path: &str,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<u64, DockerError> {
        let bytes = {
            let mut st = self.state();
            st.container(container)?;
            st.script
                .downloads
                .get(path)
                .cloned()
                .ok_or_else(|| DockerError::NotFound {
                    what: "path",
                    name: format!("{container}:{path}"),
                })?
        };
        if bytes.len() as u64 > max_bytes {
            return Err(DockerError::TooLarge {
                what: format!("the tar of {path}"),
                limit: max_bytes,
            });
        }
        std::fs::write(dest, &bytes).map_err(|source| DockerError::Io {
            op: "write",
            path: dest.display().to_string(),
            source,
        })?;
        Ok(bytes.len() as u64)
    }

    async fn commit(
        &self,
        container: &str,
        repo_tag: &str,
        labels: &BTreeMap<String, String>,
        changes: &[String],
    ) -> Result<String, DockerError> {
        let mut st = self.state();
        st.container(container)?;
        st.commits.push(FakeCommit {
            container: container.to_string(),
            repo_tag: repo_tag.to_string(),
            labels: labels.clone(),
            changes: changes.to_vec(),
        });
        Ok(st.add_image(repo_tag, labels.clone()))
    }

    async fn kill(&self, container: &str) -> Result<(), DockerError> {
        let was_running = {
            let mut st = self.state();
            let c = st.container(container)?;
            let was = c.running;
            c.killed = true;
            c.running = false;
            c.exit_code = Some(137);
            was
        };
        if was_running {
            self.emit_for(container, ContainerAction::Die, Some(137));
        }
        Ok(())
    }

    async fn remove(&self, container: &str, _force: bool) -> Result<(), DockerError> {
        let removed = {
            let mut st = self.state();
            let removed = match st.containers.remove(container) {
                Some(c) => {
                    st.removed.push(container.to_string());
                    st.graveyard.insert(container.to_string(), c);
                    true
                }
                None => false,
            };
            for net in st.networks.values_mut() {
                net.containers.remove(container);
            }
            removed
        };
        if removed {
            self.emit_for(container, ContainerAction::Destroy, None);
        }
        Ok(())
    }

    async fn run_dyno(&self, spec: DynoSpec) -> Result<String, DockerError> {
        let id = self.create_dyno(spec).await?;
        self.start(&id).await?;
        Ok(id)
    }

    async fn create_dyno(&self, spec: DynoSpec) -> Result<String, DockerError> {
        dynos::create(&mut self.state(), spec)
    }

    async fn attach(&self, id: &str) -> Result<AttachIo, DockerError> {
        dynos::attach(self, id)
    }

    async fn resize_tty(&self, id: &str, rows: u16, cols: u16) -> Result<(), DockerError> {
        let mut st = self.state();
        st.container(id)?;
        st.resizes.push((id.to_string(), rows, cols));
        Ok(())
    }

    async fn stop(&self, id: &str, grace: Duration) -> Result<(), DockerError> {
        let was_running = {
            let mut st = self.state();
            let Some(c) = st.containers.get_mut(id) else {
                return Ok(());
            };
            c.stops.push(grace);
            let was = c.running;
            c.running = false;
            if was {
                c.exit_code = Some(143);
            }
            was
        };
        if was_running {
            self.emit_for(id, ContainerAction::Die, Some(143));
        }
        Ok(())
    }

    async fn follow_logs(
        &self,
        id: &str,
        since: Option<time::OffsetDateTime>,
    ) -> Result<LogStream, DockerError> {
        dynos::follow_logs(self, id, since)
    }

    async fn events(&self, label: &str) -> Result<EventStream, DockerError> {
        Ok(dynos::events(self.events.subscribe(), label))
    }

    async fn probe(
        &self,
        addr: SocketAddr,
        check: &HealthCheck,
        _timeout: Duration,
    ) -> Result<(), String> {
        dynos::probe(&mut self.state(), addr, check)
    }

    async fn inspect_container(
        &self,
        id: &str,
        _network: Option<&str>,
    ) -> Result<Option<ContainerState>, DockerError> {
        let st = self.state();
        Ok(st.containers.get(id).map(|c| state_of(id, c, &st)))
    }

    async fn container_config(&self, id: &str) -> Result<Option<ContainerConfig>, DockerError> {
        let st = self.state();
        Ok(st.containers.get(id).map(|c| ContainerConfig {
            // A name the fake knows stands for its image's id, as the engine resolves it.
            image_id: st
                .images
                .get(&c.spec.image)
                .map(|i| i.id.clone())
                .unwrap_or_else(|| c.spec.image.clone()),
            env: c.spec.env.clone(),
            image_env: BTreeMap::new(),
            labels: c.spec.labels.clone(),
        }))
    }

    async fn stop_and_remove(&self, id: &str, grace: Duration) -> Result<(), DockerError> {
        self.stop(id, grace).await?;
        self.remove(id, true).await
    }

    async fn list_containers(&self, label: &str) -> Result<Vec<ContainerState>, DockerError> {
        let st = self.state();
        Ok(st
            .containers
            .iter()
            .filter(|(_, c)| has_label(&c.spec.labels, label))
            .map(|(id, c)| state_of(id, c, &st))
            .collect())
    }

    async fn ensure_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        let mut st = self.state();
        st.network_requests.push(spec.name.clone());
        if let Some((id, _)) = st.networks.iter().find(|(_, n)| n.name == spec.name) {
            return Ok(id.clone());
        }
        let id = st.id("fake-network");
        let mut labels = spec.labels.clone();
        labels.insert(crate::LABEL_MANAGED.to_string(), "true".to_string());
        st.networks.insert(
            id.clone(),
            FakeNetwork {
                spec: Some(spec.clone()),
                name: spec.name.clone(),
                labels,
                containers: BTreeSet::new(),
            },
        );
        Ok(id)
    }

    async fn list_networks(&self, label: &str) -> Result<Vec<NetworkInfo>, DockerError> {
        Ok(self
            .state()
            .networks
            .iter()
            .filter(|(_, n)| has_label(&n.labels, label))
            .map(|(id, n)| NetworkInfo {
                id: id.clone(),
                name: n.name.clone(),
                labels: n.labels.clone(),
                containers: n.containers.iter().cloned().collect(),
                subnets: Vec::new(),
            })
            .collect())
    }

    async fn remove_network(&self, id: &str) -> Result<(), DockerError> {
        let mut st = self.state();
        if st
            .networks
            .get(id)
            .is_some_and(|n| !n.containers.is_empty())
        {
            return Err(DockerError::Engine {
                op: "remove network",
                target: id.to_string(),
                message: "network has active endpoints".to_string(),
            });
        }
        st.networks.remove(id);
        Ok(())
    }

    async fn connect_network(&self, network: &str, container: &str) -> Result<(), DockerError> {
        let mut st = self.state();
        st.container(container)?;
        let net = st
            .networks
            .get_mut(network)
            .ok_or_else(|| DockerError::NotFound {
                what: "network",
                name: network.to_string(),
            })?;
        net.containers.insert(container.to_string());
        Ok(())
    }

    async fn run_service(&self, spec: ServiceSpec) -> Result<String, DockerError> {
        let mut st = self.state();
        if !st.images.contains_key(&spec.image) {
            return Err(DockerError::NotFound {
                what: "image",
                name: spec.image.clone(),
            });
        }
        if let Some(net) = &spec.network {
            if !st.networks.contains_key(net) {
                return Err(DockerError::NotFound {
                    what: "network",
                    name: net.clone(),
                });
            }
        }
        if st
            .containers
            .values()
            .any(|c| c.spec.name.as_deref() == Some(&spec.name))
        {
            return Err(DockerError::Engine {
                op: "create service",
                target: spec.name.clone(),
                message: "Conflict. The container name is already in use".to_string(),
            });
        }
        for v in &spec.volumes {
            st.volumes.entry(v.volume.clone()).or_default();
        }
        let id = st.id("fake-service");
        if let Some(net) = spec.network.as_ref().and_then(|n| st.networks.get_mut(n)) {
            net.containers.insert(id.clone());
        }
        let container = FakeContainer {
            spec: ContainerSpec {
                name: Some(spec.name.clone()),
                image: spec.image.clone(),
                cmd: spec.cmd.clone(),
                env: spec.env.clone(),
                user: spec.user.clone(),
                labels: spec.labels.clone(),
                network: spec.network.clone(),
                limits: spec.limits,
                cap_add: spec.cap_add.clone(),
                ..Default::default()
            },
            service: Some(spec),
            running: true,
            ..Default::default()
        };
        st.containers.insert(id.clone(), container);
        Ok(id)
    }

    async fn ensure_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), DockerError> {
        let mut st = self.state();
        if !st.volumes.contains_key(name) {
            let mut labels = labels.clone();
            labels.insert(crate::LABEL_MANAGED.to_string(), "true".to_string());
            st.volumes.insert(name.to_string(), FakeVolume { labels });
        }
        Ok(())
    }

    async fn list_volumes(&self, label: &str) -> Result<Vec<VolumeInfo>, DockerError> {
        Ok(self
            .state()
            .volumes
            .iter()
            .filter(|(_, v)| has_label(&v.labels, label))
            .map(|(name, v)| VolumeInfo {
                name: name.clone(),
                labels: v.labels.clone(),
            })
            .collect())
    }

    async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        let mut st = self.state();
        let in_use = st.containers.values().any(|c| {
            c.service
                .as_ref()
                .is_some_and(|s| s.volumes.iter().any(|v| v.volume == name))
        });
        if in_use {
            return Err(DockerError::Engine {
                op: "remove volume",
                target: name.to_string(),
                message: "volume is in use".to_string(),
            });
        }
        st.volumes.remove(name);
        Ok(())
    }

    async fn exec(&self, container: &str, spec: ExecSpec) -> Result<ExecResult, DockerError> {
        let stdin = fake_services::read_input(&spec.stdin)?;
        let (exec, handler) = {
            let mut st = self.state();
            let c = st.container(container)?;
            if !c.running {
                return Err(DockerError::Engine {
                    op: "exec",
                    target: container.to_string(),
                    message: "container is not running".to_string(),
                });
            }
            let exec = FakeExec {
                container: container.to_string(),
                cmd: spec.cmd.clone(),
                env: spec.env.clone(),
                user: spec.user.clone(),
                stdin,
            };
            st.execs.push(exec.clone());
            (exec, st.script.exec_handler.clone())
        };
        let reply = handler.map(|h| (h.0)(&exec)).unwrap_or_default();
        fake_services::deliver(reply, &spec)
    }

    async fn exec_attach(
        &self,
        container: &str,
        spec: InteractiveExec,
    ) -> Result<(String, AttachIo), DockerError> {
        fake_services::exec_attach(self.shared(), container, spec)
    }

    async fn resize_exec(&self, exec_id: &str, rows: u16, cols: u16) -> Result<(), DockerError> {
        self.state().resizes.push((exec_id.to_string(), rows, cols));
        Ok(())
    }

    async fn exec_exit_code(&self, exec_id: &str) -> Result<Option<i64>, DockerError> {
        Ok(self.state().exec_exits.get(exec_id).copied())
    }
}

//! The values the runtime takes and returns, in doppel's words (no bollard types).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Label put on everything doppel creates (networks included).
pub const LABEL_MANAGED: &str = "doppel.managed";

/// What the runtime knows about a local image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageInfo {
    pub id: String,
    pub size: u64,
    pub labels: BTreeMap<String, String>,
    pub cmd: Option<Vec<String>>,
}

/// A tar archive to send: in memory or in a file.
#[derive(Debug, Clone)]
pub enum TarSource {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Resource limits of one container. `None` leaves a resource unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limits {
    /// Memory in bytes (swap forbidden beyond it).
    pub memory: Option<u64>,
    /// CPUs (a quota); the runtime clamps it to the CPUs the engine has.
    pub cpus: Option<f64>,
    /// Most processes and threads at once.
    pub pids: Option<u64>,
}

/// A container to create (build and helper containers; dynos use [`DynoSpec`]).
///
/// Every container the runtime creates drops all capabilities and runs with
/// `no-new-privileges`; `cap_add` puts back the few a process needs.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// Container name; `None` lets the engine choose.
    pub name: Option<String>,
    pub image: String,
    /// `None` runs the image's CMD.
    pub cmd: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    /// `uid[:gid]` or a user name; `None` keeps the image's USER.
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `host:container[:ro]`.
    pub binds: Vec<String>,
    /// A network id or name, `none`, or `None` for no network at all (never the host's).
    pub network: Option<String>,
    pub limits: Limits,
    /// Capabilities put back after all are dropped (e.g. `CHOWN`).
    pub cap_add: Vec<String>,
}

/// A Dockerfile build: context tar, tag, labels, network, limits.
#[derive(Debug, Clone, Default)]
pub struct DockerfileBuild {
    /// Tar (optionally compressed) holding the Dockerfile at its root.
    pub context: PathBuf,
    /// `repo:tag`.
    pub tag: String,
    pub labels: BTreeMap<String, String>,
    /// The network `RUN` steps join (a network id or name).
    pub network: Option<String>,
    /// Memory and CPU of each `RUN` step (the engine's build API has no pids limit).
    pub limits: Limits,
}

/// One dyno: created and started with restart policy "no" (the reconciler owns restarts).
#[derive(Debug, Clone, Default)]
pub struct DynoSpec {
    pub name: String,
    pub image: String,
    /// `None` runs the image's CMD.
    pub cmd: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Id of the environment's network, the only one the dyno joins.
    pub network: Option<String>,
    pub limits: Limits,
    /// Capabilities put back after all are dropped.
    pub cap_add: Vec<String>,
    /// Allocate a terminal (an attached one-off dyno run from a terminal).
    pub tty: bool,
    /// Keep standard input open for [`crate::ContainerRuntime::attach`] (one-off dynos).
    pub stdin: bool,
    /// The terminal's size (rows, columns) from the start, with `tty`.
    pub console: Option<(u16, u16)>,
}

/// A container as the reconciler sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerState {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    /// IP on the requested network (for `list_containers`: the first network's IP).
    pub ip: Option<String>,
    /// Network id → the container's IP on it, for every network it is attached to.
    pub networks: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// When the container was created, in Unix seconds (`None` when the engine did not say).
    pub created: Option<i64>,
}

/// How a new web dyno shows it is ready for requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HealthCheck {
    /// It accepts a TCP connection on its port (the default).
    #[default]
    Tcp,
    /// `GET path` with `Host: host` answers 2xx or 3xx.
    Http { path: String, host: String },
}

/// What happened to a container, from the engine's event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerAction {
    Start,
    /// Its main process ended (the event carries the exit code).
    Die,
    /// The kernel's OOM killer hit a process of the container.
    Oom,
    /// Removed.
    Destroy,
    /// Anything else (create, kill, stop, attach…).
    Other,
}

/// One container event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    pub id: String,
    pub action: ContainerAction,
    pub labels: BTreeMap<String, String>,
    /// For [`ContainerAction::Die`].
    pub exit_code: Option<i64>,
    /// When the engine saw it, Unix nanoseconds.
    pub time_nanos: i64,
}

/// One line a container printed, with the time the engine received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: time::OffsetDateTime,
    pub stderr: bool,
    pub text: String,
}

/// What a container runs with, for comparing a dyno with the release it claims to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerConfig {
    /// The id of the image it was created from (`sha256:…`).
    pub image_id: String,
    /// Its environment as the engine reports it (the image's `ENV` merged with the
    /// container's own variables).
    pub env: BTreeMap<String, String>,
    /// The image's own `ENV`, to tell variables the container was given from inherited ones.
    pub image_env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

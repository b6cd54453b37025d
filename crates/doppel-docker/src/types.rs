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

/// A container to create (build and helper containers; dynos use [`DynoSpec`]).
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
    /// `host`, `bridge`, or a network name.
    pub network_mode: Option<String>,
    /// Memory limit in bytes (swap forbidden when set).
    pub memory: Option<u64>,
}

/// A Dockerfile build: context tar, tag, labels, network.
#[derive(Debug, Clone, Default)]
pub struct DockerfileBuild {
    /// Tar (optionally compressed) holding the Dockerfile at its root.
    pub context: PathBuf,
    /// `repo:tag`.
    pub tag: String,
    pub labels: BTreeMap<String, String>,
    /// e.g. `host`.
    pub network_mode: Option<String>,
    pub memory: Option<u64>,
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
    /// User-defined network to attach to.
    pub network: Option<String>,
    pub memory: Option<u64>,
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
    pub labels: BTreeMap<String, String>,
}

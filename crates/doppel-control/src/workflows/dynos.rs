//! How a release's formation becomes container specs: names, labels, command and env.

use doppel_docker::{ContainerState, DynoSpec, Limits};
use doppel_store::{Environment, Release};
use doppel_types::{dyno_command, DynoSize, ImageKind, DEFAULT_DYNO_SIZE, WEB_PORT};
use std::collections::BTreeMap;

/// The container labels and roles, kept in [`crate::labels`] (the shared state reads them
/// too) and named here as well, where dyno specs are made.
pub use crate::labels::{
    HEALTHCHECK_VAR, LABEL_ATTACH, LABEL_DYNO, LABEL_ENV, LABEL_ENV_ID, LABEL_EXPIRES,
    LABEL_HEALTH, LABEL_INSTANCE, LABEL_RELEASE, LABEL_RESTARTS, LABEL_ROLE, LABEL_SIZE, ROLE_DYNO,
    ROLE_RELEASE, ROLE_RUN,
};

/// Capabilities a Dockerfile app's processes keep (they may start as root and drop to a user
/// of their own, or chown their files); buildpack apps run as `heroku` and keep none. Never
/// `NET_RAW`, `SYS_ADMIN`, `MKNOD` and the like.
pub const DOCKERFILE_CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
];

/// One dyno that should be running: `web.1` of release v3 of `myapp-staging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedDyno {
    pub process_type: String,
    pub index: i64,
    /// Dyno size name (`standard-1X`).
    pub size: String,
}

impl WantedDyno {
    pub fn name(&self) -> String {
        format!("{}.{}", self.process_type, self.index)
    }
}

/// The canonical spelling of a size name (`standard-1x` → `standard-1X`); unknown names stay.
pub fn size_name(size: &str) -> &str {
    DynoSize::find(size).map(|s| s.name).unwrap_or(size)
}

/// The limits a dyno of `size` runs with (an unknown name gets the default size).
pub fn limits(size: &str) -> Limits {
    let size = DynoSize::find(size)
        .or_else(|| DynoSize::find(DEFAULT_DYNO_SIZE))
        .copied();
    Limits {
        memory: size.map(|s| s.memory_bytes()),
        cpus: size.map(|s| s.cpus),
        pids: size.map(|s| s.max_processes),
    }
}

/// The container spec for one dyno of `release`, joining the network `network_id`.
pub fn spec(
    instance_id: &str,
    env: &Environment,
    release: &Release,
    dyno: &WantedDyno,
    config: &BTreeMap<String, String>,
    network_id: &str,
) -> Result<DynoSpec, String> {
    let cmd = dyno_command(
        release.image_kind,
        &release.process_types,
        &dyno.process_type,
    )?;
    let mut env_vars = config.clone();
    env_vars.insert("DYNO".into(), dyno.name());
    env_vars.insert("PORT".into(), WEB_PORT.to_string());
    let mut labels = BTreeMap::new();
    labels.insert(LABEL_INSTANCE.to_string(), instance_id.to_string());
    labels.insert(LABEL_ROLE.to_string(), ROLE_DYNO.to_string());
    labels.insert(LABEL_ENV.to_string(), env.name.clone());
    labels.insert(LABEL_ENV_ID.to_string(), env.id.clone());
    labels.insert(LABEL_RELEASE.to_string(), release.id.clone());
    labels.insert(LABEL_DYNO.to_string(), dyno.name());
    labels.insert(LABEL_SIZE.to_string(), size_name(&dyno.size).to_string());
    if dyno.process_type == "web" {
        if let Some(path) = config.get(HEALTHCHECK_VAR).filter(|p| p.starts_with('/')) {
            labels.insert(LABEL_HEALTH.to_string(), path.clone());
        }
    }
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    Ok(DynoSpec {
        name: format!(
            "doppel.{}.{}.v{}.{}",
            env.name,
            dyno.name(),
            release.version,
            suffix
        ),
        image: release.image_id.clone(),
        cmd,
        env: env_vars,
        labels,
        network: Some(network_id.to_string()),
        limits: limits(&dyno.size),
        cap_add: match release.image_kind {
            ImageKind::Dockerfile => DOCKERFILE_CAPS.iter().map(|c| c.to_string()).collect(),
            ImageKind::Buildpack => Vec::new(),
        },
        ..Default::default()
    })
}

/// Whether container `c` runs with dyno size `size` (names in any case). Dynos started before
/// sizes were labelled carry no label and ran the default size, the only one there was.
pub fn has_size(c: &ContainerState, size: &str) -> bool {
    c.labels
        .get(LABEL_SIZE)
        .map_or(DEFAULT_DYNO_SIZE, String::as_str)
        .eq_ignore_ascii_case(size)
}

/// The dynos a formation asks for, e.g. web=2 → web.1, web.2. The `release` type is the
/// release phase's command, never a formation dyno.
pub fn wanted(formation: &[doppel_store::FormationEntry]) -> Vec<WantedDyno> {
    formation
        .iter()
        .filter(|f| f.process_type != "release")
        .flat_map(|f| {
            (1..=f.quantity.max(0)).map(move |index| WantedDyno {
                process_type: f.process_type.clone(),
                index,
                size: f.size.clone(),
            })
        })
        .collect()
}

/// This installation's containers of every role (dynos, one-offs, release phases).
pub async fn list_all(
    state: &crate::state::AppState,
) -> Result<Vec<ContainerState>, doppel_docker::DockerError> {
    state
        .containers_with_role(&[ROLE_DYNO, ROLE_RUN, ROLE_RELEASE])
        .await
}

/// This installation's dyno containers, running or not.
pub async fn list(
    state: &crate::state::AppState,
) -> Result<Vec<ContainerState>, doppel_docker::DockerError> {
    state.containers_with_role(&[ROLE_DYNO]).await
}

/// The containers of `containers` that belong to environment `env_id`.
pub fn of_env<'a>(
    containers: &'a [ContainerState],
    env_id: &'a str,
) -> impl Iterator<Item = &'a ContainerState> {
    containers
        .iter()
        .filter(move |c| c.labels.get(LABEL_ENV_ID).map(String::as_str) == Some(env_id))
}

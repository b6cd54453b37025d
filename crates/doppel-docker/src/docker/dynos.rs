//! Dyno operations: run (create + start), inspect, stop and remove, list by label.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerSummaryStateEnum, EndpointSettings, HostConfig, NetworkingConfig,
    RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions,
    ResizeContainerTTYOptions, StopContainerOptions,
};
use bollard::Docker;

use super::images::to_hash;
use super::util::{engine, hardened, is_status};
use crate::{ContainerConfig, ContainerState, DockerError, DynoSpec};

pub(crate) async fn run_dyno(
    docker: &Docker,
    spec: DynoSpec,
    ncpu: f64,
) -> Result<String, DockerError> {
    let name = spec.name.clone();
    let id = create_dyno(docker, spec, ncpu).await?;
    if let Err(e) = docker.start_container(&id, None).await {
        let err = engine("start dyno", &name, e);
        let _ = super::containers::remove(docker, &id, true).await;
        return Err(err);
    }
    Ok(id)
}

/// Creates a dyno's container: hardened, on its environment's network only, with an init
/// process (signals reach the app, zombies are reaped) and no restart policy (the supervisor
/// owns restarts).
pub(crate) async fn create_dyno(
    docker: &Docker,
    spec: DynoSpec,
    ncpu: f64,
) -> Result<String, DockerError> {
    let networking_config = spec.network.as_ref().map(|net| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(net.clone(), EndpointSettings::default())])),
    });
    let host_config = HostConfig {
        network_mode: Some(spec.network.clone().unwrap_or_else(|| "none".to_string())),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        }),
        init: Some(true),
        console_size: spec
            .console
            .filter(|_| spec.tty)
            .map(|(rows, cols)| vec![usize::from(rows), usize::from(cols)]),
        ..hardened(&spec.limits, &spec.cap_add, ncpu)
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.cmd,
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(to_hash(&spec.labels)),
        host_config: Some(host_config),
        networking_config,
        tty: Some(spec.tty),
        open_stdin: Some(spec.stdin),
        stdin_once: Some(spec.stdin),
        attach_stdin: Some(spec.stdin),
        attach_stdout: Some(spec.stdin),
        attach_stderr: Some(spec.stdin),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(spec.name.clone()),
        ..Default::default()
    };
    Ok(docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| engine("create dyno", &spec.name, e))?
        .id)
}

/// SIGTERM, `grace`, SIGKILL; not running or missing is fine.
pub(crate) async fn stop(docker: &Docker, id: &str, grace: Duration) -> Result<(), DockerError> {
    let options = StopContainerOptions {
        t: Some(i32::try_from(grace.as_secs()).unwrap_or(i32::MAX)),
        ..Default::default()
    };
    match docker.stop_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_status(&e, &[304, 404]) => Ok(()),
        Err(e) => Err(engine("stop container", id, e)),
    }
}

/// Sizes a container's terminal; right after a start the engine may not have it ready, so a
/// failure is retried a few times (as the Docker CLI does).
pub(crate) async fn resize_tty(
    docker: &Docker,
    id: &str,
    rows: u16,
    cols: u16,
) -> Result<(), DockerError> {
    let mut attempt = 0u64;
    loop {
        let options = ResizeContainerTTYOptions {
            h: i32::from(rows),
            w: i32::from(cols),
        };
        match docker.resize_container_tty(id, options).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= 10 => return Err(engine("resize terminal of", id, e)),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(10 * attempt)).await;
            }
        }
    }
}

/// Network id → IP, from an engine's per-network endpoint map (keyed by network name).
fn ips_by_network(networks: &HashMap<String, EndpointSettings>) -> BTreeMap<String, String> {
    networks
        .values()
        .filter_map(|e| {
            let id = e.network_id.clone().filter(|id| !id.is_empty())?;
            let ip = e.ip_address.clone().filter(|ip| !ip.is_empty())?;
            Some((id, ip))
        })
        .collect()
}

pub(crate) async fn inspect(
    docker: &Docker,
    id: &str,
    network: Option<&str>,
) -> Result<Option<ContainerState>, DockerError> {
    let c = match docker.inspect_container(id, None).await {
        Ok(c) => c,
        Err(e) if is_status(&e, &[404]) => return Ok(None),
        Err(e) => return Err(engine("inspect container", id, e)),
    };
    let state = c.state.unwrap_or_default();
    let networks = c
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default();
    let by_id = ips_by_network(&networks);
    let ip = match network {
        Some(net) => networks
            .get(net)
            .and_then(|e| e.ip_address.clone())
            .or_else(|| by_id.get(net).cloned()),
        None => by_id.values().next().cloned(),
    }
    .filter(|ip| !ip.is_empty());
    let running = state.running.unwrap_or(false);
    Ok(Some(ContainerState {
        id: c.id.unwrap_or_else(|| id.to_string()),
        name: c
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        running,
        exit_code: if running { None } else { state.exit_code },
        ip,
        networks: by_id,
        labels: c
            .config
            .and_then(|c| c.labels)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        created: c.created.as_deref().and_then(unix_seconds),
    }))
}

/// `K=V` lines of an engine's `Env` as a map (a line without `=` is a variable set empty).
fn env_map(lines: Option<Vec<String>>) -> BTreeMap<String, String> {
    lines
        .unwrap_or_default()
        .into_iter()
        .map(|line| match line.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (line, String::new()),
        })
        .collect()
}

pub(crate) async fn config(
    docker: &Docker,
    id: &str,
) -> Result<Option<ContainerConfig>, DockerError> {
    let c = match docker.inspect_container(id, None).await {
        Ok(c) => c,
        Err(e) if is_status(&e, &[404]) => return Ok(None),
        Err(e) => return Err(engine("inspect container", id, e)),
    };
    let image_id = c.image.unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let image_env = match docker.inspect_image(&image_id).await {
        Ok(img) => env_map(img.config.and_then(|c| c.env)),
        Err(e) if is_status(&e, &[404]) => BTreeMap::new(),
        Err(e) => return Err(engine("inspect image", &image_id, e)),
    };
    Ok(Some(ContainerConfig {
        image_id,
        env: env_map(config.env),
        image_env,
        labels: config.labels.unwrap_or_default().into_iter().collect(),
    }))
}

pub(crate) async fn stop_and_remove(
    docker: &Docker,
    id: &str,
    grace: Duration,
) -> Result<(), DockerError> {
    stop(docker, id, grace).await?;
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        // 409: removal already in progress.
        Err(e) if is_status(&e, &[404, 409]) => Ok(()),
        Err(e) => Err(engine("remove container", id, e)),
    }
}

/// An RFC 3339 time (as the engine writes it) in Unix seconds.
fn unix_seconds(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The exit code in a summary status such as `Exited (137) 5 minutes ago`.
fn exit_code_of(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest.split(')').next()?.parse().ok()
}

pub(crate) async fn list(docker: &Docker, label: &str) -> Result<Vec<ContainerState>, DockerError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([(
            "label".to_string(),
            vec![label.to_string()],
        )])),
        ..Default::default()
    };
    let list = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| engine("list containers", label, e))?;
    Ok(list
        .into_iter()
        .map(|c| {
            let running = c.state == Some(ContainerSummaryStateEnum::RUNNING);
            let networks = c
                .network_settings
                .and_then(|n| n.networks)
                .map(|n| ips_by_network(&n))
                .unwrap_or_default();
            let ip = networks.values().next().cloned();
            ContainerState {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
                running,
                exit_code: if running {
                    None
                } else {
                    c.status.as_deref().and_then(exit_code_of)
                },
                ip,
                networks,
                labels: c.labels.unwrap_or_default().into_iter().collect(),
                created: c.created,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::exit_code_of;

    #[test]
    fn reads_env_lines() {
        let env = super::env_map(Some(vec!["A=1".into(), "B=x=y".into(), "C".into()]));
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
        assert_eq!(env.get("B").map(String::as_str), Some("x=y"));
        assert_eq!(env.get("C").map(String::as_str), Some(""));
        assert!(super::env_map(None).is_empty());
    }

    #[test]
    fn parses_exit_codes() {
        assert_eq!(exit_code_of("Exited (137) 5 minutes ago"), Some(137));
        assert_eq!(exit_code_of("Up 3 seconds"), None);
    }
}

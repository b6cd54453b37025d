//! Dyno operations: run (create + start), inspect, stop and remove, list by label, networks.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerSummaryStateEnum, EndpointSettings, HostConfig,
    NetworkCreateRequest, NetworkingConfig, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, RemoveContainerOptions,
    StopContainerOptions,
};
use bollard::Docker;

use super::images::to_hash;
use super::util::{engine, is_status};
use crate::{ContainerState, DockerError, DynoSpec, LABEL_MANAGED};

pub(crate) async fn run_dyno(docker: &Docker, spec: DynoSpec) -> Result<String, DockerError> {
    let memory = spec.memory.and_then(|m| i64::try_from(m).ok());
    let networking_config = spec.network.as_ref().map(|net| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(net.clone(), EndpointSettings::default())])),
    });
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: spec.cmd,
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(to_hash(&spec.labels)),
        host_config: Some(HostConfig {
            network_mode: spec.network.clone(),
            memory,
            memory_swap: memory,
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        networking_config,
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: Some(spec.name.clone()),
        ..Default::default()
    };
    let id = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| engine("create dyno", &spec.name, e))?
        .id;
    if let Err(e) = docker.start_container(&id, None).await {
        let err = engine("start dyno", &spec.name, e);
        let _ = super::containers::remove(docker, &id, true).await;
        return Err(err);
    }
    Ok(id)
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
    let ip = match network {
        Some(net) => networks.get(net).and_then(|e| e.ip_address.clone()),
        None => networks.values().find_map(|e| e.ip_address.clone()),
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
        labels: c
            .config
            .and_then(|c| c.labels)
            .unwrap_or_default()
            .into_iter()
            .collect(),
    }))
}

pub(crate) async fn stop_and_remove(
    docker: &Docker,
    id: &str,
    grace: Duration,
) -> Result<(), DockerError> {
    let options = StopContainerOptions {
        t: Some(i32::try_from(grace.as_secs()).unwrap_or(i32::MAX)),
        ..Default::default()
    };
    match docker.stop_container(id, Some(options)).await {
        Ok(()) => {}
        Err(e) if is_status(&e, &[304, 404]) => {}
        Err(e) => return Err(engine("stop container", id, e)),
    }
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
            let ip = c
                .network_settings
                .and_then(|n| n.networks)
                .and_then(|n| n.values().find_map(|e| e.ip_address.clone()))
                .filter(|ip| !ip.is_empty());
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
                labels: c.labels.unwrap_or_default().into_iter().collect(),
            }
        })
        .collect())
}

pub(crate) async fn ensure_network(docker: &Docker, name: &str) -> Result<(), DockerError> {
    match docker.inspect_network(name, None).await {
        Ok(_) => return Ok(()),
        Err(e) if is_status(&e, &[404]) => {}
        Err(e) => return Err(engine("inspect network", name, e)),
    }
    let request = NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".to_string()),
        labels: Some(HashMap::from([(
            LABEL_MANAGED.to_string(),
            "true".to_string(),
        )])),
        ..Default::default()
    };
    let ours = match docker.create_network(request).await {
        Ok(created) => created.id,
        // 409: created concurrently.
        Err(e) if is_status(&e, &[409]) => return Ok(()),
        Err(e) => return Err(engine("create network", name, e)),
    };
    keep_oldest_network(docker, name, &ours).await
}

/// Docker 20.10 lets two concurrent creates make two networks of one name (every later
/// `docker start` then fails with "network … is ambiguous"): each creator lists the networks
/// of that name and removes its own unless it is the oldest, so one survives.
async fn keep_oldest_network(docker: &Docker, name: &str, ours: &str) -> Result<(), DockerError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([(
            "name".to_string(),
            vec![name.to_string()],
        )])),
    };
    let mut same: Vec<(String, String)> = docker
        .list_networks(Some(options))
        .await
        .map_err(|e| engine("list networks", name, e))?
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .map(|n| (n.created.unwrap_or_default(), n.id.unwrap_or_default()))
        .collect();
    same.sort();
    match same.first() {
        Some((_, oldest)) if oldest != ours => docker
            .remove_network(ours)
            .await
            .map_err(|e| engine("remove duplicate network", name, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::exit_code_of;

    #[test]
    fn parses_exit_codes() {
        assert_eq!(exit_code_of("Exited (137) 5 minutes ago"), Some(137));
        assert_eq!(exit_code_of("Up 3 seconds"), None);
    }
}

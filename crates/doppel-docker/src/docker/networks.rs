//! Networks: created once under a machine-wide lock with an explicit subnet from doppel's
//! pool, found again by exact name, and duplicates (which Docker 20.10 allows) removed.

use std::collections::HashMap;

use bollard::models::{
    Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest,
};
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptions};
use bollard::Docker;
use ipnet::Ipv4Net;

use super::util::{engine, is_status};
use crate::{DockerError, HostLock, NetworkInfo, NetworkSpec, LABEL_MANAGED};

/// Candidate subnets tried when the engine refuses one that looked free (another process on
/// another machine-wide lock, or a network made by hand).
const MAX_SUBNET_ATTEMPTS: usize = 16;

pub(crate) async fn ensure(docker: &Docker, spec: &NetworkSpec) -> Result<String, DockerError> {
    let _lock = HostLock::acquire("networks")
        .await
        .map_err(|source| DockerError::Io {
            op: "lock",
            path: "the machine-wide network lock".to_string(),
            source,
        })?;
    if let Some(id) = keep_one(docker, &spec.name).await? {
        return Ok(id);
    }
    create(docker, spec).await?;
    keep_one(docker, &spec.name)
        .await?
        .ok_or_else(|| DockerError::Engine {
            op: "create network",
            target: spec.name.clone(),
            message: "the engine created the network but does not list it".to_string(),
        })
}

/// The id of the oldest network called exactly `name`, after removing any others.
async fn keep_one(docker: &Docker, name: &str) -> Result<Option<String>, DockerError> {
    let mut found = named(docker, name).await?;
    // Oldest first; the id breaks ties so every process keeps the same one.
    found.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut ids = found.into_iter().map(|(id, _)| id);
    let Some(keep) = ids.next() else {
        return Ok(None);
    };
    for duplicate in ids {
        tracing::warn!(network = %name, id = %duplicate, kept = %keep, "removing a duplicate network");
        remove_with_containers(docker, &duplicate).await?;
    }
    Ok(Some(keep))
}

/// (id, creation time) of every network whose name is exactly `name` (the engine's name
/// filter also matches substrings).
async fn named(
    docker: &Docker,
    name: &str,
) -> Result<Vec<(String, time::OffsetDateTime)>, DockerError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([(
            "name".to_string(),
            vec![name.to_string()],
        )])),
    };
    let list = docker
        .list_networks(Some(options))
        .await
        .map_err(|e| engine("list networks", name, e))?;
    Ok(list
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .filter_map(|n| {
            let created = n
                .created
                .as_deref()
                .and_then(|c| {
                    time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            n.id.map(|id| (id, created))
        })
        .collect())
}

/// Disconnects every container from network `id`, then removes it.
async fn remove_with_containers(docker: &Docker, id: &str) -> Result<(), DockerError> {
    if let Some(info) = inspect(docker, id).await? {
        for container in info.containers {
            let request = NetworkDisconnectRequest {
                container: container.clone(),
                force: Some(true),
            };
            match docker.disconnect_network(id, request).await {
                Ok(()) => {}
                Err(e) if is_status(&e, &[404]) => {}
                Err(e) => return Err(engine("disconnect", &container, e)),
            }
        }
    }
    remove(docker, id).await
}

/// Creates `spec` on the first subnet of its pool that no network uses.
async fn create(docker: &Docker, spec: &NetworkSpec) -> Result<(), DockerError> {
    let mut used = used_subnets(docker).await?;
    for _ in 0..MAX_SUBNET_ATTEMPTS {
        let Some(subnet) = spec.pool.first_free(&used) else {
            break;
        };
        match docker.create_network(request(spec, subnet)).await {
            Ok(_) => {
                tracing::info!(network = %spec.name, %subnet, "created network");
                return Ok(());
            }
            Err(e) if is_pool_overlap(&e) => used.push(subnet),
            Err(e) => return Err(engine("create network", &spec.name, e)),
        }
    }
    Err(DockerError::Engine {
        op: "create network",
        target: spec.name.clone(),
        message: format!(
            "no free subnet is left in {}; remove apps that are no longer used or give doppel a larger range (doppel server --network-pool)",
            spec.pool
        ),
    })
}

fn request(spec: &NetworkSpec, subnet: Ipv4Net) -> NetworkCreateRequest {
    let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
    labels.insert(LABEL_MANAGED.to_string(), "true".to_string());
    let mut options = HashMap::new();
    if !spec.inter_container {
        options.insert(
            "com.docker.network.bridge.enable_icc".to_string(),
            "false".to_string(),
        );
    }
    NetworkCreateRequest {
        name: spec.name.clone(),
        driver: Some("bridge".to_string()),
        labels: Some(labels),
        options: Some(options),
        ipam: Some(Ipam {
            driver: Some("default".to_string()),
            config: Some(vec![IpamConfig {
                subnet: Some(subnet.to_string()),
                ..Default::default()
            }]),
            options: None,
        }),
        ..Default::default()
    }
}

fn is_pool_overlap(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { message, .. }
        if message.contains("overlaps"))
}

/// Every IPv4 subnet any network on the engine uses.
async fn used_subnets(docker: &Docker) -> Result<Vec<Ipv4Net>, DockerError> {
    let list = docker
        .list_networks(None::<ListNetworksOptions>)
        .await
        .map_err(|e| engine("list networks", "all", e))?;
    Ok(list
        .into_iter()
        .filter_map(|n| n.ipam.and_then(|i| i.config))
        .flatten()
        .filter_map(|c| c.subnet.and_then(|s| s.parse().ok()))
        .collect())
}

pub(crate) async fn inspect(docker: &Docker, id: &str) -> Result<Option<NetworkInfo>, DockerError> {
    let options = InspectNetworkOptions {
        verbose: false,
        scope: None,
    };
    match docker.inspect_network(id, Some(options)).await {
        Ok(n) => Ok(Some(NetworkInfo {
            id: n.id.unwrap_or_else(|| id.to_string()),
            name: n.name.unwrap_or_default(),
            labels: n.labels.unwrap_or_default().into_iter().collect(),
            containers: n.containers.unwrap_or_default().into_keys().collect(),
            subnets: n
                .ipam
                .and_then(|i| i.config)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| c.subnet)
                .collect(),
        })),
        Err(e) if is_status(&e, &[404]) => Ok(None),
        Err(e) => Err(engine("inspect network", id, e)),
    }
}

pub(crate) async fn list(docker: &Docker, label: &str) -> Result<Vec<NetworkInfo>, DockerError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([(
            "label".to_string(),
            vec![label.to_string()],
        )])),
    };
    let list = docker
        .list_networks(Some(options))
        .await
        .map_err(|e| engine("list networks", label, e))?;
    let mut out = Vec::new();
    for n in list {
        let Some(id) = n.id else { continue };
        // The list does not carry the attached containers; inspect does.
        if let Some(info) = inspect(docker, &id).await? {
            out.push(info);
        }
    }
    Ok(out)
}

pub(crate) async fn remove(docker: &Docker, id: &str) -> Result<(), DockerError> {
    match docker.remove_network(id).await {
        Ok(()) => Ok(()),
        Err(e) if is_status(&e, &[404]) => Ok(()),
        Err(e) => Err(engine("remove network", id, e)),
    }
}

pub(crate) async fn connect(
    docker: &Docker,
    network: &str,
    container: &str,
) -> Result<(), DockerError> {
    let request = NetworkConnectRequest {
        container: container.to_string(),
        endpoint_config: None,
    };
    match docker.connect_network(network, request).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { message, .. })
            if message.contains("already exists") =>
        {
            Ok(())
        }
        Err(e) => Err(engine("connect to network", container, e)),
    }
}

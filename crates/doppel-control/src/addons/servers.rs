//! Add-on servers as Docker sees them: one container per add-on (labelled
//! `doppel.role=addon`, `doppel.addon-id`, `doppel.env-id`), its data on a named volume, its
//! name as host name on its environment's network. [`ensure_running`] makes an add-on's
//! server exist and run (image, network, volume, container), safe to call again at any time;
//! provisioning and the supervisor both use it. Every operation on one add-on holds its lock
//! ([`lock`]), so a supervisor pass never races a backup, restore or rotation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use doppel_addons::{Instance, Manifest, Plan, Provider};
use doppel_docker::ContainerState;
use doppel_store::{Addon, Environment};
use tokio::sync::mpsc;

use crate::labels::{LABEL_ENV, LABEL_ENV_ID, LABEL_INSTANCE, LABEL_ROLE};
use crate::networks;
use crate::state::AppState;

/// `doppel.role` of an add-on's server container and volume.
pub const ROLE_ADDON: &str = "addon";
/// The add-on a container or volume belongs to (its id).
pub const LABEL_ADDON_ID: &str = "doppel.addon-id";
/// The add-on's name, for people reading `docker ps`.
pub const LABEL_ADDON: &str = "doppel.addon";
/// The plan a container was made for: a plan change makes a new container.
pub const LABEL_PLAN: &str = "doppel.addon-plan";

/// How long a new server has to pass its health check.
pub const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// Why an add-on's server could not be made to run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Addon(#[from] doppel_addons::AddonError),
    #[error(transparent)]
    Docker(#[from] doppel_docker::DockerError),
    #[error("the stack for the add-on's image: {0}")]
    Stack(String),
    #[error(transparent)]
    Store(#[from] doppel_store::StoreError),
}

/// The lock every operation on one add-on holds.
pub fn lock(state: &AppState, addon_id: &str) -> Arc<tokio::sync::Mutex<()>> {
    state.env_lock(&format!("addon:{addon_id}"))
}

/// The start of an add-on's server container name: `doppel.<env>.addon.<addon>` (each
/// container adds a random suffix, so a leftover of the same name never blocks a new one).
pub fn container_name(env: &Environment, addon: &Addon) -> String {
    format!("doppel.{}.addon.{}", env.name, addon.name)
}

/// The volume name of a new add-on: `doppel-<instance>-addon-<random>`.
pub fn volume_name(state: &AppState, addon_id: &str) -> String {
    format!("doppel-{}-addon-{addon_id}", state.instance_id())
}

/// The labels of an add-on's container and volume.
pub fn labels(state: &AppState, env: &Environment, addon: &Addon) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_INSTANCE.to_string(), state.instance_id().to_string()),
        (LABEL_ROLE.to_string(), ROLE_ADDON.to_string()),
        (LABEL_ENV.to_string(), env.name.clone()),
        (LABEL_ENV_ID.to_string(), env.id.clone()),
        (LABEL_ADDON_ID.to_string(), addon.id.clone()),
        (LABEL_ADDON.to_string(), addon.name.clone()),
        (LABEL_PLAN.to_string(), addon.plan.clone()),
    ])
}

/// The provider and plan of an add-on (its service's manifest must still be known).
pub fn provider(
    state: &AppState,
    addon: &Addon,
) -> Result<(Provider, Plan), doppel_addons::AddonError> {
    let manifest: Arc<Manifest> = state.addon_catalog().service(&addon.service)?;
    let plan = manifest
        .plan(&addon.plan)
        .or_else(|| manifest.default_plan())
        .cloned()
        .ok_or_else(|| doppel_addons::AddonError::UnknownPlan {
            service: addon.service.clone(),
            plan: addon.plan.clone(),
            known: String::new(),
        })?;
    Ok((Provider::new(manifest), plan))
}

/// What the add-on's commands see (with its current password).
pub fn instance(addon: &Addon, plan: &Plan) -> Instance {
    Instance {
        name: addon.name.clone(),
        memory_mb: plan.memory_mb,
        user: addon.credentials.user.clone(),
        password: addon.credentials.password.clone(),
        database: addon.credentials.database.clone(),
    }
}

/// This installation's add-on containers, running or not.
pub async fn containers(
    state: &AppState,
) -> Result<Vec<ContainerState>, doppel_docker::DockerError> {
    state.containers_with_role(&[ROLE_ADDON]).await
}

/// The running server of an add-on, if there is one.
pub async fn running(
    state: &AppState,
    addon_id: &str,
) -> Result<Option<ContainerState>, doppel_docker::DockerError> {
    Ok(containers(state)
        .await?
        .into_iter()
        .find(|c| c.running && c.labels.get(LABEL_ADDON_ID).map(String::as_str) == Some(addon_id)))
}

/// The image an add-on runs: the one it was made with, else its service's image on the
/// manifest's stack (or the default stack), made when missing.
pub async fn ensure_image(
    state: &AppState,
    addon: &Addon,
    manifest: &Manifest,
) -> Result<String, ServerError> {
    if let Some(image) = &addon.image {
        if state.runtime().image_info(image).await?.is_some() {
            return Ok(image.clone());
        }
        tracing::warn!(addon = %addon.name, %image, "the add-on's image is gone; making it again");
    }
    let stacks = &state.config().stacks;
    let spec = match &manifest.image.stack {
        Some(name) => stacks
            .resolve(name)
            .map_err(|e| ServerError::Stack(e.to_string()))?,
        None => stacks.default_stack(),
    };
    let images = crate::workflows::stacks::ensure(state, spec.name, None)
        .await
        .map_err(|e| ServerError::Stack(e.to_string()))?;
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let name = addon.name.clone();
    let relay = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            tracing::info!(addon = %name, "{line}");
        }
    });
    let image =
        doppel_addons::image::ensure(state.runtime(), manifest, spec.name, &images.run_image, &tx)
            .await;
    drop(tx);
    let _ = relay.await;
    Ok(image?)
}

/// Makes an add-on's server exist and run, and returns its container id and image. A running
/// container of the right plan on the environment's network is kept; a stopped one, or one
/// from another plan, is replaced (the data stays in the volume). The caller holds [`lock`].
pub async fn ensure_running(
    state: &AppState,
    addon: &Addon,
    env: &Environment,
) -> Result<(String, String), ServerError> {
    let (provider, plan) = provider(state, addon)?;
    let image = ensure_image(state, addon, &provider.manifest).await?;
    let network = networks::ensure_env(state, env).await?;
    let labels = labels(state, env, addon);
    state
        .runtime()
        .ensure_volume(&addon.volume, &labels)
        .await?;
    for c in containers(state).await? {
        if c.labels.get(LABEL_ADDON_ID) != Some(&addon.id) {
            continue;
        }
        let current = c.running
            && c.networks.contains_key(&network)
            && c.labels.get(LABEL_PLAN) == Some(&addon.plan);
        if current {
            return Ok((c.id, image));
        }
        tracing::info!(addon = %addon.name, container = %c.name, running = c.running, "replacing the add-on's server container");
        state
            .runtime()
            .stop_and_remove(&c.id, Duration::from_secs(30))
            .await?;
    }
    let suffix = &doppel_addons::names::token(6);
    let spec = provider.service_spec(
        &instance(addon, &plan),
        &format!("{}.{suffix}", container_name(env, addon)),
        &image,
        &addon.volume,
        &network,
        labels,
    );
    let id = state.runtime().run_service(spec).await?;
    provider
        .seed_password(state.runtime(), &id, &instance(addon, &plan))
        .await?;
    tracing::info!(addon = %addon.name, env = %env.name, "started the add-on's server");
    Ok((id, image))
}

/// Removes an add-on's containers and, with `volume`, its data. The caller holds [`lock`].
pub async fn remove(
    state: &AppState,
    addon: &Addon,
    volume: bool,
) -> Result<(), doppel_docker::DockerError> {
    for c in containers(state).await? {
        if c.labels.get(LABEL_ADDON_ID) == Some(&addon.id) {
            state
                .runtime()
                .stop_and_remove(&c.id, Duration::from_secs(30))
                .await?;
        }
    }
    if volume {
        state.runtime().remove_volume(&addon.volume).await?;
        tracing::info!(addon = %addon.name, volume = %addon.volume, "removed the add-on's data volume");
    }
    Ok(())
}

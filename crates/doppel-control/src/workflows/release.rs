//! The release workflow: every change that alters what runs (a build, a config change, a
//! rollback, later a promotion or an add-on attachment) becomes a new immutable release and
//! rolls the environment onto it, the same way, with the same progress lines for whoever
//! waits. Not tied to git.
//!
//! Steps, each recorded before Docker acts: the release row is written `pending` with its
//! config snapshot, and a rollout row → the rollout ([`super::rollout`]: release phase, new
//! web dynos health-gated) → the release is marked succeeded (and, when asked, the
//! environment's config becomes the snapshot, in the same transaction) and the rollout
//! `committed` → routes switch → the supervisor drains and stops the old dynos behind it,
//! while the caller already has its answer. A failure at any step leaves the previous
//! release serving and the new one `failed`; a crash before the commit leaves it `pending`,
//! which the next start marks failed (and unwinds its rollout).

use super::progress::Progress;
use super::rollout;
use crate::state::AppState;
use doppel_store::{Environment, NewRelease, Release, ReleaseStatus, RolloutKind, RolloutPhase};
use doppel_types::{ImageKind, ProcessTypes};
use std::collections::BTreeMap;

/// What a new release runs.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    pub image_id: String,
    pub image_kind: ImageKind,
    pub process_types: ProcessTypes,
    pub build_id: Option<String>,
    /// Heroku's words: `Deploy 1a2b3c4`, `Set FOO config vars`, `Rollback to v4`.
    pub description: String,
    pub user_id: Option<String>,
    /// The config the release runs with; `None`: the environment's config as it is.
    pub config: Option<BTreeMap<String, String>>,
}

/// Why a release did not become current. The previous release keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The release was recorded but its dynos did not come up; it is marked failed.
    #[error("Release v{version} failed: {reason}. The previous release keeps serving.")]
    RolloutFailed { version: i64, reason: String },
    /// doppel could not record a step.
    #[error("doppel could not {context}; the server log has the details")]
    Store {
        context: &'static str,
        #[source]
        source: doppel_store::StoreError,
    },
}

fn store_err(context: &'static str) -> impl FnOnce(doppel_store::StoreError) -> ReleaseError {
    move |source| {
        tracing::error!(error = %source, "could not {context}");
        ReleaseError::Store { context, source }
    }
}

/// Releases `req` on `env`, taking the environment's lock (waits for a deploy in progress).
pub async fn release(
    state: &AppState,
    env: &Environment,
    req: ReleaseRequest,
    progress: &dyn Progress,
) -> Result<Release, ReleaseError> {
    let lock = state.env_lock(&env.id);
    if lock.try_lock().is_err() {
        progress
            .line("-----> Waiting for the previous deploy of this environment to finish...")
            .await;
    }
    let _guard = lock.lock().await;
    release_locked(state, env, req, progress).await
}

/// [`release`] for a caller that already holds the environment's lock (a push's build).
pub async fn release_locked(
    state: &AppState,
    env: &Environment,
    req: ReleaseRequest,
    progress: &dyn Progress,
) -> Result<Release, ReleaseError> {
    release_from(state, env, req, None, progress).await
}

/// Where a promoted release comes from: its promotion, and the staging release whose image
/// it runs. The release row is linked to the promotion in the transaction that inserts it.
#[derive(Debug, Clone, Copy)]
pub struct Promoted<'a> {
    pub promotion_id: &'a str,
    pub source_release_id: &'a str,
}

/// [`release_locked`] for a promotion (the caller holds the environment's lock).
pub async fn release_promoted_locked(
    state: &AppState,
    env: &Environment,
    req: ReleaseRequest,
    promoted: Promoted<'_>,
    progress: &dyn Progress,
) -> Result<Release, ReleaseError> {
    release_from(state, env, req, Some(promoted), progress).await
}

async fn release_from(
    state: &AppState,
    env: &Environment,
    req: ReleaseRequest,
    promoted: Option<Promoted<'_>>,
    progress: &dyn Progress,
) -> Result<Release, ReleaseError> {
    let apply_config = req.config.is_some();
    if req.image_id.is_empty() {
        return release_config_only(state, env, req, progress).await;
    }
    let mut formation_types = req.process_types.clone();
    formation_types.entry("web".to_string()).or_default();
    // `release` is the release phase's command, not a process of the formation.
    formation_types.remove("release");
    state
        .store()
        .ensure_formation(&env.id, &formation_types)
        .await
        .map_err(store_err("record the formation"))?;
    progress.line("-----> Launching...").await;
    let new = NewRelease {
        env_id: env.id.clone(),
        build_id: req.build_id,
        image_id: req.image_id,
        image_kind: req.image_kind,
        process_types: req.process_types,
        description: req.description,
        user_id: req.user_id,
        status: ReleaseStatus::Pending,
        config: req.config,
    };
    let created = match promoted {
        None => state.store().create_release(&new).await,
        Some(p) => {
            state
                .store()
                .create_promoted_release(&new, p.promotion_id, p.source_release_id)
                .await
        }
    };
    let release = created.map_err(store_err("record the release"))?;
    let rollout = state
        .store()
        .create_rollout(&env.id, Some(&release.id), RolloutKind::Release)
        .await
        .map_err(store_err("record the rollout"))?;
    let by = match &release.user_id {
        Some(id) => state.store().user(id).await.ok().flatten().map(|u| u.email),
        None => None,
    };
    let hub = state.logs();
    let by = by.as_deref().unwrap_or("doppel");
    hub.api(&env.id, format!("{} by {by}", release.description));
    hub.api(
        &env.id,
        format!("Release v{} created by {by}", release.version),
    );
    if let Err(reason) = rollout::roll_out(state, env, &release, &rollout.id, progress).await {
        return Err(fail(state, env, &release, &rollout.id, reason, progress).await);
    }
    state
        .store()
        .succeed_release(&release.id, apply_config)
        .await
        .map_err(store_err("record the release as serving"))?;
    if let Err(e) = state
        .store()
        .set_rollout_phase(&rollout.id, RolloutPhase::Committed, "")
        .await
    {
        tracing::warn!(rollout = %rollout.id, error = %e, "could not record the rollout as committed");
    }
    // New requests go to the new dynos; the supervisor drains and stops the old ones.
    crate::routes::publish(state).await;
    state.supervisor().wake();
    progress
        .line(&format!("       Released v{}", release.version))
        .await;
    progress
        .line(&format!(
            "       {} deployed to doppel",
            state.urls().web_url(&env.name)
        ))
        .await;
    tracing::info!(env = %env.name, version = release.version, "released");
    let mut release = release;
    release.status = ReleaseStatus::Succeeded;
    Ok(release)
}

/// Marks a release and its rollout failed (the previous release keeps serving).
async fn fail(
    state: &AppState,
    env: &Environment,
    release: &Release,
    rollout_id: &str,
    reason: String,
    progress: &dyn Progress,
) -> ReleaseError {
    if let Err(e) = state
        .store()
        .set_release_status(&release.id, ReleaseStatus::Failed)
        .await
    {
        tracing::error!(error = %e, release = %release.id, "could not mark the release failed");
    }
    if let Err(e) = state
        .store()
        .set_rollout_phase(rollout_id, RolloutPhase::Failed, &reason)
        .await
    {
        tracing::warn!(rollout = %rollout_id, error = %e, "could not record the rollout as failed");
    }
    state.logs().api(
        &env.id,
        format!("Release v{} failed: {reason}", release.version),
    );
    let err = ReleaseError::RolloutFailed {
        version: release.version,
        reason,
    };
    progress.line(&format!(" !     {err}")).await;
    tracing::warn!(env = %env.name, version = release.version, error = %err, "release failed");
    err
}

/// A release without an image (a config change before the first build): recorded and made
/// current with its config at once; no dyno runs until a build brings an image.
async fn release_config_only(
    state: &AppState,
    env: &Environment,
    req: ReleaseRequest,
    progress: &dyn Progress,
) -> Result<Release, ReleaseError> {
    let apply_config = req.config.is_some();
    let mut release = state
        .store()
        .create_release(&NewRelease {
            env_id: env.id.clone(),
            build_id: None,
            image_id: String::new(),
            image_kind: req.image_kind,
            process_types: ProcessTypes::new(),
            description: req.description,
            user_id: req.user_id,
            status: ReleaseStatus::Pending,
            config: req.config,
        })
        .await
        .map_err(store_err("record the release"))?;
    state
        .store()
        .succeed_release(&release.id, apply_config)
        .await
        .map_err(store_err("record the release"))?;
    progress
        .line(&format!(
            "       Released v{} (config only: nothing runs until the first build)",
            release.version
        ))
        .await;
    release.status = ReleaseStatus::Succeeded;
    Ok(release)
}

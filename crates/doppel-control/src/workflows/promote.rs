//! The promotion workflow: production gets a new release running the exact image of a staging
//! release (the same image id, already on this machine: nothing is rebuilt, pulled or copied)
//! with production's own config, through the release workflow (so the release phase and the
//! health gate run in production first).
//!
//! Durable steps, each recorded before the next: the promotion row is `pending` (written by
//! `logic::promotions` after its checks) → production's release row is inserted *linked to the
//! promotion in the same transaction* and rolled out → the promotion ends `succeeded` or
//! `failed`. Running a promotion twice does no harm (a finished one is returned as it is, one
//! whose release exists is settled from that release), and [`recover`] finishes what a crash
//! cut off: a promotion whose release succeeded completes, any other fails with the reason.
//! A failure at any step leaves production on its previous release.

use super::progress::Progress;
use super::release::{self, Promoted, ReleaseRequest};
use crate::state::AppState;
use doppel_store::{Environment, Promotion, PromotionStatus, Release, ReleaseStatus, StoreError};

/// Why a promotion that was cut off by a restart failed.
pub const INTERRUPTED: &str =
    "interrupted: doppel restarted before production's release was made; promote again";

/// Why the workflow could not run a promotion at all (a failed release is not an error: the
/// promotion is returned `failed`, with the reason).
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("doppel could not {context}; the server log has the details")]
    Store {
        context: &'static str,
        #[source]
        source: StoreError,
    },
}

fn store_err(context: &'static str) -> impl FnOnce(StoreError) -> PromoteError {
    move |source| {
        tracing::error!(error = %source, "could not {context}");
        PromoteError::Store { context, source }
    }
}

async fn load(state: &AppState, id: &str) -> Result<Promotion, PromoteError> {
    state
        .store()
        .promotion(id)
        .await
        .map_err(store_err("read the promotion"))?
        .ok_or_else(|| PromoteError::NotFound(format!("promotion {id}")))
}

async fn environment(state: &AppState, id: &str) -> Result<Environment, PromoteError> {
    state
        .store()
        .environment(id)
        .await
        .map_err(store_err("read an environment"))?
        .ok_or_else(|| PromoteError::NotFound(format!("environment {id}")))
}

/// Runs the pending promotion `id` to its end and returns it `succeeded` or `failed`.
pub async fn run(
    state: &AppState,
    id: &str,
    progress: &dyn Progress,
) -> Result<Promotion, PromoteError> {
    let promotion = load(state, id).await?;
    if promotion.status != PromotionStatus::Pending {
        return Ok(promotion);
    }
    let target = environment(state, &promotion.target_env_id).await?;
    let source_env = environment(state, &promotion.source_env_id).await?;
    let source = state
        .store()
        .release(&promotion.source_release_id)
        .await
        .map_err(store_err("read the staging release"))?
        .ok_or_else(|| {
            PromoteError::NotFound(format!("release {}", promotion.source_release_id))
        })?;
    let lock = state.env_lock(&target.id);
    if lock.try_lock().is_err() {
        progress
            .line(&format!(
                "-----> Waiting for the deploy in progress on {} to finish...",
                target.name
            ))
            .await;
    }
    let _guard = lock.lock().await;
    // Under the lock, again: another run of this promotion may have got here first.
    let promotion = load(state, id).await?;
    if promotion.status != PromotionStatus::Pending {
        return Ok(promotion);
    }
    if let Some(release_id) = &promotion.target_release_id {
        return settle(state, &promotion, release_id).await;
    }
    progress
        .line(&format!(
            "-----> Promoting {} v{} (image {}) to {}",
            source_env.name,
            source.version,
            short(&source.image_id),
            target.name
        ))
        .await;
    if let Err(e) = copy_sizes(state, &source_env, &target, &source).await {
        return finish(state, id, PromotionStatus::Failed, Some(&e.to_string())).await;
    }
    let request = ReleaseRequest {
        image_id: source.image_id.clone(),
        image_kind: source.image_kind,
        process_types: source.process_types.clone(),
        build_id: source.build_id.clone(),
        description: format!("Promote {} v{}", source_env.name, source.version),
        user_id: promotion.user_id.clone(),
        config: None,
    };
    let promoted = Promoted {
        promotion_id: id,
        source_release_id: &source.id,
    };
    match release::release_promoted_locked(state, &target, request, promoted, progress).await {
        Ok(made) => {
            progress
                .line(&format!(
                    "-----> Promoted {} v{} to {} as v{}: {}",
                    source_env.name,
                    source.version,
                    target.name,
                    made.version,
                    state.urls().web_url(&target.name)
                ))
                .await;
            finish(state, id, PromotionStatus::Succeeded, None).await
        }
        Err(e) => finish(state, id, PromotionStatus::Failed, Some(&e.to_string())).await,
    }
}

/// Gives production, for each process type of the promoted release it has no formation entry
/// for, staging's dyno size (so both environments run a type on the same size from the start).
async fn copy_sizes(
    state: &AppState,
    source_env: &Environment,
    target: &Environment,
    source: &Release,
) -> Result<(), StoreError> {
    let staging = state.store().formation(&source_env.id).await?;
    let production = state.store().formation(&target.id).await?;
    // `release` is the release phase's command, never a formation dyno.
    for entry in staging.iter().filter(|e| {
        (source.process_types.contains_key(&e.process_type) || e.process_type == "web")
            && e.process_type != "release"
            && !production.iter().any(|p| p.process_type == e.process_type)
    }) {
        let types = doppel_types::ProcessTypes::from([(entry.process_type.clone(), String::new())]);
        state.store().ensure_formation(&target.id, &types).await?;
        state
            .store()
            .update_formation(&target.id, &entry.process_type, None, Some(&entry.size))
            .await?;
    }
    Ok(())
}

/// Ends a promotion whose release row exists, from that release's status.
async fn settle(
    state: &AppState,
    promotion: &Promotion,
    release_id: &str,
) -> Result<Promotion, PromoteError> {
    let release = state
        .store()
        .release(release_id)
        .await
        .map_err(store_err("read the promotion's release"))?;
    let (status, reason) = match release {
        Some(r) if r.status == ReleaseStatus::Succeeded => (PromotionStatus::Succeeded, None),
        Some(r) if r.status == ReleaseStatus::Failed => (
            PromotionStatus::Failed,
            Some(format!(
                "Release v{} failed. The previous release keeps serving.",
                r.version
            )),
        ),
        Some(r) => {
            // Pending with nobody rolling it out: a restart cut it off.
            if let Err(e) = state
                .store()
                .set_release_status(&r.id, ReleaseStatus::Failed)
                .await
            {
                tracing::error!(error = %e, release = %r.id, "could not mark an interrupted release failed");
            }
            (PromotionStatus::Failed, Some(INTERRUPTED.to_string()))
        }
        None => (PromotionStatus::Failed, Some(INTERRUPTED.to_string())),
    };
    finish(state, &promotion.id, status, reason.as_deref()).await
}

async fn finish(
    state: &AppState,
    id: &str,
    status: PromotionStatus,
    reason: Option<&str>,
) -> Result<Promotion, PromoteError> {
    match state.store().finish_promotion(id, status, reason).await {
        Ok(p) => Ok(p),
        // Someone else ended it in the meantime: report it as it ended.
        Err(StoreError::Conflict(_)) => load(state, id).await,
        Err(e) => Err(store_err("record the end of the promotion")(e)),
    }
}

/// At startup, after interrupted releases were marked failed: ends every promotion a restart
/// cut off. Returns the promotions it ended.
pub async fn recover(state: &AppState) -> Vec<Promotion> {
    let pending = match state.store().pending_promotions().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "could not read pending promotions; they stay pending");
            return Vec::new();
        }
    };
    let mut ended = Vec::new();
    for promotion in pending {
        let result = match &promotion.target_release_id {
            Some(release_id) => settle(state, &promotion, release_id).await,
            None => {
                finish(
                    state,
                    &promotion.id,
                    PromotionStatus::Failed,
                    Some(INTERRUPTED),
                )
                .await
            }
        };
        match result {
            Ok(p) => {
                tracing::warn!(promotion = %p.id, status = p.status.as_str(), "ended a promotion a restart cut off");
                ended.push(p);
            }
            Err(e) => {
                tracing::error!(promotion = %promotion.id, error = %e, "could not end an interrupted promotion")
            }
        }
    }
    ended
}

fn short(image: &str) -> &str {
    let bare = image.strip_prefix("sha256:").unwrap_or(image);
    bare.get(..12).unwrap_or(bare)
}

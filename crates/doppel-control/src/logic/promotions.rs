//! Promotions as users ask for them: which staging release goes to production, the checks
//! before anything changes (the release served healthily, its image is here, the target is
//! production of the same app, no drift unless forced with a reason), the promotion row, the
//! audit log, and the workflow (`workflows::promote`) run in the background so a client that
//! goes away does not cut it off. Bad input changes nothing.

use super::access;
use super::{parity, Actor, LogicError};
use crate::labels::{LABEL_DYNO, LABEL_RELEASE};
use crate::state::AppState;
use crate::workflows::dynos;
use crate::workflows::progress::Progress;
use crate::workflows::promote;
use doppel_store::{
    App, Environment, NewPromotion, Promotion, PromotionStatus, Release, ReleaseStatus, StoreError,
    User,
};
use doppel_types::Stage;

/// What a promotion asks for, in the words of either API (`POST /pipeline-promotions` names
/// source and targets by id; `doppel promote -p` names only the app).
#[derive(Debug, Clone, Default)]
pub struct PromoteRequest {
    /// The app (pipeline) by name or id, or either environment's name or id.
    pub pipeline: String,
    /// The environment promoted from (must be staging); `None`: staging.
    pub source: Option<String>,
    /// The environments promoted to (must be production); `None`: production.
    pub targets: Option<Vec<String>>,
    /// A staging release by id or version (`v3`, `3`); `None`: staging's current release.
    pub release: Option<String>,
    /// Promote despite drift (needs `reason`).
    pub force: bool,
    pub reason: Option<String>,
}

/// A promotion with what it names.
#[derive(Debug, Clone)]
pub struct PromotionView {
    pub promotion: Promotion,
    pub app: App,
    pub source_env: Environment,
    pub target_env: Environment,
    pub source_release: Option<Release>,
    pub target_release: Option<Release>,
    pub user: Option<User>,
}

fn stage_env(app: &App, stage: Stage) -> Result<Environment, LogicError> {
    app.environment(stage)
        .cloned()
        .ok_or_else(|| LogicError::not_found("environment", format!("{} {stage}", app.name)))
}

fn names(env: &Environment, wanted: &str) -> bool {
    env.id == wanted || env.name == wanted
}

/// Checks source and targets against the pipeline's two environments.
fn check_direction(
    app: &App,
    staging: &Environment,
    production: &Environment,
    req: &PromoteRequest,
) -> Result<(), LogicError> {
    if let Some(source) = &req.source {
        if names(production, source) {
            return Err(LogicError::Invalid(format!(
                "Promotions go from staging to production: {} is production of {}. Promote from {}.",
                production.name, app.name, staging.name
            )));
        }
        if !names(staging, source) {
            return Err(LogicError::Invalid(format!(
                "{source} is not in pipeline {}: promote from its staging environment, {}.",
                app.name, staging.name
            )));
        }
    }
    if let Some(targets) = &req.targets {
        if targets.is_empty() {
            return Err(LogicError::Invalid(format!(
                "Name the target of the promotion: production of {} ({}).",
                app.name, production.name
            )));
        }
        if let Some(bad) = targets.iter().find(|t| !names(production, t)) {
            let which = if names(staging, bad) {
                format!("{} is staging", staging.name)
            } else {
                format!("{bad} is not production of pipeline {}", app.name)
            };
            return Err(LogicError::Invalid(format!(
                "{which}: doppel promotes {} to production ({}) only.",
                staging.name, production.name
            )));
        }
    }
    Ok(())
}

/// The staging release to promote: the named one, or staging's current release.
async fn source_release(
    state: &AppState,
    staging: &Environment,
    wanted: Option<&str>,
) -> Result<Release, LogicError> {
    let Some(wanted) = wanted else {
        return state
            .store()
            .current_release(&staging.id)
            .await?
            .ok_or_else(|| {
                LogicError::Invalid(format!(
                    "{} has no release to promote yet: push to it first (git push … main).",
                    staging.name
                ))
            });
    };
    let releases = state.store().list_releases(&staging.id).await?;
    super::releases::find(&releases, wanted)
        .cloned()
        .map_err(|_| {
            LogicError::Invalid(format!(
                "Release {wanted} is not a release of {}: only staging's own releases can be promoted (see `doppel releases -a {}`).",
                staging.name, staging.name
            ))
        })
}

/// Refuses a release that did not serve healthily in staging, or whose image is gone.
async fn check_serving(
    state: &AppState,
    staging: &Environment,
    release: &Release,
) -> Result<(), LogicError> {
    let what = format!("{} v{}", staging.name, release.version);
    if !release.has_image() {
        return Err(LogicError::Invalid(format!(
            "{what} holds config only: nothing has been built in {} yet; push to it first (git push … main).",
            staging.name
        )));
    }
    match release.status {
        ReleaseStatus::Succeeded => {}
        ReleaseStatus::Failed => {
            return Err(LogicError::Invalid(format!(
                "{what} failed ({}) and never served; only a release that served healthily in staging can be promoted.",
                release.description
            )))
        }
        ReleaseStatus::Pending => {
            return Err(LogicError::Conflict(format!(
                "{what} is still rolling out in staging; promote it once it serves."
            )))
        }
    }
    let image = state
        .runtime()
        .image_info(&release.image_id)
        .await
        .map_err(|e| LogicError::internal("look up the release's image in Docker", e))?;
    if image.is_none() {
        return Err(LogicError::Conflict(format!(
            "The image of {what} ({}) is no longer on this machine; push to {} again to rebuild it.",
            release.image_id, staging.name
        )));
    }
    let current = state.store().current_release(&staging.id).await?;
    if current.is_some_and(|c| c.id == release.id) {
        check_dynos(state, staging, release, &what).await?;
    }
    Ok(())
}

/// The current staging release's dynos must all be up, and web must have one if asked for.
async fn check_dynos(
    state: &AppState,
    staging: &Environment,
    release: &Release,
    what: &str,
) -> Result<(), LogicError> {
    let containers = dynos::list(state)
        .await
        .map_err(|e| LogicError::internal("read the staging dynos from Docker", e))?;
    let mine: Vec<_> = dynos::of_env(&containers, &staging.id)
        .filter(|c| c.labels.get(LABEL_RELEASE) == Some(&release.id))
        .collect();
    let dyno_name = |c: &doppel_docker::ContainerState| {
        c.labels
            .get(LABEL_DYNO)
            .cloned()
            .unwrap_or_else(|| c.name.clone())
    };
    if let Some(down) = mine.iter().find(|c| !c.running) {
        let code = down
            .exit_code
            .map(|c| format!(" (exit code {c})"))
            .unwrap_or_default();
        return Err(LogicError::Conflict(format!(
            "{} of {what} is crashing{code}; only a release that serves healthily can be promoted. Fix it and push to {} again.",
            dyno_name(down),
            staging.name
        )));
    }
    let formation = state.store().formation(&staging.id).await?;
    let wants_web = formation
        .iter()
        .any(|f| f.process_type == "web" && f.quantity > 0);
    let web_up = mine
        .iter()
        .any(|c| c.running && dyno_name(c).starts_with("web."));
    if wants_web && !web_up {
        return Err(LogicError::Conflict(format!(
            "{what} has no running web dyno; only a release that serves healthily can be promoted."
        )));
    }
    Ok(())
}

/// Checks a promotion and records it `pending` (nothing else changes yet). The audit log gets
/// `promotion.start`, or `promotion.forced` with the reason and the drift it overrode.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    req: &PromoteRequest,
) -> Result<PromotionView, LogicError> {
    let app = access::whole_app(state, actor, &req.pipeline).await?;
    let staging = stage_env(&app, Stage::Staging)?;
    let production = stage_env(&app, Stage::Production)?;
    check_direction(&app, &staging, &production, req)?;
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if req.force && reason.is_none() {
        return Err(LogicError::Invalid(
            "A forced promotion needs a reason (--reason TEXT): it is kept in the audit log."
                .to_string(),
        ));
    }
    let source = source_release(state, &staging, req.release.as_deref()).await?;
    check_serving(state, &staging, &source).await?;
    let report = parity::report_of(state, app.clone()).await?;
    let drift: Vec<String> = report.drift().iter().map(|d| d.id()).collect();
    if !drift.is_empty() && !req.force {
        return Err(LogicError::Conflict(parity::refusal(&report)));
    }
    let forced = req.force && !drift.is_empty();
    let promotion = state
        .store()
        .create_promotion(&NewPromotion {
            app_id: app.id.clone(),
            source_env_id: staging.id.clone(),
            target_env_id: production.id.clone(),
            source_release_id: source.id.clone(),
            forced,
            reason: reason.map(str::to_string),
            user_id: Some(actor.user.id.clone()),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => LogicError::Conflict(format!(
                "A promotion to {} is already in progress; wait for it to finish (`doppel releases -a {}`).",
                production.name, production.name
            )),
            other => other.into(),
        })?;
    let action = if forced {
        "promotion.forced"
    } else {
        "promotion.start"
    };
    super::audit::record(
        state,
        actor,
        &app,
        Some(&production),
        action,
        serde_json::json!({
            "promotion": promotion.id,
            "from": staging.name,
            "release": format!("v{}", source.version),
            "image": source.image_id,
            "forced": forced,
            "reason": reason,
            "drift": drift,
        }),
    )
    .await;
    Ok(PromotionView {
        promotion,
        app,
        source_env: staging,
        target_env: production,
        source_release: Some(source),
        target_release: None,
        user: Some(actor.user.clone()),
    })
}

/// Checks and records a promotion, then runs it in the background, telling `progress` every
/// step. The handle ends with the finished promotion (tests wait on it; handlers need not).
pub async fn start(
    state: &AppState,
    actor: &Actor,
    req: &PromoteRequest,
    progress: Box<dyn Progress>,
) -> Result<(PromotionView, tokio::task::JoinHandle<Option<Promotion>>), LogicError> {
    let view = create(state, actor, req).await?;
    let (state, actor, id) = (state.clone(), actor.clone(), view.promotion.id.clone());
    let app = view.app.clone();
    let production = view.target_env.clone();
    let handle = tokio::spawn(async move {
        match promote::run(&state, &id, progress.as_ref()).await {
            Ok(done) => {
                record_end(&state, &actor, &app, &production, &done).await;
                Some(done)
            }
            Err(e) => {
                tracing::error!(promotion = %id, error = %e, "promotion could not run");
                None
            }
        }
    });
    Ok((view, handle))
}

async fn record_end(
    state: &AppState,
    actor: &Actor,
    app: &App,
    production: &Environment,
    done: &Promotion,
) {
    let version = match &done.target_release_id {
        Some(id) => state
            .store()
            .release(id)
            .await
            .ok()
            .flatten()
            .map(|r| r.version),
        None => None,
    };
    let action = match done.status {
        PromotionStatus::Succeeded => "promotion.succeeded",
        _ => "promotion.failed",
    };
    super::audit::record(
        state,
        actor,
        app,
        Some(production),
        action,
        serde_json::json!({
            "promotion": done.id,
            "release": version.map(|v| format!("v{v}")),
            "error": done.error_message,
        }),
    )
    .await;
}

/// One promotion by its id or its target's id.
pub async fn show(state: &AppState, actor: &Actor, id: &str) -> Result<PromotionView, LogicError> {
    let not_found = || LogicError::not_found("promotion", id);
    let promotion = state.store().promotion(id).await?.ok_or_else(not_found)?;
    let app = access::whole_app(state, actor, &promotion.app_id)
        .await
        .map_err(|_| not_found())?;
    view(state, app, promotion).await
}

async fn view(
    state: &AppState,
    app: App,
    promotion: Promotion,
) -> Result<PromotionView, LogicError> {
    let store = state.store();
    let env = |id: &str| app.environments.iter().find(|e| e.id == id).cloned();
    let source_env = env(&promotion.source_env_id)
        .ok_or_else(|| LogicError::not_found("environment", &promotion.source_env_id))?;
    let target_env = env(&promotion.target_env_id)
        .ok_or_else(|| LogicError::not_found("environment", &promotion.target_env_id))?;
    let target_release = match &promotion.target_release_id {
        Some(id) => store.release(id).await?,
        None => None,
    };
    let user = match &promotion.user_id {
        Some(id) => store.user(id).await?,
        None => None,
    };
    Ok(PromotionView {
        source_release: store.release(&promotion.source_release_id).await?,
        target_release,
        user,
        source_env,
        target_env,
        app,
        promotion,
    })
}

/// At startup (after interrupted releases were marked failed): ends the promotions a restart
/// cut off, and records how each ended in the audit log, in the name of who started it.
pub async fn recover(state: &AppState) {
    for done in promote::recover(state).await {
        let user = match &done.user_id {
            Some(id) => state.store().user(id).await.ok().flatten(),
            None => None,
        };
        let app = state.store().app(&done.app_id).await.ok().flatten();
        let (Some(user), Some(app)) = (user, app) else {
            continue;
        };
        let Some(production) = app.environment(Stage::Production).cloned() else {
            continue;
        };
        let actor = Actor {
            user,
            client: "doppel-server".to_string(),
            address: None,
        };
        record_end(state, &actor, &app, &production, &done).await;
    }
}

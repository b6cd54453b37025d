//! `/pipeline-promotions` (Heroku's: answered at once, the promotion running in the
//! background while clients poll its targets) and `POST /pipelines/{pipeline}/promote`
//! (doppel's: the same promotion, its progress streamed as plain text lines, the promotion's
//! id in the `Doppel-Promotion-Id` header). Both call `logic::promotions`; every refusal comes
//! before anything changes, as a Heroku error.

use super::body::Body;
use super::error::ApiError;
use super::views;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use doppel_api_types::common::IdRef;
use doppel_api_types::pipelines::{
    PipelinePromotion, PromoteBody, PromotionCreate, PromotionExtra, PromotionSource,
    PromotionTarget, ReleaseRef, PROMOTION_ID_HEADER,
};
use doppel_api_types::{NamedRef, UserRef};
use doppel_control::logic::promotions::{self, PromoteRequest, PromotionView};
use doppel_control::logic::Actor;
use doppel_control::state::AppState;
use doppel_control::workflows::progress::{Lines, Silent};
use doppel_store::{PromotionStatus, Release};

fn release_ref(r: &Release) -> ReleaseRef {
    ReleaseRef {
        id: r.id.clone(),
        version: Some(r.version),
    }
}

fn target_view(v: &PromotionView) -> PromotionTarget {
    PromotionTarget {
        id: v.promotion.target_id.clone(),
        app: views::env_ref(&v.target_env),
        pipeline_promotion: IdRef {
            id: v.promotion.id.clone(),
        },
        release: v.target_release.as_ref().map(release_ref),
        status: v.promotion.status.as_str().to_string(),
        error_message: v.promotion.error_message.clone(),
    }
}

fn promotion_view(state: &AppState, v: &PromotionView) -> PipelinePromotion {
    let p = &v.promotion;
    PipelinePromotion {
        id: p.id.clone(),
        pipeline: NamedRef::new(&v.app.id, &v.app.name),
        source: PromotionSource {
            app: views::env_ref(&v.source_env),
            release: v.source_release.as_ref().map(release_ref),
        },
        status: match p.status {
            PromotionStatus::Pending => "pending",
            _ => "completed",
        }
        .to_string(),
        created_at: p.created_at.clone(),
        updated_at: p.updated_at.clone(),
        doppel: PromotionExtra {
            target: Some(target_view(v)),
            forced: p.forced,
            reason: p.reason.clone(),
            user: v.user.as_ref().map(|u| UserRef {
                id: u.id.clone(),
                email: Some(u.email.clone()),
            }),
            web_url: state.urls().web_url(&v.target_env.name),
        },
    }
}

/// Heroku's body in doppel's words.
fn request_of(body: PromotionCreate) -> Result<PromoteRequest, ApiError> {
    let source = body.source.unwrap_or_default();
    let source_app = source
        .app
        .as_ref()
        .and_then(|a| a.key())
        .map(str::to_string);
    let pipeline = body
        .pipeline
        .as_ref()
        .and_then(|p| p.key())
        .map(str::to_string)
        .or_else(|| source_app.clone())
        .ok_or_else(|| ApiError::invalid("Name the pipeline: {\"pipeline\": {\"id\": …}}."))?;
    let targets = body.targets.map(|list| {
        list.iter()
            .map(|t| {
                t.app
                    .as_ref()
                    .and_then(|a| a.key())
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    });
    let options = body.doppel.unwrap_or_default();
    Ok(PromoteRequest {
        pipeline,
        source: source_app,
        targets,
        release: source
            .release
            .as_ref()
            .and_then(|r| r.key())
            .map(str::to_string),
        force: options.force,
        reason: options.reason,
    })
}

/// `POST /pipeline-promotions` → 201, the promotion `pending` while it runs.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Body(body): Body<PromotionCreate>,
) -> Result<(StatusCode, Json<PipelinePromotion>), ApiError> {
    let req = request_of(body)?;
    let (view, _running) = promotions::start(&state, &actor, &req, Box::new(Silent)).await?;
    Ok((StatusCode::CREATED, Json(promotion_view(&state, &view))))
}

/// `GET /pipeline-promotions/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<PipelinePromotion>, ApiError> {
    let view = promotions::show(&state, &actor, &id).await?;
    Ok(Json(promotion_view(&state, &view)))
}

/// `GET /pipeline-promotions/{id}/promotion-targets` (the CLI polls it every second).
pub async fn targets(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Json<Vec<PromotionTarget>>, ApiError> {
    let view = promotions::show(&state, &actor, &id).await?;
    Ok(Json(vec![target_view(&view)]))
}

/// `POST /pipelines/{pipeline}/promote`: promotes staging (or `release`) to production and
/// streams the progress as text lines until it ends.
pub async fn promote(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(pipeline): Path<String>,
    Body(body): Body<PromoteBody>,
) -> Result<Response, ApiError> {
    let req = PromoteRequest {
        pipeline,
        release: body.release,
        force: body.force,
        reason: body.reason,
        ..Default::default()
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(256);
    let (view, _running) = promotions::start(&state, &actor, &req, Box::new(Lines(tx))).await?;
    let lines = futures_util::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        Some((
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from(format!("{line}\n"))),
            rx,
        ))
    });
    let mut response = axum::body::Body::from_stream(lines).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(id) = HeaderValue::from_str(&view.promotion.id) {
        headers.insert(PROMOTION_ID_HEADER, id);
    }
    Ok(response)
}

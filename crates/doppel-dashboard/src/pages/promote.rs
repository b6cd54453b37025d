//! Promotion from the pipeline view: the same `logic::promotions::start` the API and CLI
//! use. Refused (drift, nothing to promote…) it changes nothing and the pipeline view lists
//! each drifting item with the command that fixes it; forced, it needs a reason (kept in the
//! audit log). Started, the browser goes to the promotion's page, where its progress streams
//! until production serves.

use super::{finish, notice};
use crate::error::PageError;
use crate::flash::Notice;
use crate::layout::{self, when};
use crate::live::{self, Events};
use crate::session::see_other;
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use doppel_control::logic::promotions::{self, PromoteRequest};
use doppel_control::logic::{parity, LogicError};
use doppel_control::workflows::progress::Lines;
use doppel_store::PromotionStatus;
use futures_util::StreamExt;
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
pub struct PromoteForm {
    release: Option<String>,
    force: Option<String>,
    reason: Option<String>,
}

/// `POST /apps/{app}/promote`.
pub async fn start(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(app): Path<String>,
    Form(f): Form<PromoteForm>,
) -> Response {
    let actor = viewer.actor();
    let req = PromoteRequest {
        pipeline: app.clone(),
        release: f.release.filter(|r| !r.trim().is_empty()),
        force: f.force.is_some_and(|v| v == "true"),
        reason: f.reason,
        ..Default::default()
    };
    let back = format!("/apps/{app}");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(256);
    match promotions::start(&dash.app, &actor, &req, Box::new(Lines(tx))).await {
        Ok((view, _running)) => {
            // Lines wait in the channel until the promotion's output exists under its id.
            let guard = dash.promotions.start(&view.promotion.id);
            tokio::spawn(async move {
                let out = guard.output();
                while let Some(line) = rx.recv().await {
                    out.push(&line);
                }
                drop(guard);
            });
            see_other(&format!("/apps/{app}/promotions/{}", view.promotion.id))
        }
        Err(LogicError::Conflict(text)) if text.starts_with("Promotion refused") => {
            let refused = refusal(&dash, &viewer, &app)
                .await
                .unwrap_or_else(|| super::refusal(&LogicError::Conflict(text)));
            finish(&dash, &viewer, &back, Ok(refused))
        }
        Err(e) => finish(&dash, &viewer, &back, Err(e)),
    }
}

/// The drift that refused a promotion, item by item with its fix.
async fn refusal(dash: &Dashboard, viewer: &Viewer, app: &str) -> Option<Notice> {
    let report = parity::report(&dash.app, &viewer.actor(), app).await.ok()?;
    let mut notice = Notice::error(format!(
        "Promotion refused: {} and {} have drifted apart. Nothing changed.",
        report.staging.name, report.production.name
    ));
    for d in report.drift() {
        notice = notice.item(format!("[{}] {}", d.id(), d.message), d.fix.clone());
    }
    Some(notice.item(
        "Fix these, have an admin mark a difference intended, or promote anyway with a reason.",
        None,
    ))
}

/// `GET /apps/{app}/promotions/{id}`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path((app, id)): Path<(String, String)>,
) -> Result<Markup, PageError> {
    let view = promotions::show(&dash.app, &viewer.actor(), &id).await?;
    if view.app.name != app {
        return Err(PageError::NotFound);
    }
    let p = &view.promotion;
    let url = dash.app.urls().web_url(&view.target_env.name);
    let source = view.source_release.as_ref().map(|r| r.version);
    let body = html! {
        h1 { "Promotion of " (view.app.name) }
        p.meta {
            "staging " @if let Some(v) = source { "v" (v) } " → " (view.target_env.name)
            " · started " (when(&p.created_at))
            @if let Some(u) = &view.user { " by " (u.email) }
            @if p.forced { " · forced: " span.reason { (p.reason.as_deref().unwrap_or("")) } }
        }
        @match p.status {
            PromotionStatus::Pending => {
                p.state.deploying role="status" { "Promoting…" }
                pre.output data-stream={ "/apps/" (app) "/promotions/" (p.id) "/stream" } data-reload {}
            }
            PromotionStatus::Succeeded => {
                p.state.up role="status" {
                    "Succeeded: production "
                    @if let Some(r) = &view.target_release { "v" (r.version) " " }
                    "serves at " a href=(url) rel="noopener" { (url) }
                }
            }
            _ => {
                p.state.crashed role="alert" {
                    "Failed: " (p.error_message.as_deref().unwrap_or("the promotion did not finish"))
                    ". Production keeps serving what it served before."
                }
            }
        }
        p { a href={ "/apps/" (app) } { "Back to the pipeline" } }
    };
    Ok(layout::page(
        "Promotion",
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

/// `GET /apps/{app}/promotions/{id}/stream`: the progress lines, then `end` once it finished.
pub async fn stream(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path((_app, id)): Path<(String, String)>,
) -> Result<Events, PageError> {
    let actor = viewer.actor();
    let view = promotions::show(&dash.app, &actor, &id).await?;
    if let Some(live) = dash.promotions.get(&view.promotion.id) {
        return Ok(live::sse(live::follow(live.reader())));
    }
    // Started elsewhere (the CLI, the API) or already over: wait for its end.
    let state = dash.app.clone();
    let ended = futures_util::stream::unfold(false, move |done| {
        let (state, actor, id) = (state.clone(), actor.clone(), id.clone());
        async move {
            if done {
                return None;
            }
            loop {
                match promotions::show(&state, &actor, &id).await {
                    Ok(v) if v.promotion.status == PromotionStatus::Pending => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Ok(v) => return Some((live::end(v.promotion.status.as_str()), true)),
                    Err(_) => return Some((live::end("gone"), true)),
                }
            }
        }
    });
    Ok(live::sse(ended.boxed()))
}

//! The pipeline view: staging and production side by side (release, image, who deployed it
//! and when, dynos and their state, config var keys, add-ons, stack), every parity difference
//! marked drift, expected or intended (with the mark's reason), and **Promote to
//! production**. A build running in either environment streams into the page, then the
//! rollout of its release step by step ([`super::rollout`]); the page reloads its main part
//! when releases, builds, rollout steps or dynos change.

use super::rollout::{self, Rollouts};
use super::{notice, stage_word};
use crate::error::PageError;
use crate::layout::{self, csrf_field, when};
use crate::live::{self, Events};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use doppel_control::logic::overview::{self, AppOverview, EnvSummary};
use doppel_control::logic::parity::{self, Aspect, Class, Difference, Report};
use doppel_control::logic::LogicError;
use doppel_control::state::AppState;
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

/// How often the live stream looks for changes.
const LIVE_EVERY: Duration = Duration::from_secs(2);

/// Aspects shown in the environment columns (the rest only in the parity table).
const COLUMN_ASPECTS: &[&str] = &["config", "addons", "process", "stack"];

/// `GET /apps/{app}`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(app): Path<String>,
) -> Result<Markup, PageError> {
    let actor = viewer.actor();
    let view = overview::app(&dash.app, &actor, &app).await?;
    let report = match parity::report(&dash.app, &actor, &view.app.name).await {
        Ok(r) => Some(r),
        // A member with one environment sees that one, without the comparison.
        Err(LogicError::Forbidden(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let rollouts = Rollouts::of(&dash.app, &view).await?;
    let live = format!(
        "/apps/{}/live?v={}",
        view.app.name,
        live::digest(&fingerprint(&view, &rollouts))
    );
    let body = html! {
        h1 { (view.app.name) " " span.sub { "pipeline" } }
        @if report.is_none() {
            p.hint { "You can use only one environment of this app, so it is shown alone." }
        }
        @if let Some(r) = &report { (promote_box(&viewer, &view, r)) }
        div.columns {
            @for e in &view.envs { (column(e, report.as_ref(), &rollouts)) }
        }
        @if let Some(r) = &report { (parity_table(r)) }
        p { a href={ "/apps/" (view.app.name) "/activity" } { "Activity of " (view.app.name) } }
    };
    Ok(layout::page(
        &view.app.name,
        &viewer,
        notice(&dash, &viewer).as_ref(),
        Some(&live),
        body,
    ))
}

#[derive(Deserialize)]
pub struct Since {
    v: Option<String>,
}

/// `GET /apps/{app}/live`: `changed` whenever releases, builds or dynos change.
pub async fn live(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(app): Path<String>,
    Query(since): Query<Since>,
) -> Result<Events, PageError> {
    let actor = viewer.actor();
    overview::app(&dash.app, &actor, &app).await?;
    let state = dash.app.clone();
    let events = live::changes(LIVE_EVERY, since.v, move || {
        let (state, actor, app) = (state.clone(), actor.clone(), app.clone());
        async move {
            let view = overview::app(&state, &actor, &app).await.ok()?;
            digest(&state, &view).await.ok()
        }
    });
    Ok(live::sse(events))
}

/// The digest of what the pipeline view shows that changes while work runs (the `v` of the
/// live stream's address, for every page that follows it).
pub(crate) async fn digest(state: &AppState, view: &AppOverview) -> Result<String, PageError> {
    let rollouts = Rollouts::of(state, view).await?;
    Ok(live::digest(&fingerprint(view, &rollouts)))
}

/// What the page shows that changes while work runs.
fn fingerprint(view: &AppOverview, rollouts: &Rollouts) -> String {
    let mut text = String::new();
    for e in &view.envs {
        let latest = e.latest.as_ref().map(|r| (&r.id, r.status.as_str()));
        text.push_str(&format!(
            "{}|{:?}|{:?}|{:?}|{}|",
            e.env.id,
            latest,
            e.current.as_ref().map(|r| &r.id),
            e.building.as_ref().map(|b| &b.id),
            e.env.maintenance
        ));
        for d in &e.dynos {
            text.push_str(&format!("{}:{}:{:?};", d.name, d.running, d.version));
        }
    }
    text.push_str(&rollouts.fingerprint());
    text
}

fn column(e: &EnvSummary, report: Option<&Report>, rollouts: &Rollouts) -> Markup {
    let state = e.state();
    html! {
        section.column aria-label=(e.env.name) {
            h2 {
                span.stage { (stage_word(e.env.stage)) } " "
                a href={ "/envs/" (e.env.name) "/releases" } { (e.env.name) }
                " " span class={ "state " (state.replace(' ', "-")) } { (state) }
            }
            p.url { a href=(e.url) rel="noopener" { (e.url) } }
            (release_block(e))
            (rollout::block(e, rollouts))
            @if let Some(b) = &e.building {
                h3 { "Build running" }
                p.meta { "commit " code { (short(&b.commit, 10)) } " since " (when(&b.created_at)) }
                pre.output data-stream={ "/envs/" (e.env.name) "/builds/" (b.id) "/stream" } {}
            }
            h3 { "Dynos" }
            @if e.dynos.is_empty() {
                p.empty { "none running" }
            } @else {
                ul.dynos {
                    @for d in &e.dynos {
                        li.up[d.running].down[!d.running] {
                            (d.name) " "
                            @if d.running { "up" } @else {
                                "crashed"
                                @if let Some(code) = d.exit_code { " (exit " (code) ")" }
                            }
                            @if let Some(v) = d.version { " · v" (v) }
                        }
                    }
                }
            }
            @if let Some(r) = report {
                @for a in r.aspects.iter().filter(|a| COLUMN_ASPECTS.contains(&a.name)) {
                    (side_list(a, e.env.stage))
                }
            } @else {
                h3 { "Stack" } p { (e.stack) }
            }
            (layout::env_links(&e.env.name))
        }
    }
}

fn release_block(e: &EnvSummary) -> Markup {
    html! {
        h3 { "Release" }
        @match &e.current {
            Some(r) => {
                p.release {
                    strong { "v" (r.version) } " " (r.description)
                }
                p.meta {
                    "image " code { (layout::short_image(&r.image_id)) }
                    " · deployed " (when(&r.created_at))
                    @if let Some(by) = &e.deployed_by { " by " (by) }
                }
            }
            None => { p.empty { "No release yet." } }
        }
        @if let Some(l) = &e.latest {
            @if e.current.as_ref().map(|c| &c.id) != Some(&l.id) {
                p.meta { "Newest: v" (l.version) " " (l.status.as_str()) " (" (l.description) ")" }
            }
        }
    }
}

fn side_list(a: &Aspect, stage: doppel_types::Stage) -> Markup {
    let items = match stage {
        doppel_types::Stage::Staging => &a.staging,
        doppel_types::Stage::Production => &a.production,
    };
    html! {
        h3 { (a.title) }
        @if items.is_empty() { p.empty { "none" } } @else {
            ul.keys { @for i in items { li { code { (i) } } } }
        }
    }
}

fn promote_box(viewer: &Viewer, view: &AppOverview, r: &Report) -> Markup {
    let staging = view.envs.iter().find(|e| e.env.id == r.staging.id);
    let version = staging.and_then(|s| s.current.as_ref()).map(|c| c.version);
    let drift = r.drift();
    html! {
        section.promote {
            @match version {
                Some(v) => {
                    form method="post" action={ "/apps/" (r.app.name) "/promote" } {
                        (csrf_field(viewer))
                        input type="hidden" name="release" value={ "v" (v) };
                        button.primary type="submit" { "Promote to production" }
                        span.hint { " staging v" (v) " → " (r.production.name) }
                    }
                    @if !drift.is_empty() {
                        p.drift-count { (drift.len()) " difference(s) are drift: a promotion is refused until they are fixed, marked intended, or the promotion is forced." }
                        details.force {
                            summary { "Promote anyway…" }
                            form method="post" action={ "/apps/" (r.app.name) "/promote" } {
                                (csrf_field(viewer))
                                input type="hidden" name="release" value={ "v" (v) };
                                input type="hidden" name="force" value="true";
                                label for="reason" { "Reason (kept in the audit log)" }
                                textarea #reason name="reason" required rows="2" {}
                                button.danger type="submit" { "Force the promotion" }
                            }
                        }
                    }
                }
                None => { p.empty { "Staging has no release to promote yet: push to " (r.staging.name) " first." } }
            }
        }
    }
}

fn parity_table(r: &Report) -> Markup {
    html! {
        section.parity {
            h2 { "Parity" }
            p.summary {
                (r.count(Class::Drift)) " drift · "
                (r.count(Class::Expected)) " expected · "
                (r.count(Class::Intended)) " intended"
            }
            @for a in &r.aspects {
                @if !a.differences.is_empty() {
                    h3 { (a.title) }
                    ul.differences { @for d in &a.differences { li { (difference(d)) } } }
                }
            }
        }
    }
}

fn difference(d: &Difference) -> Markup {
    let class = d.class.as_str();
    html! {
        span class={ "badge " (class) } { (class) } " "
        code.id { (d.id()) } " " (d.message)
        @if let Some(fix) = &d.fix { " Fix: " code.fix { (fix) } }
        @if let Some(m) = &d.mark { " " span.reason { "Intended: " (m.reason) } }
    }
}

fn short(text: &str, n: usize) -> &str {
    text.get(..n).unwrap_or(text)
}

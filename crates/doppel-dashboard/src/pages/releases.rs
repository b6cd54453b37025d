//! An environment's releases, newest first, with their descriptions, who made them and
//! **Roll back to here** (`logic::releases::rollback`: a new release with that one's image
//! and config). A build running now streams into the page.

use super::{finish, notice, stage_word};
use crate::error::PageError;
use crate::flash::Notice;
use crate::layout::{self, csrf_field, when};
use crate::live::{self, Events};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use doppel_control::logic::builds::{self, BuildOutput};
use doppel_control::logic::{overview, releases};
use doppel_store::{Release, ReleaseStatus};
use maud::{html, Markup};
use std::collections::HashMap;

/// Releases shown (the newest).
const SHOWN: usize = 100;

/// `GET /envs/{env}/releases`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
) -> Result<Markup, PageError> {
    let actor = viewer.actor();
    let (environment, list, current) = releases::list(&dash.app, &actor, &env).await?;
    let view = overview::app(&dash.app, &actor, &environment.name).await?;
    let summary = view.envs.iter().find(|e| e.env.id == environment.id);
    let emails = super::emails(
        &dash,
        list.iter()
            .rev()
            .take(SHOWN)
            .filter_map(|r| r.user_id.clone()),
    )
    .await?;
    let live = format!(
        "/apps/{}/live?v={}",
        view.app.name,
        super::pipeline::digest(&dash.app, &view).await?
    );
    let body = html! {
        h1 { (environment.name) " " span.sub { (stage_word(environment.stage)) " releases" } }
        (layout::env_tabs(&environment.app_name, &environment.name, "releases"))
        @if let Some(b) = summary.and_then(|s| s.building.as_ref()) {
            h2 { "Build running" }
            pre.output data-stream={ "/envs/" (environment.name) "/builds/" (b.id) "/stream" } {}
        }
        @if list.is_empty() {
            p.empty { "No releases yet: push to " (environment.name) " to make the first." }
        } @else {
            table.releases {
                thead { tr { th { "Version" } th { "Description" } th { "When, who" } th { "Status" } th { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for r in list.iter().rev().take(SHOWN) {
                        (row(&viewer, &environment.name, r, current, &emails))
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &format!("{} releases", environment.name),
        &viewer,
        notice(&dash, &viewer).as_ref(),
        Some(&live),
        body,
    ))
}

fn row(
    viewer: &Viewer,
    env: &str,
    r: &Release,
    current: Option<i64>,
    emails: &HashMap<String, String>,
) -> Markup {
    let is_current = current == Some(r.version);
    let can_roll_back = !is_current && r.status == ReleaseStatus::Succeeded && current.is_some();
    html! {
        tr.current[is_current] {
            td { "v" (r.version) @if is_current { " " span.badge.expected { "current" } } }
            td { (r.description) }
            td {
                (when(&r.created_at))
                @if let Some(email) = r.user_id.as_ref().and_then(|id| emails.get(id)) { br; (email) }
            }
            td class={ "state " (r.status.as_str()) } { (r.status.as_str()) }
            td {
                @if can_roll_back {
                    form method="post" action={ "/envs/" (env) "/releases/v" (r.version) "/rollback" }
                        data-confirm={ "Roll " (env) " back to v" (r.version) " (its image and its config)?" } {
                        (csrf_field(viewer))
                        button type="submit" { "Roll back to here" }
                    }
                }
            }
        }
    }
}

/// `POST /envs/{env}/releases/{version}/rollback`: answered once the new release serves.
pub async fn rollback(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path((env, version)): Path<(String, String)>,
) -> Response {
    let (app, actor, target, to) = (
        dash.app.clone(),
        viewer.actor(),
        env.clone(),
        version.clone(),
    );
    let result =
        super::detached(async move { releases::rollback(&app, &actor, &target, &to).await })
            .await
            .map(|made| {
                Notice::ok(format!(
                    "Rolled {env} back to {version}: v{} serves ({}).",
                    made.version, made.description
                ))
            });
    finish(&dash, &viewer, &format!("/envs/{env}/releases"), result)
}

/// `GET /envs/{env}/builds/{build}/stream`: a build's output, live while it runs.
pub async fn build_stream(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path((env, build)): Path<(String, String)>,
) -> Result<Events, PageError> {
    Ok(
        match builds::follow(&dash.app, &viewer.actor(), &env, &build).await? {
            BuildOutput::Live(reader) => live::sse(live::follow(reader)),
            BuildOutput::Stored(text) => live::sse(live::text(&text)),
        },
    )
}

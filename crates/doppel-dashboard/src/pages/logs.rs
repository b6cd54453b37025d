//! An environment's log stream, tailing live in the page. (Interim: the page and its access
//! check; the stream itself follows the per-environment log stream once it is merged.)

use super::{notice, stage_word};
use crate::error::PageError;
use crate::layout;
use crate::live::{self, Events};
use crate::session::Viewer;
use crate::state::Dashboard;
use axum::extract::{Path, State};
use doppel_control::logic::apps;
use maud::{html, Markup};

/// `GET /envs/{env}/logs`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
) -> Result<Markup, PageError> {
    let view = apps::show(&dash.app, &viewer.actor(), &env).await?;
    let name = &view.env.name;
    let body = html! {
        h1 { (name) " " span.sub { (stage_word(view.env.stage)) " logs" } }
        (layout::env_tabs(&view.env.app_name, name, "logs"))
        pre.output.logs data-stream={ "/envs/" (name) "/logs/stream" } aria-live="polite" {}
    };
    Ok(layout::page(
        &format!("{name} logs"),
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

/// `GET /envs/{env}/logs/stream`.
pub async fn stream(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
) -> Result<Events, PageError> {
    apps::show(&dash.app, &viewer.actor(), &env).await?;
    Ok(live::sse(live::text("")))
}

//! An environment's log stream, tailing live in the page: its last lines, then every new one
//! (the same stream `doppel logs --tail` and Heroku's log sessions read). Lines go to the
//! page as text, never markup.

use super::{notice, stage_word};
use crate::error::PageError;
use crate::layout;
use crate::live::{self, Events};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::sse::Event;
use doppel_control::logic::apps;
use doppel_control::logic::logs::DEFAULT_LINES;
use doppel_control::logs::{Filter, LogLine, SOURCE_HEROKU};
use futures_util::stream::{self, StreamExt};
use http::HeaderMap;
use maud::{html, Markup};
use std::convert::Infallible;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::broadcast;

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

/// `GET /envs/{env}/logs/stream`: the last lines, then new ones as they come.
/// Every line's event id is its time, so a browser that reconnects (it sends the last id as
/// `Last-Event-ID`) gets only what came after instead of the history again.
pub async fn stream(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    headers: HeaderMap,
) -> Result<Events, PageError> {
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| OffsetDateTime::parse(v, &Rfc3339).ok());
    let view = apps::show(&dash.app, &viewer.actor(), &env).await?;
    let hub = dash.app.logs();
    // Subscribe before reading the past, so no line falls between the two.
    let rx = hub.subscribe(&view.env.id);
    let past = hub
        .recent(&view.env.id, DEFAULT_LINES, &Filter::default())
        .await;
    let past: Vec<LogLine> = past
        .into_iter()
        .filter(|l| resumed.is_none_or(|r| l.time > r))
        .collect();
    let last = past.last().map(|l| l.time).or(resumed);
    let seen: Vec<String> = past
        .iter()
        .filter(|l| Some(l.time) == last)
        .map(LogLine::render)
        .collect();
    let history: Vec<_> = past.iter().map(event).collect();
    let fresh = tail(rx)
        .filter(move |l| {
            let new =
                last.is_none_or(|t| l.time > t || (l.time == t && !seen.contains(&l.render())));
            std::future::ready(new)
        })
        .map(|l| event(&l));
    Ok(live::sse(stream::iter(history).chain(fresh)))
}

/// A log line as a `line` event whose id is the line's time.
fn event(l: &LogLine) -> Result<Event, Infallible> {
    let id = l.time.format(&Rfc3339).unwrap_or_default();
    live::line(&l.render()).map(|e| e.id(id))
}

/// New lines of a subscription; a reader that fell behind is told how many it missed.
fn tail(rx: broadcast::Receiver<Arc<LogLine>>) -> impl futures_util::Stream<Item = LogLine> + Send {
    stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(line) => Some(((*line).clone(), rx)),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                let text = format!("Error L11 (Tail buffer overflow) -> {n} lines were dropped");
                Some((LogLine::now(SOURCE_HEROKU, "logplex", text), rx))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
}

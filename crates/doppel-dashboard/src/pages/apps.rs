//! The apps page: every app the viewer may see as a pipeline, staging beside production,
//! each with its release, state and URL.

use super::{notice, stage_word};
use crate::error::PageError;
use crate::layout;
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::State;
use doppel_control::logic::overview::{self, AppOverview, EnvSummary};
use maud::{html, Markup};

/// `GET /`.
pub async fn index(State(dash): State<Dashboard>, viewer: Viewer) -> Result<Markup, PageError> {
    let apps = overview::apps(&dash.app, &viewer.actor()).await?;
    let body = html! {
        h1 { "Apps" }
        @if apps.is_empty() {
            p.empty {
                "No apps yet. Create one with " code { "doppel apps:create NAME" }
                " (it gets NAME-staging and NAME), then " code { "git push" } " to staging."
            }
        } @else {
            p.count { (apps.len()) " app" @if apps.len() != 1 { "s" } }
            ul.apps { @for a in &apps { li { (app_card(a)) } } }
        }
    };
    Ok(layout::page(
        "Apps",
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

fn app_card(a: &AppOverview) -> Markup {
    html! {
        article.app {
            h2 { a href={ "/apps/" (a.app.name) } { (a.app.name) } }
            div.envs {
                @for e in &a.envs { (env_line(e)) }
            }
        }
    }
}

/// One environment in a line: stage, release, state, URL.
pub fn env_line(e: &EnvSummary) -> Markup {
    let state = e.state();
    html! {
        div.env {
            span.stage { (stage_word(e.env.stage)) }
            a.name href={ "/envs/" (e.env.name) "/releases" } { (e.env.name) }
            span.release {
                @match &e.current {
                    Some(r) => { "v" (r.version) }
                    None => { "no release" }
                }
            }
            span class={ "state " (state.replace(' ', "-")) } { (state) }
            a.url href=(e.url) rel="noopener" { (e.url) }
        }
    }
}

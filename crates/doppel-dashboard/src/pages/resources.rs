//! An environment's resources: its process types with their dyno counts and sizes, scaled
//! and resized from the page (`logic::formation::update`, as `ps:scale` and `ps:resize`), and
//! its add-ons with their backups ([`super::backups`]). The page follows captures and
//! restores live: it refreshes when an add-on's state or a backup's changes.

use super::backups::{self, AddonBackups};
use super::{finish, notice, stage_word};
use crate::error::PageError;
use crate::flash::Notice;
use crate::layout::{self, csrf_field};
use crate::live::{self, Events};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use doppel_control::logic::addons::AddonView;
use doppel_control::logic::formation::{self, Update, MAX_QUANTITY};
use doppel_control::logic::{addons, dyno_sizes, Actor, LogicError};
use doppel_control::state::AppState;
use doppel_store::QuantityChange;
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

/// How often the live stream looks for changed add-ons and backups.
const LIVE_EVERY: Duration = Duration::from_secs(2);

/// `GET /envs/{env}/resources`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
) -> Result<Markup, PageError> {
    let actor = viewer.actor();
    let (environment, processes) = formation::list(&dash.app, &actor, &env).await?;
    let owned = addons::list(&dash.app, &actor, Some(&env)).await?;
    let backed = backups::of_addons(&dash.app, &actor, &owned).await?;
    let name = &environment.name;
    let live = format!(
        "/envs/{name}/resources/live?v={}",
        live::digest(&fingerprint(&owned, &backed))
    );
    let sizes = dyno_sizes::list();
    let body = html! {
        h1 { (name) " " span.sub { (stage_word(environment.stage)) " resources" } }
        (layout::env_tabs(&environment.app_name, name, "resources"))
        h2 { "Process types" }
        @if processes.is_empty() {
            p.empty { "No process types yet: they come with the first release." }
        } @else {
            table.formation {
                thead { tr { th { "Type" } th { "Command" } th { "Dynos" } th { "Size" } th { span.visually-hidden { "Scale" } } } }
                tbody {
                    @for p in &processes {
                        @let t = &p.entry.process_type;
                        tr {
                            th scope="row" { (t) }
                            td { code { (if p.command.is_empty() { "(the image's CMD)" } else { p.command.as_str() }) } }
                            td { (p.entry.quantity) }
                            td { (p.entry.size) }
                            td {
                                form.scale method="post" action={ "/envs/" (name) "/formation" } {
                                    (csrf_field(&viewer))
                                    input type="hidden" name="type" value=(t);
                                    label for={ "qty-" (t) } { "Dynos of " (t) }
                                    input id={ "qty-" (t) } type="number" name="quantity" min="0" max=(MAX_QUANTITY) value=(p.entry.quantity) required;
                                    label for={ "size-" (t) } { "Size of " (t) }
                                    select id={ "size-" (t) } name="size" {
                                        @for s in sizes {
                                            option value=(s.name) selected[s.name.eq_ignore_ascii_case(&p.entry.size)] {
                                                (s.name) " (" (s.memory_mb) " MiB)"
                                            }
                                        }
                                    }
                                    button type="submit" { "Scale" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add-ons" }
        @if owned.is_empty() {
            p.empty { "No add-ons belong to " (name) ": " code { "doppel addons:create postgres -a " (name) } "." }
        } @else {
            table.addons {
                thead { tr { th { "Add-on" } th { "Plan" } th { "State" } th { "Config vars" } } }
                tbody {
                    @for a in &owned {
                        tr {
                            th scope="row" { (a.addon.name) }
                            td { (a.addon.service) ":" (a.addon.plan) }
                            td class={ "state " (a.addon.state.as_str()) } { (a.addon.state.as_str()) }
                            td { @for v in a.config_vars() { code { (v) } " " } }
                        }
                    }
                }
            }
            @for b in &backed { (backups::section(&viewer, name, b)) }
        }
    };
    Ok(layout::page(
        &format!("{name} resources"),
        &viewer,
        notice(&dash, &viewer).as_ref(),
        Some(&live),
        body,
    ))
}

/// What the page shows of add-ons that changes while they work: their states and backups.
fn fingerprint(owned: &[AddonView], backed: &[AddonBackups]) -> String {
    let mut text = String::new();
    for a in owned {
        text.push_str(&format!("{}:{};", a.addon.id, a.addon.state.as_str()));
    }
    text.push_str(&backups::fingerprint(backed));
    text
}

async fn current(state: &AppState, actor: &Actor, env: &str) -> Option<String> {
    let owned = addons::list(state, actor, Some(env)).await.ok()?;
    let backed = backups::of_addons(state, actor, &owned).await.ok()?;
    Some(live::digest(&fingerprint(&owned, &backed)))
}

#[derive(Deserialize)]
pub struct Since {
    v: Option<String>,
}

/// `GET /envs/{env}/resources/live`: `changed` whenever an add-on's state or a backup changes.
pub async fn live(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Query(since): Query<Since>,
) -> Result<Events, PageError> {
    let actor = viewer.actor();
    formation::list(&dash.app, &actor, &env).await?;
    let state = dash.app.clone();
    let events = live::changes(LIVE_EVERY, since.v, move || {
        let (state, actor, env) = (state.clone(), actor.clone(), env.clone());
        async move { current(&state, &actor, &env).await }
    });
    Ok(live::sse(events))
}

#[derive(Deserialize)]
pub struct Scale {
    #[serde(rename = "type", default)]
    process_type: String,
    #[serde(default)]
    quantity: String,
    size: Option<String>,
}

/// `POST /envs/{env}/formation {type, quantity, size}`.
pub async fn scale(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<Scale>,
) -> Response {
    let back = format!("/envs/{env}/resources");
    let quantity = match f.quantity.trim().parse::<i64>() {
        Ok(q) => q,
        Err(_) => {
            let e = LogicError::Invalid(format!(
                "{:?} is not a number of dynos (0 to {MAX_QUANTITY}).",
                f.quantity
            ));
            return finish(&dash, &viewer, &back, Err(e));
        }
    };
    let update = Update {
        process_type: f.process_type.clone(),
        quantity: Some(QuantityChange::Set(quantity)),
        size: f.size.filter(|s| !s.is_empty()),
    };
    let (app, actor, target) = (dash.app.clone(), viewer.actor(), env.clone());
    let result =
        super::detached(async move { formation::update(&app, &actor, &target, &[update]).await })
            .await
            .map(|(_, changed)| {
                let what: Vec<String> = changed
                    .iter()
                    .map(|p| {
                        format!(
                            "{}={}:{}",
                            p.entry.process_type, p.entry.quantity, p.entry.size
                        )
                    })
                    .collect();
                Notice::ok(format!("Scaled {env}: {}.", what.join(", ")))
            });
    finish(&dash, &viewer, &back, result)
}

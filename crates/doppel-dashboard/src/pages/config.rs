//! An environment's config vars: keys listed, values hidden until revealed one at a time (a
//! value is in the page only when asked for); add, edit and remove go through
//! `logic::config_vars::update`, which makes a release as the CLI's `config:set` does. The
//! edit form is in the page only for the key being edited (`?edit=KEY`): a page of many keys
//! stays small.

use super::{finish, notice, stage_word};
use crate::error::PageError;
use crate::flash::Notice;
use crate::layout::{self, csrf_field};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use doppel_control::logic::config_vars::{self, ConfigChanges, ConfigUpdate};
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Reveal {
    reveal: Option<String>,
    edit: Option<String>,
}

/// `GET /envs/{env}/config[?reveal=KEY][&edit=KEY]`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Query(q): Query<Reveal>,
) -> Result<Markup, PageError> {
    let (environment, config) = config_vars::show(&dash.app, &viewer.actor(), &env).await?;
    let shown = q.reveal.as_deref();
    let editing = q.edit.as_deref();
    let name = &environment.name;
    let body = html! {
        h1 { (name) " " span.sub { (stage_word(environment.stage)) " config vars" } }
        (layout::env_tabs(&environment.app_name, name, "config"))
        p.hint { "Every change makes a new release that " (name) " rolls onto; the page answers once it serves." }
        @if config.is_empty() {
            p.empty { "No config vars yet." }
        } @else {
            table.config {
                thead { tr { th { "Key" } th { "Value" } th { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for (key, value) in &config {
                        tr id={ "var-" (key) } {
                            th scope="row" { code.key { (key) } }
                            td.value {
                                @if shown == Some(key.as_str()) {
                                    code.revealed { (value) } " "
                                    a href={ "/envs/" (name) "/config" } { "Hide" }
                                } @else {
                                    span.hidden-value aria-label="hidden" { "••••••••" } " "
                                    a href={ "/envs/" (name) "/config?reveal=" (key) "#var-" (key) } { "Reveal" }
                                }
                            }
                            td.actions {
                                @if editing == Some(key.as_str()) {
                                    form method="post" action={ "/envs/" (name) "/config" } {
                                        (csrf_field(&viewer))
                                        input type="hidden" name="key" value=(key);
                                        label for={ "edit-" (key) } { "New value of " (key) }
                                        textarea id={ "edit-" (key) } name="value" rows="2" required autofocus {}
                                        button type="submit" { "Save" } " "
                                        a href={ "/envs/" (name) "/config" } { "Cancel" }
                                    }
                                } @else {
                                    a.button href={ "/envs/" (name) "/config?edit=" (key) "#var-" (key) } { "Edit" }
                                }
                                form method="post" action={ "/envs/" (name) "/config/remove" }
                                    data-confirm={ "Remove " (key) " from " (name) "? This makes a new release." } {
                                    (csrf_field(&viewer))
                                    input type="hidden" name="key" value=(key);
                                    button.danger type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.add {
            h2 { "Add a config var" }
            form method="post" action={ "/envs/" (name) "/config" } {
                (csrf_field(&viewer))
                label for="new-key" { "Key" }
                input #new-key type="text" name="key" required pattern="[A-Za-z_][A-Za-z0-9_]*" autocomplete="off" spellcheck="false";
                label for="new-value" { "Value" }
                textarea #new-value name="value" rows="2" {}
                button.primary type="submit" { "Add" }
            }
        }
    };
    Ok(layout::page(
        &format!("{name} config vars"),
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

#[derive(Deserialize)]
pub struct SetVar {
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
pub struct RemoveVar {
    #[serde(default)]
    key: String,
}

fn outcome(done: &ConfigUpdate, what: String) -> Notice {
    match &done.release {
        Some(r) => Notice::ok(format!("{what}: v{} serves.", r.version)),
        None => Notice::ok(format!(
            "{what}. {} has no release yet: its first build takes it.",
            done.env.name
        )),
    }
}

/// `POST /envs/{env}/config {key, value}`: sets one var (a new release).
pub async fn set(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<SetVar>,
) -> Response {
    let key = f.key.trim().to_string();
    let changes: ConfigChanges = [(key.clone(), Some(f.value))].into_iter().collect();
    let (app, actor, target) = (dash.app.clone(), viewer.actor(), env.clone());
    let result =
        super::detached(async move { config_vars::update(&app, &actor, &target, changes).await })
            .await
            .map(|done| outcome(&done, format!("Set {key}")));
    finish(&dash, &viewer, &format!("/envs/{env}/config"), result)
}

/// `POST /envs/{env}/config/remove {key}`: removes one var (a new release).
pub async fn remove(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<RemoveVar>,
) -> Response {
    let key = f.key.trim().to_string();
    let changes: ConfigChanges = [(key.clone(), None)].into_iter().collect();
    let (app, actor, target) = (dash.app.clone(), viewer.actor(), env.clone());
    let result =
        super::detached(async move { config_vars::update(&app, &actor, &target, changes).await })
            .await
            .map(|done| outcome(&done, format!("Removed {key}")));
    finish(&dash, &viewer, &format!("/envs/{env}/config"), result)
}

//! Access: who may use an environment (`logic::collaborators`, as `heroku access`). The app's
//! owner and admins grant and take away access; anyone may drop their own.

use super::{finish, notice, stage_word};
use crate::error::PageError;
use crate::flash::Notice;
use crate::layout::{self, csrf_field};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use doppel_control::logic::collaborators;
use maud::{html, Markup};
use serde::Deserialize;

/// `GET /envs/{env}/access`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
) -> Result<Markup, PageError> {
    let (environment, list) = collaborators::list(&dash.app, &viewer.actor(), &env).await?;
    let name = &environment.name;
    let body = html! {
        h1 { (name) " " span.sub { (stage_word(environment.stage)) " access" } }
        (layout::env_tabs(&environment.app_name, name, "access"))
        p.hint { "Admins may use every app. Members use the environments they were granted." }
        table.access {
            thead { tr { th { "Who" } th { "Environments" } th { span.visually-hidden { "Actions" } } } }
            tbody {
                @for c in &list {
                    tr {
                        th scope="row" { (c.collaborator.email) @if c.owner { " " span.badge.expected { "owner" } } }
                        td { (c.environments.join(", ")) }
                        td {
                            @if !c.owner {
                                form method="post" action={ "/envs/" (name) "/access/remove" }
                                    data-confirm={ "Take away " (c.collaborator.email) "'s access to " (name) "?" } {
                                    (csrf_field(&viewer))
                                    input type="hidden" name="email" value=(c.collaborator.email);
                                    button.danger type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.add {
            h2 { "Grant access" }
            form method="post" action={ "/envs/" (name) "/access" } {
                (csrf_field(&viewer))
                label for="grant-email" { "Email of a doppel user" }
                input #grant-email type="email" name="email" required autocomplete="off";
                label.check {
                    input type="checkbox" name="both" value="true";
                    " both environments of " (environment.app_name)
                }
                button.primary type="submit" { "Grant" }
            }
        }
    };
    Ok(layout::page(
        &format!("{name} access"),
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

#[derive(Deserialize)]
pub struct Who {
    #[serde(default)]
    email: String,
    both: Option<String>,
}

/// `POST /envs/{env}/access {email, both?}`.
pub async fn grant(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<Who>,
) -> Response {
    let both = f.both.is_some_and(|v| v == "true");
    let result = collaborators::grant(&dash.app, &viewer.actor(), &env, &f.email, both)
        .await
        .map(|(_, c)| {
            Notice::ok(format!(
                "{} may now use {}.",
                c.collaborator.email,
                c.environments.join(" and ")
            ))
        });
    finish(&dash, &viewer, &format!("/envs/{env}/access"), result)
}

/// `POST /envs/{env}/access/remove {email}`.
pub async fn revoke(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<Who>,
) -> Response {
    let result = collaborators::revoke(&dash.app, &viewer.actor(), &env, &f.email, false)
        .await
        .map(|(e, c)| {
            Notice::ok(format!(
                "{} no longer uses {}.",
                c.collaborator.email, e.name
            ))
        });
    finish(&dash, &viewer, &format!("/envs/{env}/access"), result)
}

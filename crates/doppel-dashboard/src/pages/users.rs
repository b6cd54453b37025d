//! Users, for admins: everyone who may sign in, new users (with their first API token and
//! dashboard password, shown once) and new passwords for those who lost theirs
//! (`logic::account`, `logic::passwords`, as `doppel users:create` and `users:password`).

use super::{finish, notice};
use crate::error::PageError;
use crate::flash::Notice;
use crate::layout::{self, csrf_field, when};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use doppel_control::logic::{account, passwords};
use maud::{html, Markup};
use serde::Deserialize;

/// `GET /users` (admins).
pub async fn show(State(dash): State<Dashboard>, viewer: Viewer) -> Result<Markup, PageError> {
    let users = account::list_users(&dash.app, &viewer.actor()).await?;
    let body = html! {
        h1 { "Users" }
        table.users {
            thead { tr { th { "Email" } th { "Role" } th { "Since" } th { span.visually-hidden { "Actions" } } } }
            tbody {
                @for u in &users {
                    tr {
                        th scope="row" { (u.email) }
                        td { @if u.admin { "admin" } @else { "member" } }
                        td { (when(&u.created_at)) }
                        td {
                            form method="post" action="/users/password"
                                data-confirm={ "Give " (u.email) " a new password? Their browser sessions end." } {
                                (csrf_field(&viewer))
                                input type="hidden" name="email" value=(u.email);
                                button type="submit" { "New password" }
                            }
                        }
                    }
                }
            }
        }
        section.add {
            h2 { "Create a user" }
            form method="post" action="/users" {
                (csrf_field(&viewer))
                label for="user-email" { "Email" }
                input #user-email type="email" name="email" required autocomplete="off";
                label.check { input type="checkbox" name="admin" value="true"; " admin (sees and changes every app, manages users)" }
                button.primary type="submit" { "Create" }
            }
        }
    };
    Ok(layout::page(
        "Users",
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

#[derive(Deserialize)]
pub struct NewUser {
    #[serde(default)]
    email: String,
    admin: Option<String>,
}

/// `POST /users {email, admin?}` (admins).
pub async fn create(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Form(f): Form<NewUser>,
) -> Response {
    let admin = f.admin.is_some_and(|v| v == "true");
    let result = account::create_user(&dash.app, &viewer.actor(), &f.email, admin)
        .await
        .map(|made| {
            Notice::ok(format!("Created {}.", made.user.email))
                .secret("Dashboard password", made.password)
                .secret("API token", made.token)
        });
    finish(&dash, &viewer, "/users", result)
}

#[derive(Deserialize)]
pub struct Reset {
    #[serde(default)]
    email: String,
}

/// `POST /users/password {email}` (admins): a generated password, shown once.
pub async fn reset_password(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Form(f): Form<Reset>,
) -> Response {
    let result = passwords::set(&dash.app, &viewer.actor(), &f.email, None)
        .await
        .map(|(user, generated)| {
            let notice = Notice::ok(format!(
                "{} has a new password; their sessions ended.",
                user.email
            ));
            match generated {
                Some(p) => notice.secret("Dashboard password", p),
                None => notice,
            }
        });
    finish(&dash, &viewer, "/users", result)
}

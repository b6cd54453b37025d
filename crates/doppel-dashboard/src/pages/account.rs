//! The viewer's own account: who they are, and a new password (which ends every session of
//! theirs, this one too: they sign in again with it).

use super::{finish, notice};
use crate::error::PageError;
use crate::layout::{self, csrf_field};
use crate::session::{self, see_other, set_cookie};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use doppel_control::logic::{passwords, LogicError};
use http::{header, HeaderValue};
use maud::{html, Markup};
use serde::Deserialize;

/// `GET /account`.
pub async fn show(State(dash): State<Dashboard>, viewer: Viewer) -> Result<Markup, PageError> {
    let body = html! {
        h1 { "Your account" }
        p { (viewer.user.email) " · " @if viewer.user.admin { "admin" } @else { "member" } }
        section.add {
            h2 { "Change your password" }
            form method="post" action="/account" {
                (csrf_field(&viewer))
                label for="new-password" { "New password (at least " (passwords::MIN_PASSWORD_CHARS) " characters)" }
                input #new-password type="password" name="password" required autocomplete="new-password" minlength=(passwords::MIN_PASSWORD_CHARS);
                label for="confirm-password" { "The same again" }
                input #confirm-password type="password" name="confirm" required autocomplete="new-password";
                button.primary type="submit" { "Change password" }
            }
            p.hint { "Changing it signs you out everywhere, here too." }
        }
    };
    Ok(layout::page(
        "Account",
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

#[derive(Deserialize)]
pub struct Change {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /account {password, confirm}`.
pub async fn change_password(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Form(f): Form<Change>,
) -> Response {
    if f.password != f.confirm {
        let e = LogicError::Invalid("The two passwords differ; nothing changed.".to_string());
        return finish(&dash, &viewer, "/account", Err(e));
    }
    match passwords::set(&dash.app, &viewer.actor(), "~", Some(&f.password)).await {
        Ok(_) => {
            let mut response = see_other("/login?changed=1");
            if let Ok(v) = HeaderValue::from_str(&set_cookie(session::SESSION_COOKIE, "", 0)) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => finish(&dash, &viewer, "/account", Err(e)),
    }
}

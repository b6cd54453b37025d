//! Signing in and out. The sign-in form sets its own random cookie and carries a token made
//! from it (the session does not exist yet); wrong passwords are counted per email and per
//! address and refused for a while past the limit, before any password is checked.

use crate::csrf;
use crate::layout;
use crate::session::{self, cookie, local_path, see_other, set_cookie};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use doppel_control::logic::passwords;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use maud::{html, Markup};
use serde::Deserialize;
use std::net::SocketAddr;

/// How long the sign-in form's cookie lasts.
const LOGIN_COOKIE_SECONDS: i64 = 60 * 60;

#[derive(Debug, Deserialize, Default)]
pub struct Next {
    next: Option<String>,
    /// Set after a password change (which ends every session).
    changed: Option<String>,
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn where_to(next: Option<&str>) -> &str {
    next.filter(|n| local_path(n)).unwrap_or("/")
}

fn form(token: &str, email: &str, next: &str, message: Option<(bool, &str)>) -> Markup {
    let body = html! {
        section.signin {
            h1 { "Sign in to doppel" }
            @if let Some((ok, text)) = message {
                p.notice.ok[ok].error[!ok] role=(if ok { "status" } else { "alert" }) { (text) }
            }
            form method="post" action="/login" {
                input type="hidden" name=(csrf::FIELD) value=(token);
                input type="hidden" name="next" value=(next);
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
            p.hint {
                "The first admin's password is in " code { "<data-dir>/admin-password" }
                "; " code { "doppel users:password EMAIL" } " sets a new one."
            }
        }
    };
    layout::bare("Sign in", body)
}

/// The form's cookie: the one the browser has, or a new one (returned to set).
fn login_cookie(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, session::LOGIN_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => (c, None),
        None => {
            let fresh = hex::encode(rand::random::<[u8; 32]>());
            (fresh.clone(), Some(fresh))
        }
    }
}

fn with_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /login`: the form (signed-in viewers go straight on).
pub async fn form_page(
    State(dash): State<Dashboard>,
    viewer: Option<Extension<Viewer>>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    let next = where_to(q.next.as_deref()).to_string();
    if viewer.is_some() {
        return see_other(&next);
    }
    let (value, new) = login_cookie(&headers);
    let message = q
        .changed
        .is_some()
        .then_some((true, "Your password was changed: sign in with the new one."));
    let page = form(&csrf::login_token(&dash, &value), "", &next, message).into_response();
    match new {
        Some(v) => with_cookie(
            page,
            &set_cookie(session::LOGIN_COOKIE, &v, LOGIN_COOKIE_SECONDS),
        ),
        None => page,
    }
}

/// `POST /login` (its token was checked against the form's cookie by the guard).
pub async fn submit(
    State(dash): State<Dashboard>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Response {
    let address = connect.map(|Extension(c)| c.0.ip());
    let next = where_to(f.next.as_deref()).to_string();
    let (value, _) = login_cookie(&headers);
    let again = |status: StatusCode, text: &str| {
        let token = csrf::login_token(&dash, &value);
        (status, form(&token, &f.email, &next, Some((false, text)))).into_response()
    };
    if let Some(wait) = dash.limiter.blocked(&f.email, address) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many wrong passwords. Try again in {minutes} minute(s)."),
        );
    }
    match passwords::sign_in(&dash.app, f.email.trim(), &f.password, address).await {
        Ok(Some((secret, _session, user))) => {
            dash.limiter.succeeded(&user.email);
            let seconds = i64::try_from(passwords::SESSION_LIFETIME.as_secs()).unwrap_or(43_200);
            let response = see_other(&next);
            let response = with_cookie(
                response,
                &set_cookie(session::SESSION_COOKIE, &secret, seconds),
            );
            with_cookie(response, &set_cookie(session::LOGIN_COOKIE, "", 0))
        }
        Ok(None) => {
            dash.limiter.failed(&f.email, address);
            again(StatusCode::UNAUTHORIZED, "Wrong email or password.")
        }
        Err(e) => crate::error::PageError::from(e).into_response(),
    }
}

/// `POST /logout`: ends the session on the server and forgets the cookie.
pub async fn logout(State(dash): State<Dashboard>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, session::SESSION_COOKIE) {
        if let Err(e) = passwords::sign_out(&dash.app, &secret).await {
            return crate::error::PageError::from(e).into_response();
        }
    }
    with_cookie(
        see_other("/login"),
        &set_cookie(session::SESSION_COOKIE, "", 0),
    )
}

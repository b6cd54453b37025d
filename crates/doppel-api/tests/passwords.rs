//! Dashboard passwords through the API: `POST /users` answers a first password once, and
//! `PUT /users/{account}/password` sets one (admins for anyone, members for themselves only),
//! generating it when none is given; a new password ends the user's dashboard sessions.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::api;
use doppel_control::logic::passwords;
use serde_json::json;

#[tokio::test]
async fn users_get_a_first_password_and_change_it() -> anyhow::Result<()> {
    let api = api().await?;
    let (status, created) = api
        .call(
            "POST",
            "/users",
            Some(json!({"email": "dev@example.com"})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let first = created["password"].as_str().unwrap_or_default().to_string();
    assert!(first.len() >= passwords::MIN_PASSWORD_CHARS, "{created}");
    let member_token = created["token"].as_str().unwrap_or_default().to_string();
    let signed_in = passwords::sign_in(&api.state, "dev@example.com", &first, None).await?;
    let (secret, _, user) = signed_in.expect("the first password signs in");
    assert_eq!(user.email, "dev@example.com");

    // The member chooses their own password: the old one and the old session stop working.
    let body = json!({"password": "a long chosen passphrase"});
    let (status, answer) = api
        .call(
            "PUT",
            "/users/~/password",
            Some(body.clone()),
            Some(&member_token),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["user"]["email"], "dev@example.com");
    assert!(
        answer["password"].is_null(),
        "a chosen password is not echoed"
    );
    assert!(passwords::session(&api.state, &secret).await?.is_none());
    assert!(
        passwords::sign_in(&api.state, "dev@example.com", &first, None)
            .await?
            .is_none()
    );
    assert!(passwords::sign_in(
        &api.state,
        "dev@example.com",
        "a long chosen passphrase",
        None
    )
    .await?
    .is_some());

    // A member cannot touch anyone else's: the admin is not even found.
    let (status, _) = api
        .call(
            "PUT",
            "/users/admin@localhost/password",
            Some(body),
            Some(&member_token),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The admin resets the member's: generated, answered once.
    let (status, answer) = api
        .call(
            "PUT",
            "/users/dev@example.com/password",
            Some(json!({})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let generated = answer["password"].as_str().unwrap_or_default().to_string();
    assert!(
        passwords::sign_in(&api.state, "dev@example.com", &generated, None)
            .await?
            .is_some()
    );
    Ok(())
}

#[tokio::test]
async fn weak_passwords_change_nothing() -> anyhow::Result<()> {
    let api = api().await?;
    let (status, answer) = api
        .call(
            "PUT",
            "/users/~/password",
            Some(json!({"password": "short"})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["message"]
        .as_str()
        .unwrap_or_default()
        .contains("at least"));
    assert!(
        !api.state
            .store()
            .has_password(&api.state.store().user("admin@localhost").await?.unwrap().id)
            .await?
    );
    let (status, _) = api
        .call(
            "PUT",
            "/users/nobody@example.com/password",
            Some(json!({})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

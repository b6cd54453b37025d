//! Private environments' access password through the API: generated and answered once,
//! chosen, rotated, removed; the route table's private digests follow at once; production
//! (public) refuses one; members with access may manage it, others learn nothing; the audit
//! log records each change without the password.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::{api, Api};
use doppel_types::token_digest;
use serde_json::json;

/// The digests the router admits on `env`'s host.
fn admitted(api: &Api, env: &str) -> Option<Vec<String>> {
    let table = api.state.routes().load();
    let host = api.state.urls().env_host(env);
    let route = table.routes.get(&host)?;
    route
        .private
        .as_ref()
        .map(|set| set.iter().cloned().collect())
}

#[tokio::test]
async fn access_passwords_are_set_rotated_and_removed() -> anyhow::Result<()> {
    let api = api().await?;
    let admin = api.token.clone();
    api.create_app_as("shop", &admin).await?;
    let path = "/apps/shop-staging/access-password";
    let (status, shown) = api.call("GET", path, None, Some(&admin)).await?;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["private"], true);
    assert_eq!(shown["set"], false);
    let before = admitted(&api, "shop-staging").expect("staging is private");
    assert!(before.contains(&token_digest(&admin)));

    // Generated: answered once, admitted by the router at once.
    let (status, made) = api.call("PUT", path, Some(json!({})), Some(&admin)).await?;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["set"], true);
    assert_eq!(made["app"]["name"], "shop-staging");
    let generated = made["password"].as_str().unwrap().to_string();
    assert!(generated.len() >= 16, "{made}");
    let admitted_now = admitted(&api, "shop-staging").unwrap();
    assert!(admitted_now.contains(&token_digest(&generated)));
    assert!(admitted_now.contains(&token_digest(&admin)));
    let (_, shown) = api.call("GET", path, None, Some(&admin)).await?;
    assert_eq!(shown["set"], true);
    assert!(shown["password"].is_null(), "never answered again: {shown}");

    // A chosen one replaces it and is not echoed; a short one changes nothing.
    let (status, err) = api
        .call(
            "PUT",
            path,
            Some(json!({"password": "too short"})),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(admitted(&api, "shop-staging")
        .unwrap()
        .contains(&token_digest(&generated)));
    let chosen = "a long chosen review passphrase";
    let (status, answer) = api
        .call("PUT", path, Some(json!({"password": chosen})), Some(&admin))
        .await?;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["password"].is_null());
    let admitted_now = admitted(&api, "shop-staging").unwrap();
    assert!(admitted_now.contains(&token_digest(chosen)));
    assert!(!admitted_now.contains(&token_digest(&generated)));

    // Production is public: no password there, and its route stays public.
    let (status, err) = api
        .call(
            "PUT",
            "/apps/shop/access-password",
            Some(json!({})),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err["message"].as_str().unwrap().contains("public"), "{err}");
    assert_eq!(admitted(&api, "shop"), None);

    // Parity shows it: an expected difference, not drift.
    let (status, parity) = api
        .call("GET", "/pipelines/shop/parity", None, Some(&admin))
        .await?;
    assert_eq!(status, StatusCode::OK, "{parity}");
    let router = parity["aspects"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == "router")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        router["staging"][0], "private (tokens of users with access, or its access password)",
        "{parity}"
    );
    assert_eq!(router["production"][0], "public", "{parity}");
    assert_eq!(parity["drift"], 0, "{parity}");

    // Removed: only tokens pass again.
    let (status, gone) = api.call("DELETE", path, None, Some(&admin)).await?;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["set"], false);
    let mut after = admitted(&api, "shop-staging").unwrap();
    after.sort();
    let mut before = before;
    before.sort();
    assert_eq!(after, before);

    // Audited without the password.
    let actions = api.audit_actions("shop").await?;
    for action in [
        "access_password.set",
        "access_password.rotate",
        "access_password.remove",
    ] {
        assert!(actions.iter().any(|a| a == action), "{actions:?}");
    }
    let app = api.state.store().app("shop").await?.unwrap();
    let events = api
        .state
        .store()
        .audit_events(&app.id, &Default::default())
        .await?;
    for event in events {
        assert!(!event.details.contains(&generated) && !event.details.contains(chosen));
    }
    Ok(())
}

#[tokio::test]
async fn only_members_with_access_manage_it() -> anyhow::Result<()> {
    let api = api().await?;
    let admin = api.token.clone();
    api.create_app_as("shop", &admin).await?;
    api.create_app_as("blog", &admin).await?;
    let bob = api.create_user("bob@example.com").await?;
    let (status, body) = api
        .call(
            "POST",
            "/apps/blog-staging/collaborators",
            Some(json!({ "user": "bob@example.com", "silent": true })),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Another app's member: not found, nothing changes.
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| json!({}));
        let (status, err) = api
            .call(
                method,
                "/apps/shop-staging/access-password",
                body,
                Some(&bob),
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {err}");
    }
    assert!(!api
        .audit_actions("shop")
        .await?
        .iter()
        .any(|a| a.starts_with("access_password")));

    // A member of the app sets its staging password.
    let (status, made) = api
        .call(
            "PUT",
            "/apps/blog-staging/access-password",
            Some(json!({})),
            Some(&bob),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{made}");
    let password = made["password"].as_str().unwrap();
    assert!(admitted(&api, "blog-staging")
        .unwrap()
        .contains(&token_digest(password)));
    assert!(!admitted(&api, "shop-staging")
        .unwrap()
        .contains(&token_digest(password)));
    Ok(())
}

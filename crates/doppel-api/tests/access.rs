//! Accounts and access in-process: members see only the apps they collaborate on (others
//! answer 404), only owners and admins grant access, grants cover one environment or both,
//! staging admits exactly the tokens of users with access, tokens are revocable.

mod common;

use axum::http::StatusCode;
use common::{api, Api};
use serde_json::{json, Value};

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_string))
        .collect()
}

fn emails(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["user"]["email"].as_str().map(str::to_string))
        .collect()
}

/// Whether the staging route of `env` admits `token` right now.
fn staging_admits(api: &Api, env: &str, token: &str) -> bool {
    let table = api.state.routes().load();
    let digest = doppel_types::token_digest(token);
    table
        .routes
        .get(&format!("{env}.localhost"))
        .and_then(|r| r.private.as_ref())
        .is_some_and(|set| set.contains(&digest))
}

#[tokio::test]
async fn a_member_sees_only_the_apps_they_collaborate_on() -> anyhow::Result<()> {
    let api = api().await?;
    let admin = api.token.clone();
    api.create_app_as("shop", &admin).await?;
    api.create_app_as("blog", &admin).await?;
    let bob = api.create_user("bob@example.com").await?;

    // Nothing yet: empty lists, and other apps answer 404 exactly like missing ones.
    let (_, list) = api.call("GET", "/apps", None, Some(&bob)).await?;
    assert_eq!(names(&list), Vec::<String>::new());
    for path in [
        "/apps/shop",
        "/apps/shop/domains",
        "/apps/shop/collaborators",
        "/apps/nope",
    ] {
        let (status, body) = api.call("GET", path, None, Some(&bob)).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["id"], "not_found");
    }

    // The admin grants bob shop's staging only (granting through staging's name).
    let (status, body) = api
        .call(
            "POST",
            "/apps/shop-staging/collaborators",
            Some(json!({ "user": "bob@example.com", "silent": false })),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "collaborator");
    assert_eq!(body["doppel"]["scope"], "shop-staging");
    assert_eq!(body["app"]["name"], "shop-staging");
    let (_, list) = api.call("GET", "/apps", None, Some(&bob)).await?;
    assert_eq!(names(&list), ["shop-staging"]);
    let (_, mine) = api.call("GET", "/users/~/apps", None, Some(&admin)).await?;
    assert_eq!(names(&mine).len(), 4, "the admin owns both apps");
    // `heroku apps` lists owned and collaborated environments (`/users/~/apps`).
    let (_, bobs) = api.call("GET", "/users/~/apps", None, Some(&bob)).await?;
    assert_eq!(names(&bobs), ["shop-staging"]);
    let (_, bobs) = api
        .call("GET", "/users/bob@example.com/apps", None, Some(&admin))
        .await?;
    assert_eq!(names(&bobs), ["shop-staging"]);
    let (status, _) = api.call("GET", "/apps/shop", None, Some(&bob)).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "production was not granted");
    assert!(staging_admits(&api, "shop-staging", &bob));
    assert!(!staging_admits(&api, "blog-staging", &bob));

    // `both_environments` (a doppel extension) grants the whole app.
    let (status, body) = api
        .call(
            "POST",
            "/apps/shop/collaborators",
            Some(json!({ "user": "bob@example.com", "both_environments": true })),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["doppel"]["scope"], "both");
    let (_, list) = api.call("GET", "/apps", None, Some(&bob)).await?;
    assert_eq!(names(&list), ["shop-staging", "shop"]);
    // Filtering (as `pipelines:promote` does) keeps what bob may see.
    let (_, blog) = api.call("GET", "/apps/blog", None, Some(&admin)).await?;
    let ids = json!({"in": {"id": [blog["id"], "shop-staging"]}});
    let (status, filtered) = api
        .call("POST", "/filters/apps", Some(ids.clone()), Some(&bob))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&filtered), ["shop-staging"]);
    let (_, filtered) = api
        .call("POST", "/filters/apps", Some(ids), Some(&admin))
        .await?;
    assert_eq!(names(&filtered), ["blog", "shop-staging"]);

    // The listing through each environment shows owner and collaborator.
    let (_, collaborators) = api
        .call("GET", "/apps/shop/collaborators", None, Some(&bob))
        .await?;
    assert_eq!(
        emails(&collaborators),
        ["admin@localhost", "bob@example.com"]
    );
    assert_eq!(collaborators[0]["role"], "owner");
    let (status, one) = api
        .call(
            "GET",
            "/apps/shop/collaborators/bob@example.com",
            None,
            Some(&bob),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["user"]["email"], "bob@example.com");

    // Removing through production's name leaves staging.
    let (status, body) = api
        .call(
            "DELETE",
            "/apps/shop/collaborators/bob@example.com",
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = api.call("GET", "/apps", None, Some(&bob)).await?;
    assert_eq!(names(&list), ["shop-staging"]);
    assert!(staging_admits(&api, "shop-staging", &bob));
    // And `?both_environments=true` removes the rest.
    let (status, _) = api
        .call(
            "DELETE",
            "/apps/shop-staging/collaborators/bob@example.com?both_environments=true",
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = api.call("GET", "/apps", None, Some(&bob)).await?;
    assert_eq!(names(&list), Vec::<String>::new());
    assert!(!staging_admits(&api, "shop-staging", &bob));

    let actions = api.audit_actions("shop").await?;
    assert_eq!(
        actions.iter().filter(|a| *a == "access.grant").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "access.revoke").count(),
        2,
        "{actions:?}"
    );
    Ok(())
}

#[tokio::test]
async fn only_owners_and_admins_grant_and_bad_grants_change_nothing() -> anyhow::Result<()> {
    let api = api().await?;
    let admin = api.token.clone();
    let carol = api.create_user("carol@example.com").await?;
    let dave = api.create_user("dave@example.com").await?;
    api.create_app_as("carolapp", &carol).await?;
    api.create_app_as("adminapp", &admin).await?;
    // Dave collaborates on adminapp but does not own it.
    let (status, _) = api
        .call(
            "POST",
            "/apps/adminapp/collaborators",
            Some(json!({ "user": "dave@example.com", "both_environments": true })),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let before = api
        .state
        .store()
        .access_of(&user_id(&api, "carol@example.com").await?)
        .await?;

    // A member who does not own the app may not grant: 403 (they can see it).
    let (status, body) = api
        .call(
            "POST",
            "/apps/adminapp/collaborators",
            Some(json!({ "user": "carol@example.com" })),
            Some(&dave),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["id"], "forbidden");
    // …nor remove others.
    let (status, _) = api
        .call(
            "DELETE",
            "/apps/adminapp/collaborators/admin@localhost",
            None,
            Some(&dave),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An app they cannot see is not found.
    let (status, _) = api
        .call(
            "POST",
            "/apps/carolapp/collaborators",
            Some(json!({ "user": "dave@example.com" })),
            Some(&dave),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An unknown user is named in the answer.
    let (status, body) = api
        .call(
            "POST",
            "/apps/carolapp/collaborators",
            Some(json!({ "user": "nobody@example.com" })),
            Some(&carol),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("users:create"),
        "{body}"
    );
    // Garbage JSON and the wrong shape are refused before anything happens.
    for (raw, expected) in [
        ("{\"user\":", StatusCode::BAD_REQUEST),
        ("[1]", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = api
            .raw("POST", "/apps/carolapp/collaborators", raw, &carol)
            .await?;
        assert_eq!(status, expected, "{raw}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    // The owner's access cannot be taken away, even by an admin.
    let (status, body) = api
        .call(
            "DELETE",
            "/apps/carolapp/collaborators/carol@example.com",
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let after = api
        .state
        .store()
        .access_of(&user_id(&api, "carol@example.com").await?)
        .await?;
    assert_eq!(before, after, "bad grants changed access");

    // The owner grants; the collaborator may drop their own access.
    let (status, _) = api
        .call(
            "POST",
            "/apps/carolapp/collaborators",
            Some(json!({ "user": "dave@example.com" })),
            Some(&carol),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .call(
            "DELETE",
            "/apps/carolapp/collaborators/dave@example.com",
            None,
            Some(&dave),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    // Only the owner or an admin destroys an app.
    let (status, _) = api
        .call("DELETE", "/apps/adminapp", None, Some(&dave))
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(api.state.store().app("adminapp").await?.is_some());
    let (status, _) = api
        .call("DELETE", "/apps/carolapp-staging", None, Some(&carol))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(api.state.store().app("carolapp").await?.is_none());
    // Members do not create users.
    let (status, _) = api
        .call(
            "POST",
            "/users",
            Some(json!({ "email": "eve@example.com" })),
            Some(&dave),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    Ok(())
}

async fn user_id(api: &Api, email: &str) -> anyhow::Result<String> {
    Ok(api
        .state
        .store()
        .user(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user {email}"))?
        .id)
}

#[tokio::test]
async fn authorizations_are_tokens_that_can_be_revoked() -> anyhow::Result<()> {
    let api = api().await?;
    let admin = api.token.clone();
    api.create_app_as("tok", &admin).await?;
    // What the Heroku CLI sends: description, no scope, no expiry.
    let (status, auth) = api
        .call(
            "POST",
            "/oauth/authorizations",
            Some(json!({ "description": "ci" })),
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{auth}");
    let token = auth["access_token"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let id = auth["id"].as_str().unwrap_or_default().to_string();
    assert!(!token.is_empty() && !id.is_empty());
    assert_eq!(auth["description"], "ci");
    assert_eq!(auth["scope"], json!(["global"]));
    let (status, me) = api.call("GET", "/account", None, Some(&token)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "admin@localhost");
    assert!(staging_admits(&api, "tok-staging", &token));
    // The secret is shown once.
    let (_, shown) = api
        .call(
            "GET",
            &format!("/oauth/authorizations/{id}"),
            None,
            Some(&admin),
        )
        .await?;
    assert!(shown["access_token"]["token"].is_null(), "{shown}");

    // An expiry or a narrower scope is refused, clearly, and makes no token.
    let count = api
        .state
        .store()
        .tokens(&user_id(&api, "admin@localhost").await?)
        .await?
        .len();
    for body in [
        json!({ "expires_in": "3600" }),
        json!({ "expires_in": 60 }),
        json!({ "scope": ["read"] }),
    ] {
        let (status, err) = api
            .call(
                "POST",
                "/oauth/authorizations",
                Some(body.clone()),
                Some(&admin),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["id"], "invalid_params");
    }
    assert_eq!(
        api.state
            .store()
            .tokens(&user_id(&api, "admin@localhost").await?)
            .await?
            .len(),
        count
    );

    // Revoked: the API refuses it and staging no longer admits it.
    let (status, revoked) = api
        .call(
            "DELETE",
            &format!("/oauth/authorizations/{id}"),
            None,
            Some(&admin),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["description"], "ci");
    let (status, _) = api.call("GET", "/account", None, Some(&token)).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!staging_admits(&api, "tok-staging", &token));
    // Another user's authorization is not found.
    let bob = api.create_user("bob@example.com").await?;
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/oauth/authorizations/{id}"),
            None,
            Some(&bob),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

//! The API in-process: a real store on SQLite, the shared fake Docker runtime, requests sent
//! straight into the axum router. Covers the rules of creating and reading apps.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::api;
use serde_json::json;
use tower::ServiceExt;

#[tokio::test]
async fn creating_an_app_makes_both_environments_and_routes() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    let (status, body) = api
        .call("POST", "/apps", Some(json!({"name": "shop"})), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "shop");
    assert_eq!(body["web_url"], "https://shop.localhost:8443/");
    assert_eq!(body["git_url"], "https://localhost:8443/shop.git");
    assert_eq!(body["generation"]["name"], "cedar");
    let envs = body["doppel"]["environments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = envs.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names, ["shop-staging", "shop"]);

    let (status, staging) = api
        .call("GET", "/apps/shop-staging", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(staging["doppel"]["private"], true);
    // The same environment by id.
    let id = staging["id"].as_str().unwrap_or_default().to_string();
    let (status, by_id) = api
        .call("GET", &format!("/apps/{id}"), None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id["name"], "shop-staging");

    // `heroku apps` lists the caller's apps through /users/~/apps.
    for who in ["~", "admin@localhost"] {
        let (status, mine) = api
            .call("GET", &format!("/users/{who}/apps"), None, Some(&t))
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
        assert_eq!(mine[0]["owner"]["email"], "admin@localhost");
    }
    let (status, _) = api
        .call("GET", "/users/nobody@x/apps", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Both hosts are routed at once: staging private, production public, neither released.
    let table = api.state.routes().load();
    let staging = table.routes.get("shop-staging.localhost");
    assert!(staging.is_some_and(|r| r.private.is_some() && r.backends.is_empty()));
    let production = table.routes.get("shop.localhost");
    assert!(production.is_some_and(|r| r.private.is_none()));
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_heroku_errors_and_change_nothing() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    let (status, body) = api.call("GET", "/apps", None, None).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["id"], "unauthorized");
    let (status, _) = api.call("GET", "/apps", None, Some("dpl_wrong")).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for bad in [
        "Shop",
        "1shop",
        "sh",
        "shop-",
        "a-very-long-application-name-x",
        "x-staging",
    ] {
        let (status, body) = api
            .call("POST", "/apps", Some(json!({"name": bad})), Some(&t))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["id"], "invalid_params");
    }
    let (status, body) = api.call("POST", "/apps", Some(json!({})), Some(&t)).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, _) = api
        .call("POST", "/apps", Some(json!({"name": "shop"})), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api
        .call("POST", "/apps", Some(json!({"name": "shop"})), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("Name is already taken")));

    let (status, body) = api.call("GET", "/apps/nope", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["id"], "not_found");
    let (_, apps) = api.call("GET", "/apps", None, Some(&t)).await?;
    assert_eq!(apps.as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn another_api_version_is_not_acceptable() -> anyhow::Result<()> {
    let api = api().await?;
    let req = Request::builder()
        .uri("/account")
        .header("Accept", "application/vnd.heroku+json; version=2")
        .header("Authorization", format!("Bearer {}", api.token))
        .body(Body::empty())?;
    let resp = api.router.clone().oneshot(req).await?;
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    Ok(())
}

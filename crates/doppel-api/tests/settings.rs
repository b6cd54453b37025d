//! An environment's settings in-process: custom domains (rules, routing, removal), maintenance
//! mode and session affinity (flags of the route table), the stack of the next build, the refused rename, and the
//! platform lists (regions, stacks, features, add-ons). Bad input changes nothing.

mod common;

use axum::http::StatusCode;
use common::api;
use serde_json::{json, Value};

fn hostnames(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["hostname"].as_str().unwrap_or_default().to_string(),
                d["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn custom_domains_route_to_their_environment() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("shop", &api.token).await?;
    api.create_app_as("blog", &api.token).await?;

    let (status, list) = api
        .call("GET", "/apps/shop/domains", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        hostnames(&list),
        [("shop.localhost".to_string(), "heroku".to_string())]
    );

    let (status, added) = api
        .call(
            "POST",
            "/apps/shop/domains",
            Some(json!({ "hostname": "WWW.Example.com.", "sni_endpoint": null })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["hostname"], "www.example.com");
    assert_eq!(added["kind"], "custom");
    assert_eq!(
        added["cname"], "shop.localhost",
        "the CNAME target is the platform host name"
    );
    assert_eq!(added["app"]["name"], "shop");
    assert_eq!(added["status"], "succeeded");
    // Routed at once, to the same environment as its platform name.
    let table = api.state.routes().load();
    assert_eq!(
        table.routes.get("www.example.com").map(|r| r.env.as_str()),
        Some("shop")
    );
    drop(table);

    let (_, list) = api
        .call("GET", "/apps/shop/domains", None, Some(&t))
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let id = added["id"].as_str().unwrap_or_default();
    for wanted in [id, "www.example.com", "WWW.EXAMPLE.COM."] {
        let (status, one) = api
            .call(
                "GET",
                &format!("/apps/shop/domains/{wanted}"),
                None,
                Some(&t),
            )
            .await?;
        assert_eq!(status, StatusCode::OK, "{wanted}");
        assert_eq!(one["id"], added["id"]);
    }

    // Bad input: each a clear error; nothing changes.
    let bad = [
        ("https://shop.example.com", "URL"),
        ("shop.example.com:8443", "port"),
        ("shop.example.com/path", "path"),
        ("*.example.com", "wildcard"),
        ("127.0.0.1", "IP address"),
        ("exa mple.com", "not a host name"),
        ("example", "single label"),
        ("", "required"),
        ("api.shop.localhost", "platform's own domain"),
        ("localhost", "single label"),
        ("www.example.com", "already a domain of shop"),
    ];
    for (hostname, says) in bad {
        let (status, body) = api
            .call(
                "POST",
                "/apps/shop/domains",
                Some(json!({ "hostname": hostname, "sni_endpoint": null })),
                Some(&t),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{hostname}: {body}"
        );
        assert_eq!(body["id"], "invalid_params");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{hostname}: {message}");
    }
    // Another app cannot take it (and learns nothing about whose it is).
    let (status, body) = api
        .call(
            "POST",
            "/apps/blog-staging/domains",
            Some(json!({ "hostname": "www.example.com" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("another app"),
        "{body}"
    );
    let (status, _) = api
        .call(
            "POST",
            "/apps/shop/domains",
            Some(json!({ "hostname": "x.example.com", "sni_endpoint": "my-cert" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = api
        .raw("POST", "/apps/shop/domains", "hostname=x", &t)
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = api
        .call("GET", "/apps/shop/domains", None, Some(&t))
        .await?;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(2),
        "bad input changed the list: {list}"
    );
    let (_, list) = api
        .call("GET", "/apps/blog-staging/domains", None, Some(&t))
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // The platform name cannot be removed; the custom one can, and stops routing.
    let (status, body) = api
        .call(
            "DELETE",
            "/apps/shop/domains/shop.localhost",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, removed) = api
        .call(
            "DELETE",
            "/apps/shop/domains/www.example.com",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(removed["hostname"], "www.example.com");
    assert!(!api
        .state
        .routes()
        .load()
        .routes
        .contains_key("www.example.com"));
    let (status, _) = api
        .call(
            "DELETE",
            "/apps/shop/domains/www.example.com",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.audit_actions("shop").await?,
        ["domain.remove", "domain.add", "app.create"]
    );
    Ok(())
}

#[tokio::test]
async fn an_environment_has_a_bounded_number_of_domains() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("many", &api.token).await?;
    let max = doppel_control::logic::domains::MAX_DOMAINS_PER_ENV;
    for i in 0..max {
        let (status, body) = api
            .call(
                "POST",
                "/apps/many/domains",
                Some(json!({ "hostname": format!("d{i}.example.com") })),
                Some(&t),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{i}: {body}");
    }
    let (status, body) = api
        .call(
            "POST",
            "/apps/many/domains",
            Some(json!({ "hostname": "one-more.example.com" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("at most {max}")),
        "{body}"
    );
    // The twin has its own allowance.
    let (status, _) = api
        .call(
            "POST",
            "/apps/many-staging/domains",
            Some(json!({ "hostname": "one-more.example.com" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    Ok(())
}

#[tokio::test]
async fn maintenance_mode_is_a_flag_of_the_route() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("calm", &api.token).await?;
    let (_, app) = api.call("GET", "/apps/calm", None, Some(&t)).await?;
    assert_eq!(app["maintenance"], false);

    let (status, app) = api
        .call(
            "PATCH",
            "/apps/calm",
            Some(json!({ "maintenance": true })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{app}");
    assert_eq!(app["maintenance"], true);
    let table = api.state.routes().load();
    assert!(table
        .routes
        .get("calm.localhost")
        .is_some_and(|r| r.maintenance));
    assert!(table
        .routes
        .get("calm-staging.localhost")
        .is_some_and(|r| !r.maintenance));
    drop(table);
    // Twice is once.
    api.call(
        "PATCH",
        "/apps/calm",
        Some(json!({ "maintenance": true })),
        Some(&t),
    )
    .await?;
    // heroku3 turns it off with 0.
    let (status, app) = api
        .call(
            "PATCH",
            "/apps/calm",
            Some(json!({ "maintenance": 0 })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app["maintenance"], false);
    assert!(api
        .state
        .routes()
        .load()
        .routes
        .get("calm.localhost")
        .is_some_and(|r| !r.maintenance));
    let (status, body) = api
        .call(
            "PATCH",
            "/apps/calm",
            Some(json!({ "maintenance": "soon" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        api.audit_actions("calm").await?,
        ["maintenance.off", "maintenance.on", "app.create"]
    );
    Ok(())
}

#[tokio::test]
async fn session_affinity_is_a_feature_of_the_route() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("sticky", &api.token).await?;
    let (status, list) = api
        .call("GET", "/apps/sticky/features", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["name"], "http-session-affinity");
    assert_eq!(list[0]["enabled"], false);

    let path = "/apps/sticky/features/http-session-affinity";
    let (status, feature) = api
        .call("PATCH", path, Some(json!({ "enabled": true })), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK, "{feature}");
    assert_eq!(feature["enabled"], true);
    let (_, shown) = api.call("GET", path, None, Some(&t)).await?;
    assert_eq!(shown["enabled"], true);
    let table = api.state.routes().load();
    assert!(table
        .routes
        .get("sticky.localhost")
        .is_some_and(|r| r.session_affinity));
    assert!(table
        .routes
        .get("sticky-staging.localhost")
        .is_some_and(|r| !r.session_affinity));
    drop(table);
    // Twice is once; parity calls the difference drift.
    api.call("PATCH", path, Some(json!({ "enabled": true })), Some(&t))
        .await?;
    let (_, parity) = api
        .call("GET", "/pipelines/sticky/parity", None, Some(&t))
        .await?;
    assert!(
        parity.to_string().contains("router/session-affinity"),
        "{parity}"
    );

    // Bad input changes nothing.
    for (body, want) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({ "enabled": "yes" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, answer) = api.call("PATCH", path, Some(body), Some(&t)).await?;
        assert_eq!(status, want, "{answer}");
    }
    let (status, _) = api
        .call(
            "PATCH",
            "/apps/sticky/features/preboot",
            Some(json!({ "enabled": true })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, shown) = api.call("GET", path, None, Some(&t)).await?;
    assert_eq!(shown["enabled"], true);

    let (status, _) = api
        .call("PATCH", path, Some(json!({ "enabled": false })), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(api
        .state
        .routes()
        .load()
        .routes
        .get("sticky.localhost")
        .is_some_and(|r| !r.session_affinity));
    assert_eq!(
        api.audit_actions("sticky").await?,
        ["feature.disable", "feature.enable", "app.create"]
    );
    Ok(())
}

#[tokio::test]
async fn stacks_are_listed_and_set_per_environment() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("stacky", &api.token).await?;
    let (status, stacks) = api.call("GET", "/stacks", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = stacks
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["debian-12", "debian-13", "debian-testing"]);
    let default: Vec<&Value> = stacks
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["default"] == true)
        .collect();
    assert_eq!(default.len(), 1);
    assert_eq!(default[0]["name"], "debian-testing");
    assert_eq!(stacks[0]["doppel"]["aliases"], json!(["heroku-24"]));
    // Ids are stable and name the stack, as names and aliases do.
    let id = stacks[1]["id"].as_str().unwrap_or_default().to_string();
    for wanted in [id.as_str(), "debian-13", "Debian-13"] {
        let (status, one) = api
            .call("GET", &format!("/stacks/{wanted}"), None, Some(&t))
            .await?;
        assert_eq!(status, StatusCode::OK, "{wanted}");
        assert_eq!(one["name"], "debian-13");
    }
    let (_, alias) = api.call("GET", "/stacks/heroku-24", None, Some(&t)).await?;
    assert_eq!(alias["name"], "debian-12");
    let (status, _) = api.call("GET", "/stacks/cedar-14", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, available) = api
        .call("GET", "/apps/stacky/available-stacks", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(available.as_array().map(Vec::len), Some(3));

    // Both environments of a new app start on the default stack.
    for env in ["stacky-staging", "stacky"] {
        let (_, app) = api
            .call("GET", &format!("/apps/{env}"), None, Some(&t))
            .await?;
        assert_eq!(app["stack"]["name"], "debian-testing", "{env}");
        assert_eq!(app["build_stack"]["name"], "debian-testing", "{env}");
    }
    // stack:set through an alias stores the canonical name; never deployed, so `stack`
    // follows at once (as Heroku shows it).
    let (status, app) = api
        .call(
            "PATCH",
            "/apps/stacky-staging",
            Some(json!({ "build_stack": "heroku-24" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{app}");
    assert_eq!(app["build_stack"]["name"], "debian-12");
    assert_eq!(app["build_stack"]["id"], stacks[0]["id"]);
    assert_eq!(app["stack"]["name"], "debian-12");
    let env = api.state.store().environment("stacky-staging").await?;
    let env = env.ok_or_else(|| anyhow::anyhow!("no env"))?;
    assert_eq!(env.build_stack, "debian-12");
    assert_eq!(
        doppel_control::workflows::stacks::build_stack_for(&api.state, &env).name,
        "debian-12"
    );
    let (_, production) = api.call("GET", "/apps/stacky", None, Some(&t)).await?;
    assert_eq!(
        production["build_stack"]["name"], "debian-testing",
        "one environment only"
    );
    // By object and by id.
    let (status, app) = api
        .call(
            "PATCH",
            "/apps/stacky",
            Some(json!({ "build_stack": { "id": id } })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app["build_stack"]["name"], "debian-13");

    // An unknown stack: 422 listing the stacks, nothing changed.
    let (status, body) = api
        .call(
            "PATCH",
            "/apps/stacky",
            Some(json!({ "build_stack": "cedar-14", "maintenance": true })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cedar-14")
            && message.contains("debian-12 (alias heroku-24), debian-13, debian-testing"),
        "{message}"
    );
    let (status, _) = api
        .call(
            "PATCH",
            "/apps/stacky",
            Some(json!({ "build_stack": 12 })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, app) = api.call("GET", "/apps/stacky", None, Some(&t)).await?;
    assert_eq!(app["build_stack"]["name"], "debian-13");
    assert_eq!(app["maintenance"], false);
    let log = api.audit_actions("stacky").await?;
    assert_eq!(log, ["stack.set", "stack.set", "app.create"]);
    Ok(())
}

#[tokio::test]
async fn renaming_is_refused_with_the_reason() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("named", &api.token).await?;
    let (status, body) = api
        .call(
            "PATCH",
            "/apps/named",
            Some(json!({ "name": "renamed" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot rename") && message.contains("git remote"),
        "{message}"
    );
    let (status, _) = api
        .call(
            "PATCH",
            "/apps/named-staging",
            Some(json!({ "name": "renamed-staging", "maintenance": true })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, app) = api
        .call("GET", "/apps/named-staging", None, Some(&t))
        .await?;
    assert_eq!(
        app["maintenance"], false,
        "a refused request changed something"
    );
    assert!(api.state.store().app("renamed").await?.is_none());
    // The same name is no change at all.
    let (status, _) = api
        .call(
            "PATCH",
            "/apps/named",
            Some(json!({ "name": "named" })),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.raw("PATCH", "/apps/named", "{name: 'x'}", &t).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn platform_lists() -> anyhow::Result<()> {
    let api = api().await?;
    let t = api.token.clone();
    api.create_app_as("lists", &api.token).await?;
    let (status, regions) = api.call("GET", "/regions", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(regions.as_array().map(Vec::len), Some(1));
    assert_eq!(regions[0]["name"], "local");
    let (_, app) = api.call("GET", "/apps/lists", None, Some(&t)).await?;
    assert_eq!(
        app["region"],
        regions[0]
            .as_object()
            .map(|r| json!({"id": r["id"], "name": r["name"]}))
            .unwrap_or_default()
    );
    let (status, _) = api.call("GET", "/regions/local", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.call("GET", "/regions/eu", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in [
        "/account/features",
        "/apps/lists/addons",
        "/apps/lists-staging/sni-endpoints",
    ] {
        let (status, body) = api.call("GET", path, None, Some(&t)).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body, json!([]), "{path}");
    }
    for path in [
        "/apps/nope/features",
        "/apps/nope/addons",
        "/apps/lists/features/preboot",
        "/account/features/x",
    ] {
        let (status, body) = api.call("GET", path, None, Some(&t)).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    Ok(())
}

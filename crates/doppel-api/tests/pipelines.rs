//! Pipelines, couplings, promotions, parity and the audit log through the API, in-process on
//! the shared fake: the shapes the official CLI reads, a promotion of a named staging release
//! polled to its end, doppel's streamed promotion, refusals that change nothing.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{api, Api};
use doppel_api_types::pipelines::PROMOTION_ID_HEADER;
use doppel_control::workflows::progress::Silent;
use doppel_control::workflows::release::{self, ReleaseRequest};
use doppel_docker::ImageInfo;
use doppel_types::{ImageKind, ProcessTypes, Stage};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

type R<T = ()> = anyhow::Result<T>;

/// `shop` with a worker-only formation and staging releases of `images`, in order.
async fn shop(images: &[&str]) -> R<(Api, String)> {
    let api = api().await?;
    let t = api.token.clone();
    let (status, body) = api
        .call("POST", "/apps", Some(json!({"name": "shop"})), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let app = api
        .state
        .store()
        .app("shop")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no app"))?;
    let types = ProcessTypes::from([
        ("web".to_string(), "serve".to_string()),
        ("worker".to_string(), "work".to_string()),
    ]);
    for env in &app.environments {
        api.state.store().ensure_formation(&env.id, &types).await?;
        api.state
            .store()
            .update_formation(&env.id, "web", Some(0), None)
            .await?;
        api.state
            .store()
            .update_formation(&env.id, "worker", Some(1), None)
            .await?;
    }
    let staging = app
        .environment(Stage::Staging)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no staging"))?;
    for image in images {
        api.fake.state().images.insert(
            image.to_string(),
            ImageInfo {
                id: image.to_string(),
                ..Default::default()
            },
        );
        let req = ReleaseRequest {
            image_id: image.to_string(),
            image_kind: ImageKind::Dockerfile,
            process_types: types.clone(),
            build_id: None,
            description: format!("Deploy {image}"),
            user_id: None,
            config: None,
        };
        release::release(&api.state, &staging, req, &Silent).await?;
    }
    Ok((api, t))
}

/// Sets one config var of `env` in the store (config changes are not this file's subject).
async fn set_config(api: &Api, env: &str, key: &str, value: &str) -> R {
    let env = api
        .state
        .store()
        .environment(env)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no environment {env}"))?;
    let changes = [(key.to_string(), Some(value.to_string()))].into();
    api.state.store().set_config_vars(&env.id, &changes).await?;
    Ok(())
}

async fn id_of(api: &Api, t: &str, path: &str) -> R<String> {
    let (_, body) = api.call("GET", path, None, Some(t)).await?;
    Ok(body["id"].as_str().unwrap_or_default().to_string())
}

/// Polls the promotion's targets as the CLI does, until it is not pending.
async fn wait_target(api: &Api, t: &str, promotion: &str) -> R<Value> {
    for _ in 0..200 {
        let path = format!("/pipeline-promotions/{promotion}/promotion-targets");
        let (status, targets) = api.call("GET", &path, None, Some(t)).await?;
        assert_eq!(status, StatusCode::OK, "{targets}");
        if targets[0]["status"] != "pending" {
            return Ok(targets[0].clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    anyhow::bail!("promotion {promotion} never ended")
}

#[tokio::test]
async fn pipelines_and_couplings_look_like_herokus() -> R {
    let (api, t) = shop(&[]).await?;
    let app_id = api
        .state
        .store()
        .app("shop")
        .await?
        .map(|a| a.id)
        .unwrap_or_default();
    let (status, list) = api.call("GET", "/pipelines", None, Some(&t)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["name"], "shop");
    assert_eq!(list[0]["id"], app_id.as_str());
    assert_eq!(list[0]["generation"]["name"], "cedar");
    assert_eq!(list[0]["owner"]["type"], "user");
    assert_eq!(list[0]["doppel"]["direct_pushes"], false);
    let (_, found) = api
        .call("GET", "/pipelines?eq[name]=shop", None, Some(&t))
        .await?;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    let (_, none) = api
        .call("GET", "/pipelines?eq%5Bname%5D=nope", None, Some(&t))
        .await?;
    assert_eq!(none.as_array().map(Vec::len), Some(0));
    for key in ["shop", app_id.as_str()] {
        let (status, p) = api
            .call("GET", &format!("/pipelines/{key}"), None, Some(&t))
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(p["doppel"]["staging"]["name"], "shop-staging");
    }

    // The CLI reads coupling.pipeline.name and the stage of each app.
    let (_, coupling) = api
        .call(
            "GET",
            "/apps/shop-staging/pipeline-couplings",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(coupling["stage"], "staging");
    assert_eq!(coupling["pipeline"]["name"], "shop");
    assert_eq!(coupling["app"]["name"], "shop-staging");
    let (_, by_id) = api
        .call(
            "GET",
            &format!(
                "/pipeline-couplings/{}",
                coupling["id"].as_str().unwrap_or("")
            ),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(by_id, coupling);
    let (_, couplings) = api
        .call(
            "GET",
            &format!("/pipelines/{app_id}/pipeline-couplings"),
            None,
            Some(&t),
        )
        .await?;
    let stages: Vec<&str> = couplings
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["stage"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(stages, ["staging", "production"]);
    let ids: Vec<Value> = couplings
        .as_array()
        .map(|a| a.iter().map(|c| c["app"]["id"].clone()).collect())
        .unwrap_or_default();
    let (status, apps) = api
        .call(
            "POST",
            "/filters/apps",
            Some(json!({"in": {"id": ids}})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{apps}");
    assert_eq!(apps.as_array().map(Vec::len), Some(2));

    // Pipelines and couplings come and go with their app.
    for (method, path) in [
        ("POST", "/pipelines".to_string()),
        ("DELETE", format!("/pipelines/{app_id}")),
        ("POST", "/pipeline-couplings".to_string()),
    ] {
        let (status, body) = api
            .call(method, &path, Some(json!({"name": "x"})), Some(&t))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {path}");
        assert_eq!(body["id"], "invalid_params");
    }
    let (status, _) = api
        .call("GET", "/pipelines/nope/pipeline-couplings", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn a_named_staging_release_is_promoted_and_polled_to_its_end() -> R {
    let (api, t) = shop(&["sha256:one", "sha256:two"]).await?;
    let pipeline = id_of(&api, &t, "/pipelines/shop").await?;
    let staging = id_of(&api, &t, "/apps/shop-staging").await?;
    let production = id_of(&api, &t, "/apps/shop").await?;
    let v1 = id_of(&api, &t, "/apps/shop-staging/releases/1").await?;
    let body = json!({
        "pipeline": {"id": pipeline},
        "source": {"app": {"id": staging}, "release": {"id": v1}},
        "targets": [{"app": {"id": production}}],
    });
    let (status, promotion) = api
        .call("POST", "/pipeline-promotions", Some(body), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{promotion}");
    assert_eq!(promotion["source"]["release"]["version"], 1);
    assert_eq!(promotion["pipeline"]["id"], pipeline.as_str());
    let id = promotion["id"].as_str().unwrap_or_default().to_string();
    let target = wait_target(&api, &t, &id).await?;
    assert_eq!(target["status"], "succeeded", "{target}");
    assert_eq!(target["app"]["id"], production.as_str());
    assert_eq!(target["pipeline_promotion"]["id"], id.as_str());
    let (_, done) = api
        .call("GET", &format!("/pipeline-promotions/{id}"), None, Some(&t))
        .await?;
    assert_eq!(done["status"], "completed");
    let release_id = target["release"]["id"].as_str().unwrap_or_default();
    let (_, release) = api
        .call(
            "GET",
            &format!("/apps/shop/releases/{release_id}"),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(release["description"], "Promote shop-staging v1");
    assert_eq!(release["doppel"]["image_id"], "sha256:one");
    assert_eq!(release["doppel"]["promoted_from"], v1.as_str());
    assert_eq!(release["user"]["email"], "admin@localhost");
    let (_, latest) = api
        .call(
            "GET",
            &format!("/pipelines/{pipeline}/latest-releases"),
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(latest.as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn bad_promotions_get_heroku_errors() -> R {
    let (api, t) = shop(&["sha256:one"]).await?;
    api.call("POST", "/apps", Some(json!({"name": "other"})), Some(&t))
        .await?;
    let pipeline = id_of(&api, &t, "/pipelines/shop").await?;
    let staging = id_of(&api, &t, "/apps/shop-staging").await?;
    let other = id_of(&api, &t, "/apps/other").await?;
    let cases = [
        (
            json!([{"app": {"id": staging}}]),
            None,
            "shop-staging is staging",
        ),
        (
            json!([{"app": {"id": other}}]),
            None,
            "not production of pipeline shop",
        ),
        (json!([]), None, "Name the target"),
        (
            json!([{"app": {"name": "shop"}}]),
            Some("8d3a1b2c-0000-4000-8000-000000000000"),
            "is not a release of shop-staging",
        ),
    ];
    for (targets, release, says) in cases {
        let mut source = json!({"app": {"id": staging}});
        if let Some(r) = release {
            source["release"] = json!({"id": r});
        }
        let body = json!({"pipeline": {"id": pipeline}, "source": source, "targets": targets});
        let (status, err) = api
            .call("POST", "/pipeline-promotions", Some(body), Some(&t))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert!(
            err["message"].as_str().is_some_and(|m| m.contains(says)),
            "{err}"
        );
    }
    let (status, err) = api
        .call(
            "POST",
            "/pipeline-promotions",
            Some(json!({"targets": []})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    // Drift is a conflict that names the item and its fix.
    set_config(&api, "shop-staging", "ONLY_HERE", "1").await?;
    let (status, err) = api
        .call("POST", "/pipelines/shop/promote", Some(json!({})), Some(&t))
        .await?;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains("[config/ONLY_HERE]"), "{message}");
    assert!(
        message.contains("doppel config:set ONLY_HERE=<value> -a shop"),
        "{message}"
    );
    let (_, promotions_made) = api
        .call("GET", "/apps/shop/releases", None, Some(&t))
        .await?;
    assert_eq!(promotions_made.as_array().map(Vec::len), Some(0));
    Ok(())
}

#[tokio::test]
async fn doppels_promote_streams_its_progress() -> R {
    let (api, t) = shop(&["sha256:one"]).await?;
    let req = Request::builder()
        .method("POST")
        .uri("/pipelines/shop/promote")
        .header("Accept", "application/vnd.heroku+json; version=3")
        .header("Authorization", format!("Bearer {t}"))
        .header("Content-Type", "application/json")
        .body(Body::from(json!({"release": "v1"}).to_string()))?;
    let resp = api.router.clone().oneshot(req).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = resp
        .headers()
        .get(PROMOTION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = String::from_utf8(resp.into_body().collect().await?.to_bytes().to_vec())?;
    assert!(text.contains("-----> Promoting shop-staging v1"), "{text}");
    assert!(
        text.contains("Promoted shop-staging v1 to shop as v1"),
        "{text}"
    );
    let (_, done) = api
        .call("GET", &format!("/pipeline-promotions/{id}"), None, Some(&t))
        .await?;
    assert_eq!(done["doppel"]["target"]["status"], "succeeded", "{done}");
    assert_eq!(done["doppel"]["web_url"], "https://shop.localhost:8443/");
    Ok(())
}

#[tokio::test]
async fn parity_marks_and_the_audit_log() -> R {
    let (api, t) = shop(&["sha256:one"]).await?;
    set_config(&api, "shop-staging", "QA", "secret-value").await?;
    let (status, parity) = api
        .call("GET", "/pipelines/shop/parity", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK, "{parity}");
    assert_eq!(parity["drift"], 1, "{parity}");
    assert_eq!(parity["aspects"][0]["name"], "config");
    assert_eq!(parity["aspects"][0]["staging"], json!(["QA"]));
    assert!(!parity.to_string().contains("secret-value"));
    let diff = &parity["aspects"][0]["differences"][0];
    assert_eq!(diff["id"], "config/QA");
    assert_eq!(diff["class"], "drift");

    let (status, err) = api
        .call(
            "POST",
            "/pipelines/shop/parity/marks",
            Some(json!({"id": "config/QA"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, mark) = api
        .call(
            "POST",
            "/pipelines/shop/parity/marks",
            Some(json!({"id": "config/QA", "reason": "QA tooling only"})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{mark}");
    assert_eq!(mark["user"]["email"], "admin@localhost");
    let (_, parity) = api
        .call("GET", "/pipelines/shop-staging/parity", None, Some(&t))
        .await?;
    assert_eq!(parity["drift"], 0);
    assert_eq!(parity["intended"], 1);
    let diff = &parity["aspects"][0]["differences"][0];
    assert_eq!(diff["mark"]["reason"], "QA tooling only");
    let (status, _) = api
        .call(
            "DELETE",
            "/pipelines/shop/parity/marks/config/QA",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = api
        .call(
            "PUT",
            "/pipelines/shop/direct-pushes",
            Some(json!({"allowed": true})),
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let (_, pushes) = api
        .call("GET", "/pipelines/shop/direct-pushes", None, Some(&t))
        .await?;
    assert_eq!(pushes["allowed"], true);

    let (status, events) = api
        .call("GET", "/pipelines/shop/audit", None, Some(&t))
        .await?;
    assert_eq!(status, StatusCode::OK, "{events}");
    let actions: Vec<&str> = events
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        actions,
        [
            "app.direct_pushes",
            "parity.unmark",
            "parity.mark",
            "app.create"
        ]
    );
    assert_eq!(events[0]["environment"]["name"], "shop");
    assert_eq!(events[0]["user"]["email"], "admin@localhost");
    assert_eq!(events[0]["details"]["allowed"], true);
    assert_eq!(events[2]["details"]["reason"], "QA tooling only");
    let (_, prod_only) = api
        .call(
            "GET",
            "/pipelines/shop/audit?environment=shop",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(prod_only.as_array().map(Vec::len), Some(1));
    let (_, same) = api.call("GET", "/apps/shop/audit", None, Some(&t)).await?;
    assert_eq!(same, prod_only);
    let (_, nobody) = api
        .call("GET", "/pipelines/shop/audit?user=nobody@x", None, Some(&t))
        .await?;
    assert_eq!(nobody.as_array().map(Vec::len), Some(0));
    let (status, _) = api
        .call(
            "GET",
            "/pipelines/shop/audit?environment=other",
            None,
            Some(&t),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

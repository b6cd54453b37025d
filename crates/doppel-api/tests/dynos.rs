//! The dyno, log-session and log-drain endpoints in process, on the shared fake: `ps` with
//! states, one-off dynos with an `attach_url`, restarts and stops answered at once, log
//! sessions read as plain text and as server-sent events without a token, drains added,
//! listed and removed (their URLs never in the audit log), and a member who may not see an
//! app gets 404 everywhere.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::api;
use doppel_control::workflows::progress::Silent;
use doppel_control::workflows::release::{self, ReleaseRequest};
use doppel_types::ImageKind;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const IMAGE: &str = "sha256:dyno-image";

async fn released(api: &common::Api, name: &str) -> anyhow::Result<doppel_store::Environment> {
    let (status, _) = api
        .call(
            "POST",
            "/apps",
            Some(json!({ "name": name })),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    api.fake
        .state()
        .images
        .insert(IMAGE.into(), Default::default());
    let env = api
        .state
        .store()
        .environment(&format!("{name}-staging"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no staging"))?;
    let req = ReleaseRequest {
        image_id: IMAGE.into(),
        image_kind: ImageKind::Buildpack,
        process_types: [("web".to_string(), "serve".to_string())].into(),
        build_id: None,
        description: "Deploy 1".into(),
        user_id: None,
        config: None,
    };
    release::release(&api.state, &env, req, &Silent).await?;
    Ok(env)
}

/// A GET without a token; returns status, content type and body text.
async fn raw_get(
    api: &common::Api,
    path: &str,
    accept: &str,
) -> anyhow::Result<(StatusCode, String, String)> {
    let req = Request::builder()
        .uri(path)
        .header("Accept", accept)
        .body(Body::empty())?;
    let resp = api.router.clone().oneshot(req).await?;
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, ct, String::from_utf8_lossy(&bytes).into_owned()))
}

#[tokio::test]
async fn ps_one_offs_restarts_and_stops() -> anyhow::Result<()> {
    let api = api().await?;
    released(&api, "dynapi").await?;
    let (status, list) = api
        .call("GET", "/apps/dynapi-staging/dynos", None, Some(&api.token))
        .await?;
    assert_eq!(status, StatusCode::OK);
    let web = &list[0];
    assert_eq!(web["name"], "web.1");
    assert_eq!(web["type"], "web");
    assert_eq!(web["state"], "up");
    assert_eq!(web["size"], "standard-1X");
    assert_eq!(web["command"], "serve");
    assert_eq!(web["release"]["version"], 1);
    assert_eq!(web["app"]["name"], "dynapi-staging");
    let (status, one) = api
        .call(
            "GET",
            "/apps/dynapi-staging/dynos/web.1",
            None,
            Some(&api.token),
        )
        .await?;
    assert_eq!(
        (status, one["name"].clone()),
        (StatusCode::OK, json!("web.1"))
    );
    let (status, _) = api
        .call(
            "GET",
            "/apps/dynapi-staging/dynos/web.9",
            None,
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A one-off, as the Heroku CLI asks for it (numbers in env, null size).
    let body = json!({"attach": true, "command": "bash", "env": {"TERM": "xterm", "COLUMNS": 100, "LINES": 30}, "size": null});
    let (status, run) = api
        .call(
            "POST",
            "/apps/dynapi-staging/dynos",
            Some(body),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert!(
        run["name"].as_str().is_some_and(|n| n.starts_with("run.")),
        "{run}"
    );
    assert!(run["attach_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("rendezvous://localhost:5000/")));
    let (status, bad) = api
        .call(
            "POST",
            "/apps/dynapi-staging/dynos",
            Some(json!({"command": "x", "size": "enormous"})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");

    for (method, path) in [
        ("DELETE", "/apps/dynapi-staging/dynos"),
        ("DELETE", "/apps/dynapi-staging/dynos/web.1"),
        ("DELETE", "/apps/dynapi-staging/formations/web"),
        ("POST", "/apps/dynapi-staging/dynos/web.1/actions/stop"),
        ("POST", "/apps/dynapi-staging/formations/web/actions/stop"),
    ] {
        let (status, body) = api.call(method, path, None, Some(&api.token)).await?;
        assert_eq!(status, StatusCode::ACCEPTED, "{method} {path}: {body}");
        assert_eq!(body, json!({}));
    }
    let events = api
        .state
        .store()
        .audit_events(
            &api.state
                .store()
                .app("dynapi")
                .await?
                .map(|a| a.id)
                .unwrap_or_default(),
            &Default::default(),
        )
        .await?;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"dyno.run")
            && actions.contains(&"dyno.restart")
            && actions.contains(&"dyno.stop"),
        "{actions:?}"
    );
    Ok(())
}

#[tokio::test]
async fn log_sessions_read_without_a_token_as_text_or_events() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "logapi").await?;
    api.state
        .logs()
        .heroku(&env.id, "web.1", "hello from the platform");
    let (status, session) = api
        .call(
            "POST",
            "/apps/logapi-staging/log-sessions",
            Some(json!({"dyno": "web", "lines": 5, "tail": false})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let url = session["logplex_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = url
        .split_once("8443")
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    assert!(path.starts_with("/log-sessions/"), "{url}");
    let (status, ct, text) = raw_get(&api, &path, "*/*").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(
        text.contains("heroku[web.1]: hello from the platform"),
        "{text}"
    );
    assert!(text.lines().count() <= 5, "{text}");
    assert!(!text.contains("app[api]"), "only web lines: {text}");
    let (_, ct, events) = raw_get(&api, &path, "text/event-stream").await?;
    assert_eq!(ct, "text/event-stream");
    assert!(events.contains("data: "), "{events}");
    assert!(events.contains("hello from the platform"), "{events}");
    let (status, _, _) = raw_get(&api, "/log-sessions/nope", "*/*").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .call(
            "POST",
            "/apps/logapi-staging/log-sessions",
            Some(json!({"source": "elsewhere"})),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    Ok(())
}

#[tokio::test]
async fn drains_are_added_listed_and_removed_without_their_url_in_the_audit_log(
) -> anyhow::Result<()> {
    let api = api().await?;
    released(&api, "drainapi").await?;
    let url = "https://user:s3cret@127.0.0.1:9/in";
    let (status, drain) = api
        .call(
            "POST",
            "/apps/drainapi-staging/log-drains",
            Some(json!({ "url": url })),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{drain}");
    assert_eq!(drain["url"], url);
    assert!(drain["token"].as_str().is_some_and(|t| t.starts_with("d.")));
    let (status, _) = api
        .call(
            "POST",
            "/apps/drainapi-staging/log-drains",
            Some(json!({ "url": url })),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = api
        .call(
            "POST",
            "/apps/drainapi-staging/log-drains",
            Some(json!({ "url": "ftp://nope" })),
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = api
        .call(
            "GET",
            "/apps/drainapi-staging/log-drains",
            None,
            Some(&api.token),
        )
        .await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let id = drain["id"].as_str().unwrap_or_default();
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/apps/drainapi-staging/log-drains/{id}"),
            None,
            Some(&api.token),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = api
        .call(
            "GET",
            "/apps/drainapi-staging/log-drains",
            None,
            Some(&api.token),
        )
        .await?;
    assert_eq!(list, Value::Array(Vec::new()));
    let app = api
        .state
        .store()
        .app("drainapi")
        .await?
        .map(|a| a.id)
        .unwrap_or_default();
    let events = api
        .state
        .store()
        .audit_events(&app, &Default::default())
        .await?;
    assert!(events.iter().any(|e| e.action == "drain.add"));
    assert!(events.iter().all(|e| !e.details.contains("s3cret")));
    Ok(())
}

#[tokio::test]
async fn members_without_access_get_404() -> anyhow::Result<()> {
    let api = api().await?;
    released(&api, "hidden").await?;
    let (_, user) = api
        .call(
            "POST",
            "/users",
            Some(json!({"email": "member@example.com"})),
            Some(&api.token),
        )
        .await?;
    let token = user["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no token for the new user: {user}"))?;
    for (method, path) in [
        ("GET", "/apps/hidden-staging/dynos"),
        ("POST", "/apps/hidden-staging/log-sessions"),
        ("GET", "/apps/hidden-staging/log-drains"),
        ("DELETE", "/apps/hidden-staging/dynos"),
    ] {
        let (status, _) = api.call(method, path, None, Some(&token)).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    Ok(())
}

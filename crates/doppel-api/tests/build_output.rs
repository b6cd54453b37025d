//! Builds through the API, in-process: each build carries its release and the capability URL
//! of its output, which streams the live log while the build runs (no token needed, a wrong
//! URL is not found) and the stored log afterwards.

mod common;
mod release_world;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use doppel_store::BuildOutcome;
use doppel_types::ImageKind;
use http_body_util::BodyExt;
use release_world::{types, world, World};
use serde_json::json;
use tower::ServiceExt;

/// GETs `url`'s path with no credentials; status and body text.
async fn fetch(w: &World, url: &str) -> anyhow::Result<(StatusCode, String, String)> {
    let path = url
        .strip_prefix("https://localhost:8443")
        .ok_or_else(|| anyhow::anyhow!("not a platform URL: {url}"))?;
    let resp = w
        .api
        .router
        .clone()
        .oneshot(Request::builder().uri(path).body(Body::empty())?)
        .await?;
    let status = resp.status();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok((status, kind, String::from_utf8_lossy(&bytes).into_owned()))
}

#[tokio::test]
async fn build_output_streams_live_then_from_the_store() -> anyhow::Result<()> {
    let w = world().await?;
    let store = w.api.state.store().clone();
    let env = store
        .environment("shop-staging")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no env"))?;
    let build = store.create_build(&env.id, "abc1234def", None).await?;
    let live = w.api.state.outputs().start(&build.id);
    live.output().push("-----> Building on the stack");

    let (status, body) = w
        .call(
            "GET",
            &format!("/apps/shop-staging/builds/{}", build.id),
            None,
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["release"], json!(null));
    let url = body["output_stream_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        url.starts_with(&format!(
            "https://localhost:8443/streams/builds/{}/",
            build.id
        )),
        "{url}"
    );

    // A reader that joins while the build runs gets what was written, then follows to the end.
    let reader = {
        let w_router = w.api.router.clone();
        let path = url.replace("https://localhost:8443", "");
        tokio::spawn(async move {
            let resp = w_router
                .oneshot(Request::builder().uri(path).body(Body::empty())?)
                .await?;
            let status = resp.status();
            let bytes = resp.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !reader.is_finished(),
        "the stream stays open while the build runs"
    );
    live.output().push("       installing");
    let stored = "-----> Building on the stack\n       installing\n-----> done\n";
    live.output().push("-----> done");
    let outcome = BuildOutcome::Succeeded {
        image_id: "sha256:built".into(),
        image_kind: ImageKind::Buildpack,
        process_types: types(&[("web", "python app.py")]),
        buildpack: Some("Python".into()),
        stack: "debian-testing".into(),
        size_bytes: 1,
    };
    store.finish_build(&build.id, &outcome, stored).await?;
    drop(live);
    let (status, text) =
        tokio::time::timeout(std::time::Duration::from_secs(10), reader).await???;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, stored);

    // Afterwards: the stored log, for the same URL.
    let (status, kind, text) = fetch(&w, &url).await?;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::OK, "text/plain; charset=utf-8")
    );
    assert_eq!(text, stored);

    // A wrong or truncated token, or another build's id, is not found.
    let flipped = if url.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{flipped}", &url[..url.len() - 1]);
    for bad in [
        wrong,
        url[..url.len() - 10].to_string(),
        url.replace(&build.id, "other"),
    ] {
        let (status, _, body) = fetch(&w, &bad).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}: {body}");
    }

    // The build's release is shown once the build made one.
    let mut release = doppel_control::workflows::release::ReleaseRequest {
        image_id: "sha256:built".into(),
        image_kind: ImageKind::Buildpack,
        process_types: types(&[("web", "python app.py")]),
        build_id: Some(build.id.clone()),
        description: "Deploy abc1234".into(),
        user_id: None,
        config: None,
    };
    w.add_image("sha256:built");
    let made = doppel_control::workflows::release::release(
        &w.api.state,
        &env,
        release.clone(),
        &doppel_control::workflows::progress::Silent,
    )
    .await?;
    release.description = "Deploy again".into();
    doppel_control::workflows::release::release(
        &w.api.state,
        &env,
        release,
        &doppel_control::workflows::progress::Silent,
    )
    .await?;
    let (_, list) = w
        .request(
            "GET",
            "/apps/shop-staging/builds",
            None,
            &[("Range", "created_at ..; max=10, order=desc")],
        )
        .await
        .map(|(s, _, b)| (s, b))?;
    assert_eq!(list[0]["release"]["id"], made.id.as_str());
    assert_eq!(list[0]["source_blob"]["version"], "abc1234def");
    assert_eq!(list[0]["output_stream_url"], url.as_str());
    Ok(())
}

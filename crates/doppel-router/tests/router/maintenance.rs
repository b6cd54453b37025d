//! Maintenance mode: the router answers 503 with the maintenance page (H80) and does not
//! forward the request; staging still asks for credentials first.

use reqwest::StatusCode;

use crate::harness::{echo_upstream, private, public, Router};

#[tokio::test]
async fn maintenance_answers_503_h80_without_forwarding() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("web").await?;
    let mut route = public("myapp", vec![up]);
    route.maintenance = true;
    let mut staging = private("myapp-staging", vec![up], &["tok"]);
    staging.maintenance = true;
    router.publish(vec![
        ("myapp.localhost", route),
        ("myapp-staging.localhost", staging),
    ]);
    let client = router.client(&["myapp.localhost", "myapp-staging.localhost"])?;

    let resp = client
        .post(router.url("myapp.localhost", "/orders"))
        .body("x")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "60");
    let text = resp.text().await?;
    assert!(text.contains("Offline for maintenance"), "{text}");
    assert!(text.contains("H80"), "{text}");
    assert!(!text.contains("\"upstream\""), "forwarded: {text}");

    // A private environment in maintenance still asks who is there first.
    let url = router.url("myapp-staging.localhost", "/");
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = client.get(&url).basic_auth("", Some("tok")).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Off again: the same dyno answers.
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let resp = client
        .get(router.url("myapp.localhost", "/"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await?.contains("\"upstream\""));
    router.stop().await
}

//! Maintenance mode: the router answers 503 with the maintenance page (H80) and does not
//! forward the request; staging still asks for credentials first. The app's own
//! maintenance and error pages (`MAINTENANCE_PAGE_URL`, `ERROR_PAGE_URL`) are framed.

use doppel_router::{CustomPages, RouteStatus};
use reqwest::StatusCode;

use crate::harness::{dead_backend, echo_upstream, private, public, Router};

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

/// Heroku's `MAINTENANCE_PAGE_URL` and `ERROR_PAGE_URL`: the router's page (status, headers,
/// log code kept) frames the app's own page; refusals (401) and a URL that is no http(s)
/// address keep the router's own page.
#[tokio::test]
async fn the_apps_own_pages_are_framed() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("web").await?;
    let dead = dead_backend().await?;
    let pages = CustomPages {
        error: Some("https://pages.example/error.html".into()),
        maintenance: Some("https://pages.example/down.html?x=<1>".into()),
    };
    let mut down = public("down", vec![up]);
    down.maintenance = true;
    down.pages = pages.clone();
    let mut dead_route = public("dead", vec![dead]);
    dead_route.pages = pages.clone();
    let mut idle = public("idle", Vec::new());
    idle.status = RouteStatus::NoWebDynos;
    idle.pages = pages.clone();
    let mut staging = private("shut", vec![up], &["tok"]);
    staging.pages = pages.clone();
    let mut odd = public("odd", Vec::new());
    odd.status = RouteStatus::NoWebDynos;
    odd.pages.error = Some("javascript:alert(1)".into());
    router.publish(vec![
        ("down.localhost", down),
        ("dead.localhost", dead_route),
        ("idle.localhost", idle),
        ("shut.localhost", staging),
        ("odd.localhost", odd),
    ]);
    let hosts = [
        "down.localhost",
        "dead.localhost",
        "idle.localhost",
        "shut.localhost",
        "odd.localhost",
    ];
    let client = router.client(&hosts)?;
    let get = |host: &str| client.get(router.url(host, "/")).send();

    let resp = get("down.localhost").await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "60");
    let text = resp.text().await?;
    assert!(
        text.contains("<iframe src=\"https://pages.example/down.html?x=&lt;1&gt;\""),
        "{text}"
    );
    for (host, code) in [("dead.localhost", "H21"), ("idle.localhost", "H14")] {
        let resp = get(host).await?;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{host}");
        let text = resp.text().await?;
        assert!(
            text.contains("<iframe src=\"https://pages.example/error.html\""),
            "{host}: {text}"
        );
        let lines = router.lines.wait_for(&format!("host={host}")).await;
        assert!(
            lines
                .iter()
                .any(|l| l.line.contains(&format!("code={code}"))
                    && l.line.contains(&format!("host={host}"))),
            "{host}: {lines:?}"
        );
    }
    let resp = get("shut.localhost").await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(!resp.text().await?.contains("iframe"));
    let resp = get("odd.localhost").await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = resp.text().await?;
    assert!(!text.contains("iframe") && text.contains("H14"), "{text}");
    router.stop().await
}

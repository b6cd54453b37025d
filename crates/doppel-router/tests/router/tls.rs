//! TLS: the platform CA verifies per-host leaves (curl without -k), ALPN negotiates h2.

use crate::harness::{curl, echo_upstream, public, Router};

#[tokio::test]
async fn curl_verifies_localhost_and_env_hosts() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("a").await?;
    router.publish(vec![(
        "myapp-staging.localhost",
        public("myapp-staging", vec![up]),
    )]);
    let (code, out, err) = curl(&router, &[&router.url("localhost", "/")]).await?;
    assert_eq!(code, 0, "curl localhost failed: {err}");
    assert_eq!(out, "doppel platform");

    let (code, out, err) = curl(
        &router,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &router.url("myapp-staging.localhost", "/"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "curl myapp-staging.localhost failed: {err}");
    assert_eq!(out, "200");

    // By IP, without SNI: the fallback certificate carries 127.0.0.1.
    let (code, out, err) = curl(
        &router,
        &[&format!("https://127.0.0.1:{}/", router.https.port())],
    )
    .await?;
    assert_eq!(code, 0, "curl 127.0.0.1 failed: {err}");
    assert_eq!(out, "doppel platform");
    router.stop().await
}

#[tokio::test]
async fn leaf_san_is_exactly_the_host() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let (code, _out, err) = curl(
        &router,
        &[
            "-v",
            "-o",
            "/dev/null",
            &router.url("deep.name.myapp.localhost", "/"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("subjectAltName: host \"deep.name.myapp.localhost\" matched cert's \"deep.name.myapp.localhost\""),
        "{err}"
    );
    router.stop().await
}

#[tokio::test]
async fn http2_via_alpn() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("a").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);

    let (code, out, err) = curl(
        &router,
        &[
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version} %{http_code}",
            &router.url("localhost", "/"),
        ],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "2 200");

    let (code, out, err) = curl(
        &router,
        &["--http2", &router.url("myapp.localhost", "/h2?x=1")],
    )
    .await?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["version"], "HTTP/1.1", "dyno side is HTTP/1.1");
    assert_eq!(v["uri"], "/h2?x=1");
    assert_eq!(
        v["headers"]["host"],
        format!("myapp.localhost:{}", router.https.port())
    );

    let client = router.client(&["myapp.localhost"])?;
    let resp = client
        .get(router.url("myapp.localhost", "/"))
        .send()
        .await?;
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    router.stop().await
}

//! Host dispatch and proxy behaviour: forwarded headers, staging auth, error pages, live table swaps.

use std::time::Duration;

use doppel_router::RouterOptions;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{dead_backend, echo_upstream, private, public, Router};

async fn json(resp: reqwest::Response) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::from_str(&resp.text().await?)?)
}

#[tokio::test]
async fn platform_host_and_ip_go_to_the_platform_router() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let client = router.client(&["localhost"])?;
    let resp = client.get(router.url("localhost", "/")).send().await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await?, "doppel platform");

    router.stop().await
}

#[tokio::test]
async fn plain_http_only_redirects_and_never_reaches_the_platform_or_a_dyno() -> anyhow::Result<()>
{
    let router = Router::start().await?;
    let up = echo_upstream("web").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let plain = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("myapp.localhost", router.http)
        .resolve("localhost", router.http)
        .build()?;
    let resp = plain
        .get(format!(
            "http://localhost:{}/account?x=1",
            router.http.port()
        ))
        .bearer_auth("a-token")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        resp.headers()["location"],
        format!("https://localhost:{}/account?x=1", router.https.port())
    );
    assert_ne!(resp.text().await?, "doppel platform");
    let resp = plain
        .post(format!(
            "http://myapp.localhost:{}/form",
            router.http.port()
        ))
        .body("secret=1")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        resp.headers()["location"],
        format!("https://myapp.localhost:{}/form", router.https.port())
    );
    assert!(!resp.text().await?.contains("headers"), "a dyno answered");
    let resp = plain
        .get(format!(
            "http://myapp.localhost:{}/.well-known/acme-challenge/abc",
            router.http.port()
        ))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Answers to requests without a body keep the connection open (the POST's was closed,
    // its body unread). Closed here, so the router's drain does not wait for it.
    drop(plain);
    router.stop().await
}

#[tokio::test]
async fn public_route_proxies_with_forwarded_headers() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("web").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    let resp = client
        .post(router.url("myapp.localhost", "/some/path?q=1"))
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-forwarded-proto", "gopher")
        .header("x-forwarded-port", "1")
        .header("x-request-id", "client-request-id-0123456789")
        .header("connection", "x-hop")
        .header("x-hop", "secret")
        .body("hello body")
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-request-id"],
        "client-request-id-0123456789"
    );
    assert!(
        resp.headers().get("x-secret").is_none(),
        "hop-by-hop response header leaked"
    );
    assert!(resp.headers()["via"].to_str()?.contains("1.1 doppel"));
    let v = json(resp).await?;
    let h = &v["headers"];
    assert_eq!(v["method"], "POST");
    assert_eq!(v["uri"], "/some/path?q=1");
    assert_eq!(v["body"], "hello body");
    assert_eq!(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "https");
    assert_eq!(h["x-forwarded-port"], router.https.port().to_string());
    assert_eq!(h["x-request-id"], "client-request-id-0123456789");
    assert_eq!(h["via"], "1.1 doppel");
    assert_eq!(
        h["host"],
        format!("myapp.localhost:{}", router.https.port())
    );
    assert!(h.get("x-hop").is_none(), "hop-by-hop request header leaked");
    let start: u128 = h["x-request-start"].as_str().unwrap_or("").parse()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    assert!(now - start < 10_000);

    // An invalid request id is replaced with a UUID, echoed on the response.
    let resp = client
        .get(router.url("myapp.localhost", "/"))
        .header("x-request-id", "too short")
        .send()
        .await?;
    let echoed = resp.headers()["x-request-id"].to_str()?.to_owned();
    assert_eq!(echoed.len(), 36);
    assert_eq!(
        json(resp).await?["headers"]["x-request-id"],
        echoed.as_str()
    );
    router.stop().await
}

#[tokio::test]
async fn private_route_requires_a_token() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("web").await?;
    router.publish(vec![(
        "myapp-staging.localhost",
        private("myapp-staging", vec![up], &["tok-right"]),
    )]);
    let client = router.client(&["myapp-staging.localhost"])?;
    let url = router.url("myapp-staging.localhost", "/");

    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Basic realm=\"myapp-staging (doppel staging)\""
    );
    assert!(resp.text().await?.contains("API token"));

    let resp = client
        .get(&url)
        .basic_auth("me", Some("tok-wrong"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let resp = client
        .get(&url)
        .basic_auth("anyone", Some("tok-right"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let v = json(resp).await?;
    assert!(
        v["headers"].get("authorization").is_none(),
        "token forwarded to the app"
    );
    router.stop().await
}

#[tokio::test]
async fn error_pages_and_live_table_swaps() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let a = echo_upstream("a").await?;
    let b = echo_upstream("b").await?;
    let client = router.client(&["myapp.localhost", "other.localhost"])?;
    let url = router.url("myapp.localhost", "/");

    // Unknown host.
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.text().await?.contains("No such app"));

    // Known, no release yet.
    router.publish(vec![("myapp.localhost", public("myapp", vec![]))]);
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = resp.text().await?;
    assert!(text.contains("<title>No release yet</title>"), "{text}");
    assert!(
        text.contains("<code>myapp</code> has no running release yet"),
        "{text}"
    );

    // Released, but its web dyno is down: a different page, same H14 status.
    let mut down = public("myapp", vec![]);
    down.status = doppel_router::RouteStatus::NoWebDynos;
    router.publish(vec![("myapp.localhost", down)]);
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = resp.text().await?;
    assert!(
        text.contains("<title>No web dynos running</title>"),
        "{text}"
    );

    // Swapped live: a, then b.
    router.publish(vec![("myapp.localhost", public("myapp", vec![a]))]);
    assert_eq!(json(client.get(&url).send().await?).await?["upstream"], "a");
    router.publish(vec![("myapp.localhost", public("myapp", vec![b]))]);
    assert_eq!(json(client.get(&url).send().await?).await?["upstream"], "b");
    router.publish(vec![("other.localhost", public("other", vec![a]))]);
    assert_eq!(
        client.get(&url).send().await?.status(),
        StatusCode::NOT_FOUND
    );
    let resp = client
        .get(router.url("other.localhost", "/"))
        .send()
        .await?;
    assert_eq!(json(resp).await?["upstream"], "a");

    // Dead backend only → Application error; dead + live → always served by the live one.
    let dead = dead_backend().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![dead]))]);
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await?.contains("Application error"));
    router.publish(vec![("myapp.localhost", public("myapp", vec![dead, b]))]);
    for _ in 0..6 {
        let resp = client.post(&url).body("retried body").send().await?;
        assert_eq!(resp.status(), StatusCode::OK);
        let v = json(resp).await?;
        assert_eq!(v["upstream"], "b");
        assert_eq!(v["body"], "retried body");
    }
    router.stop().await
}

#[tokio::test]
async fn slow_dyno_gets_h12() -> anyhow::Result<()> {
    let router = Router::start_with(RouterOptions {
        first_byte_timeout: Duration::from_millis(500),
        ..RouterOptions::default()
    })
    .await?;
    let up = echo_upstream("slow").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    let resp = client
        .get(router.url("myapp.localhost", "/slow"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await?.contains("(H12)"));
    router.stop().await
}

async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> anyhow::Result<String> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    send_and_read(&mut s, request).await
}

/// The same over TLS to `localhost`.
async fn raw_tls(router: &Router, request: &[u8]) -> anyhow::Result<String> {
    let mut s = router.tls_stream("localhost").await?;
    send_and_read(&mut s, request).await
}

async fn send_and_read(
    s: &mut (impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin),
    request: &[u8],
) -> anyhow::Result<String> {
    s.write_all(request).await?;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn garbage_and_oversized_requests_are_rejected() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let out = raw(router.http, b"\x16\x03garbage\r\n\r\n").await?;
    assert!(out.starts_with("HTTP/1.1 400"), "{out:?}");

    let big = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    for out in [
        raw(router.http, big.as_bytes()).await?,
        raw_tls(&router, big.as_bytes()).await?,
    ] {
        eprintln!("oversized head answered: {:?}", out.lines().next());
        assert!(
            out.starts_with("HTTP/1.1 431") || out.starts_with("HTTP/1.1 400"),
            "{out:?}"
        );
    }
    let out = raw_tls(&router, b"\x16\x03garbage\r\n\r\n").await?;
    assert!(out.starts_with("HTTP/1.1 400"), "{out:?}");

    // Still serving.
    let out = raw_tls(
        &router,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await?;
    assert!(out.starts_with("HTTP/1.1 200"), "{out:?}");
    assert!(out.ends_with("doppel platform"), "{out:?}");
    router.stop().await
}

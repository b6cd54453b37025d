//! Heroku's router behaviour: H-code pages and the router log line for each, booting dynos,
//! retries on a dead dyno, staging credentials (the dyno never sees an unauthorised request),
//! the IP allow-list, request limits, streaming and idle timeouts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::routing::get;
use doppel_router::{RouteStatus, RouterOptions};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::harness::{dead_backend, echo_upstream, private, public, Router};

/// An upstream counting the requests it gets; `/stall` sends a first chunk then nothing.
async fn counting_upstream() -> anyhow::Result<(SocketAddr, Arc<AtomicUsize>)> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new()
        .route(
            "/stall",
            get(|| async {
                let stream = futures_util::stream::unfold(0u8, |n| async move {
                    if n > 0 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    Some((
                        Ok::<_, std::io::Error>(bytes::Bytes::from("first\n")),
                        n + 1,
                    ))
                });
                Body::from_stream(stream)
            }),
        )
        .route(
            "/events",
            get(|| async {
                let stream = futures_util::stream::unfold(0u8, |n| async move {
                    if n >= 3 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let event = format!("data: event {n}\n\n");
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(event)), n + 1))
                });
                (
                    [("content-type", "text/event-stream")],
                    Body::from_stream(stream),
                )
            }),
        )
        .fallback(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                "counted"
            }
        });
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, hits))
}

/// An upstream that reads the request and closes the connection without answering.
async fn hangup_upstream() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            drop(s);
        }
    });
    Ok(addr)
}

fn line_with<'a>(lines: &'a [doppel_router::RouterLine], needle: &str) -> &'a str {
    lines
        .iter()
        .map(|l| l.line.as_str())
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no router line with {needle:?} in {lines:#?}"))
}

#[tokio::test]
async fn every_h_code_has_a_page_and_a_log_line() -> anyhow::Result<()> {
    let router = Router::start_with(RouterOptions {
        first_byte_timeout: Duration::from_millis(400),
        boot_timeout: Duration::from_millis(300),
        ..RouterOptions::default()
    })
    .await?;
    let client = router.client(&["myapp.localhost"])?;
    let url = router.url("myapp.localhost", "/some/path?x=1");
    let page = |status| {
        let mut r = public("myapp", vec![]);
        r.status = status;
        r
    };
    let cases = [
        (page(RouteStatus::NoRelease), "H81", "at=info code=H81"),
        (page(RouteStatus::NoWebDynos), "H14", "at=error code=H14"),
        (page(RouteStatus::Crashed), "H10", "at=error code=H10"),
        (page(RouteStatus::Booting), "H20", "at=error code=H20"),
    ];
    for (route, code, logged) in cases {
        router.publish(vec![("myapp.localhost", route)]);
        let resp = client.get(&url).send().await?;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{code}");
        assert!(resp.text().await?.contains(&format!("({code})")), "{code}");
        let lines = router.lines.wait_for(code).await;
        let line = line_with(&lines, logged);
        assert!(
            line.contains("method=GET path=\"/some/path?x=1\" host=myapp.localhost"),
            "{line}"
        );
        assert!(line.contains("status=503"), "{line}");
        assert!(line.contains(" dyno= connect= service= "), "{line}");
    }

    let mut maintenance = public("myapp", vec![echo_upstream("web").await?]);
    maintenance.maintenance = true;
    router.publish(vec![("myapp.localhost", maintenance)]);
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await?.contains("offline for maintenance"));
    let lines = router.lines.wait_for("H80").await;
    line_with(&lines, "at=info code=H80 desc=\"Maintenance mode\"");

    let slow = echo_upstream("slow").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![slow]))]);
    let resp = client
        .get(router.url("myapp.localhost", "/slow"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await?.contains("(H12)"));
    let lines = router.lines.wait_for("H12").await;
    let line = line_with(&lines, "at=error code=H12 desc=\"Request timeout\"");
    assert!(line.contains("dyno=web.1"), "{line}");
    // The dyno was reached: the line says how long connecting took, as Heroku's do.
    assert!(
        line.contains(" connect=") && !line.contains(" connect= "),
        "{line}"
    );

    let hangup = hangup_upstream().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![hangup]))]);
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let lines = router.lines.wait_for("H13").await;
    let line = line_with(
        &lines,
        "at=error code=H13 desc=\"Connection closed without response\"",
    );
    assert!(
        line.contains(" connect=") && !line.contains(" connect= "),
        "{line}"
    );

    let dead = dead_backend().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![dead]))]);
    let resp = client.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let lines = router.lines.wait_for("H21").await;
    line_with(
        &lines,
        "at=error code=H21 desc=\"Backend connection refused\"",
    );
    router.stop().await
}

#[tokio::test]
async fn a_served_request_logs_heroku_fields() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let (up, _) = counting_upstream().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    let resp = client
        .get(router.url("myapp.localhost", "/hello"))
        .header("x-request-id", "abcdefghij0123456789-rid")
        .send()
        .await?;
    assert_eq!(resp.text().await?, "counted");
    let lines = router.lines.wait_for("abcdefghij0123456789-rid").await;
    let line = line_with(&lines, "abcdefghij0123456789-rid");
    assert!(line.starts_with("at=info method=GET path=\"/hello\" host=myapp.localhost request_id=abcdefghij0123456789-rid fwd=\"127.0.0.1\" dyno=web.1 connect="), "{line}");
    assert!(
        line.contains(" status=200 bytes=7 protocol=http2.0 tls=true tls_version=tls1.3"),
        "{line}"
    );
    assert_eq!(&*lines[0].env, "myapp");
    router.stop().await
}

#[tokio::test]
async fn booting_dynos_get_the_waiting_requests() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("booted").await?;
    let mut booting = public("myapp", vec![]);
    booting.status = RouteStatus::Booting;
    router.publish(vec![("myapp.localhost", booting)]);
    let client = router.client(&["myapp.localhost"])?;
    let url = router.url("myapp.localhost", "/");
    let waiting = tokio::spawn(async move { client.get(url).send().await?.text().await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let body = tokio::time::timeout(Duration::from_secs(10), waiting).await???;
    assert!(body.contains("\"upstream\":\"booted\""), "{body}");
    router.stop().await
}

#[tokio::test]
async fn a_dead_dyno_is_retried_on_another_and_skipped_after() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let dead = dead_backend().await?;
    let (up, hits) = counting_upstream().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![dead, up]))]);
    let client = router.client(&["myapp.localhost"])?;
    for _ in 0..20 {
        let resp = client
            .post(router.url("myapp.localhost", "/"))
            .body("a body survives the retry")
            .send()
            .await?;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 20);
    // The dead dyno refused at most a couple of times: it is quarantined after a refusal.
    let lines = router.lines.wait_for("status=200").await;
    let refused = lines.iter().filter(|l| l.line.contains("H21")).count();
    assert_eq!(refused, 0, "a retried request is logged once, as served");
    router.stop().await
}

/// A refused connect gives the request back, and the next dyno gets all of it: the client's
/// own headers, the forwarding headers and the body. Each round publishes nine dead dynos
/// beside one live one, so nearly every request is refused at least once before it lands.
#[tokio::test]
async fn a_retried_request_reaches_the_next_dyno_whole() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let live = echo_upstream("live").await?;
    let client = router.client(&["myapp.localhost"])?;
    for _ in 0..5 {
        let mut dynos = Vec::new();
        for _ in 0..9 {
            dynos.push(dead_backend().await?);
        }
        dynos.push(live);
        router.publish(vec![("myapp.localhost", public("myapp", dynos))]);
        let seen: serde_json::Value = client
            .post(router.url("myapp.localhost", "/retried?q=1"))
            .header("x-client-header", "kept")
            .body("the body")
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(seen["upstream"], "live", "{seen}");
        assert_eq!(seen["uri"], "/retried?q=1", "{seen}");
        assert_eq!(seen["body"], "the body", "{seen}");
        let headers = &seen["headers"];
        assert_eq!(headers["x-client-header"], "kept", "{seen}");
        assert_eq!(headers["x-forwarded-proto"], "https", "{seen}");
        assert_eq!(headers["x-forwarded-host"], "myapp.localhost", "{seen}");
        assert!(
            headers["x-forwarded-port"]
                .as_str()
                .is_some_and(|p| !p.is_empty()),
            "{seen}"
        );
        assert!(
            headers["x-request-id"]
                .as_str()
                .is_some_and(|id| id.len() == 36),
            "{seen}"
        );
    }
    router.stop().await
}

#[tokio::test]
async fn staging_refuses_without_credentials_and_the_dyno_never_hears_of_it() -> anyhow::Result<()>
{
    let router = Router::start().await?;
    let (up, hits) = counting_upstream().await?;
    router.publish(vec![(
        "myapp-staging.localhost",
        private(
            "myapp-staging",
            vec![up],
            &["member-token", "access-password"],
        ),
    )]);
    let client = router.client(&["myapp-staging.localhost"])?;
    let url = router.url("myapp-staging.localhost", "/");
    for creds in [None, Some("wrong"), Some("member-token-of-another-app")] {
        let mut req = client.get(&url);
        if let Some(p) = creds {
            req = req.basic_auth("user", Some(p));
        }
        let resp = req.send().await?;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{creds:?}");
        assert!(resp.headers().contains_key("www-authenticate"));
    }
    // Even a large upload is refused before anything is forwarded.
    let resp = client.post(&url).body(vec![b'x'; 2 << 20]).send().await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the dyno was contacted");
    for password in ["member-token", "access-password"] {
        let resp = client
            .get(&url)
            .basic_auth("", Some(password))
            .send()
            .await?;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let lines = router.lines.wait_for("status=401").await;
    assert!(lines
        .iter()
        .any(|l| l.line.contains("status=401") && &*l.env == "myapp-staging"));
    router.stop().await
}

#[tokio::test]
async fn the_allow_list_admits_only_its_networks() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let (up, hits) = counting_upstream().await?;
    let mut route = public("myapp", vec![up]);
    route.allow_ips = Some(vec!["192.0.2.0/24".parse()?]);
    router.publish(vec![("myapp.localhost", route.clone())]);
    let client = router.client(&["myapp.localhost"])?;
    let url = router.url("myapp.localhost", "/");
    assert_eq!(
        client.get(&url).send().await?.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    route.allow_ips = Some(vec!["127.0.0.0/8".parse()?]);
    router.publish(vec![("myapp.localhost", route)]);
    assert_eq!(client.get(&url).send().await?.status(), StatusCode::OK);
    router.stop().await
}

#[tokio::test]
async fn request_limits_answer_before_the_dyno() -> anyhow::Result<()> {
    let router = Router::start_with(RouterOptions {
        max_body_bytes: 1024,
        ..RouterOptions::default()
    })
    .await?;
    let (up, hits) = counting_upstream().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    let url = router.url("myapp.localhost", "/");
    let resp = client.post(&url).body(vec![b'x'; 4096]).send().await?;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let resp = client
        .get(&url)
        .header("x-long", "a".repeat(9000))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let resp = client
        .get(&url)
        .header("expect", "something-else")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::EXPECTATION_FAILED);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // A chunked body over the limit is cut off while streaming.
    let chunks = futures_util::stream::iter(
        (0..8).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; 512]))),
    );
    let resp = client
        .post(&url)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_ne!(resp.status(), StatusCode::OK);
    }
    let lines = router.lines.wait_for("H26").await;
    line_with(&lines, "at=error code=H26 desc=\"Request Error\"");
    router.stop().await
}

#[tokio::test]
async fn event_streams_flow_and_a_stalled_dyno_gets_h15() -> anyhow::Result<()> {
    let router = Router::start_with(RouterOptions {
        idle_timeout: Duration::from_millis(700),
        ..RouterOptions::default()
    })
    .await?;
    let (up, _) = counting_upstream().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    // Server-sent events arrive one by one, not buffered until the end.
    let mut resp = client
        .get(router.url("myapp.localhost", "/events"))
        .send()
        .await?;
    let start = std::time::Instant::now();
    let first = resp.chunk().await?.unwrap_or_default();
    assert!(first.starts_with(b"data: event 0"), "{first:?}");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "the first event waited for the rest"
    );
    let mut rest = Vec::new();
    while let Some(c) = resp.chunk().await? {
        rest.extend_from_slice(&c);
    }
    assert!(String::from_utf8_lossy(&rest).contains("data: event 2"));

    let mut resp = client
        .get(router.url("myapp.localhost", "/stall"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.chunk().await?.as_deref(), Some(&b"first\n"[..]));
    let cut = tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await?;
    assert!(cut.is_err(), "the stalled response should be cut: {cut:?}");
    let lines = router.lines.wait_for("H15").await;
    line_with(&lines, "at=error code=H15 desc=\"Idle connection\"");
    router.stop().await
}

#[tokio::test]
async fn slow_and_malformed_clients_are_cut_off() -> anyhow::Result<()> {
    let router = Router::start_with(RouterOptions {
        header_read_timeout: Duration::from_millis(500),
        ..RouterOptions::default()
    })
    .await?;
    // A client that never finishes its request head is disconnected.
    let mut slow = router.tls_stream("localhost").await?;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await?;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "a slow client kept its connection");
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"[..],
        b"GET /\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ] {
        let mut s = router.tls_stream("localhost").await?;
        s.write_all(garbage).await?;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        let out = String::from_utf8_lossy(&out);
        assert!(
            out.is_empty() || out.starts_with("HTTP/1.1 400") || out.starts_with("HTTP/1.1 505"),
            "{out:?}"
        );
    }
    // Still serving.
    let up = echo_upstream("web").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    let resp = client
        .get(router.url("myapp.localhost", "/"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    router.stop().await
}

#[tokio::test]
async fn connection_caps_close_extra_connections() -> anyhow::Result<()> {
    let router = Router::start_with(RouterOptions {
        max_conns_per_client: 2,
        ..RouterOptions::default()
    })
    .await?;
    let a = router.tls_stream("localhost").await?;
    let b = router.tls_stream("localhost").await?;
    assert!(
        router.tls_stream("localhost").await.is_err(),
        "a third connection was served"
    );
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = router.tls_stream("localhost").await?;
    c.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut out = Vec::new();
    c.read_to_end(&mut out).await?;
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
    drop(b);
    router.stop().await
}

/// An upstream counting connections; with `close_after`, it closes each after that many
/// responses (as servers with short keep-alive limits do).
async fn connection_counting_upstream(
    close_after: Option<usize>,
) -> anyhow::Result<(SocketAddr, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let conns = Arc::new(AtomicUsize::new(0));
    let counter = conns.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut served = 0;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
                    buf.drain(..end);
                    served += 1;
                    let last = close_after.is_some_and(|n| served >= n);
                    let head = if last { "connection: close\r\n" } else { "" };
                    let resp = format!("HTTP/1.1 200 OK\r\n{head}content-length: 2\r\n\r\nok");
                    if s.write_all(resp.as_bytes()).await.is_err() || last {
                        return;
                    }
                }
            });
        }
    });
    Ok((addr, conns))
}

#[tokio::test]
async fn dyno_connections_are_kept_alive_and_replaced_when_closed() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let (up, conns) = connection_counting_upstream(None).await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    for _ in 0..20 {
        let resp = client
            .get(router.url("myapp.localhost", "/"))
            .send()
            .await?;
        assert_eq!(resp.text().await?, "ok");
    }
    assert_eq!(conns.load(Ordering::SeqCst), 1, "one kept-alive connection");

    // A dyno that closes its connections after every other response: never an error.
    let (up, conns) = connection_counting_upstream(Some(2)).await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    for _ in 0..20 {
        let resp = client
            .get(router.url("myapp.localhost", "/"))
            .send()
            .await?;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.text().await?, "ok");
    }
    assert_eq!(conns.load(Ordering::SeqCst), 10);
    router.stop().await
}

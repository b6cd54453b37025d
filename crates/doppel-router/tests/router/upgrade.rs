//! HTTP/1.1 upgrades (WebSocket-style) pass through; shutdown drains in-flight requests.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::harness::{echo_upstream, public, Router};

/// An upstream that answers any request with 101 and then echoes bytes back.
async fn upgrade_upstream() -> anyhow::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let head = read_head(&mut s).await.unwrap_or_default();
                if !head.to_ascii_lowercase().contains("upgrade: echo") {
                    return;
                }
                let _ = s
                    .write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
                    .await;
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    Ok(addr)
}

async fn read_head(s: &mut (impl AsyncRead + Unpin)) -> anyhow::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[tokio::test]
async fn upgrade_passes_through() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = upgrade_upstream().await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let mut s = router.tls_stream("myapp.localhost").await?;
    s.write_all(b"GET /ws HTTP/1.1\r\nHost: myapp.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
        .await?;
    let head = tokio::time::timeout(Duration::from_secs(5), read_head(&mut s)).await??;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.write_all(b"ping over the tunnel").await?;
    let mut buf = [0u8; 20];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf)).await??;
    assert_eq!(&buf, b"ping over the tunnel");
    router.stop().await
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests() -> anyhow::Result<()> {
    let router = Router::start().await?;
    let up = echo_upstream("slow").await?;
    router.publish(vec![("myapp.localhost", public("myapp", vec![up]))]);
    let client = router.client(&["myapp.localhost"])?;
    let url = router.url("myapp.localhost", "/slow");
    let in_flight = tokio::spawn(async move { client.get(url).send().await?.text().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let https = router.https;
    router.stop().await?;
    assert_eq!(in_flight.await??, "slow");
    assert!(
        TcpStream::connect(https).await.is_err(),
        "still accepting after shutdown"
    );
    Ok(())
}

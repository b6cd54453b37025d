//! The health probe of a booting web dyno: a TCP connect to its port, or an HTTP `GET` of the
//! path the app declares. Behind the runtime trait so the shared fake can decide the answer.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::HealthCheck;

/// Longest status line read from a dyno's health answer.
const MAX_STATUS_LINE: usize = 1024;

/// One check of `addr`, within `timeout`.
pub(crate) async fn probe(
    addr: SocketAddr,
    check: &HealthCheck,
    timeout: Duration,
) -> Result<(), String> {
    match tokio::time::timeout(timeout, probe_inner(addr, check)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

async fn probe_inner(addr: SocketAddr, check: &HealthCheck) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connection to port {} failed: {e}", addr.port()))?;
    let (path, host) = match check {
        HealthCheck::Tcp => return Ok(()),
        HealthCheck::Http { path, host } => (path, host),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: doppel-health-check\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending the health check failed: {e}"))?;
    let mut head = Vec::with_capacity(128);
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < MAX_STATUS_LINE {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading the health check's answer failed: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let status = status_code(&head)
        .ok_or_else(|| format!("GET {path} did not answer with an HTTP status line"))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("GET {path} answered {status}"))
    }
}

/// The status code of `HTTP/1.1 200 OK`.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split_whitespace();
    if !words.next()?.starts_with("HTTP/") {
        return None;
    }
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_codes() {
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.0 503 x\r\nA: b"), Some(503));
        assert_eq!(status_code(b"SSH-2.0\r\n"), None);
    }

    #[tokio::test]
    async fn http_checks_want_a_good_status() -> Result<(), Box<dyn std::error::Error>> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            for answer in ["HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 500 Oops\r\n\r\n"] {
                if let Ok((mut s, _)) = listener.accept().await {
                    let mut buf = [0u8; 512];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(answer.as_bytes()).await;
                }
            }
        });
        let check = HealthCheck::Http {
            path: "/up".into(),
            host: "x.localhost".into(),
        };
        let t = Duration::from_secs(5);
        assert_eq!(probe(addr, &check, t).await, Ok(()));
        let err = probe(addr, &check, t).await.err().unwrap_or_default();
        assert!(err.contains("answered 500"), "{err}");
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await?
            .local_addr()?;
        assert!(probe(closed, &HealthCheck::Tcp, t).await.is_err());
        Ok(())
    }
}

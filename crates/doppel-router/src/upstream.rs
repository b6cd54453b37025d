//! Connections to upstreams (dynos over TCP, the platform over its Unix socket): HTTP/1.1 with
//! a keep-alive pool per upstream, kept with the upstream itself (no shared map, no hashing on
//! the request path). A pooled connection the upstream closed meanwhile is detected before use,
//! and a request that was not yet written when its connection failed is sent on another.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use crate::clock::now_ms;
use crate::request_body::AttemptBody;
use crate::table::Upstream;

/// Largest number of idle connections kept to one upstream.
const MAX_IDLE: usize = 1024;

/// Idle keep-alive connections to one upstream, most recently used last.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<Vec<Idle>>,
}

struct Idle {
    sender: SendRequest<AttemptBody>,
    since_ms: u64,
}

impl Pool {
    /// The most recently used connection that is still open and younger than `max_idle`.
    fn take(&self, max_idle: Duration) -> Option<SendRequest<AttemptBody>> {
        let oldest = now_ms().saturating_sub(duration_ms(max_idle));
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(conn) = idle.pop() {
            if !conn.sender.is_closed() && conn.since_ms >= oldest {
                return Some(conn.sender);
            }
        }
        None
    }

    /// Puts a connection whose last response was read to the end back for the next request.
    pub(crate) fn put(&self, sender: SendRequest<AttemptBody>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                sender,
                since_ms: now_ms(),
            });
        }
    }

    /// Closes connections idle for longer than `max_idle` (or closed by the upstream).
    pub(crate) fn evict(&self, max_idle: Duration) {
        let oldest = now_ms().saturating_sub(duration_ms(max_idle));
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| !c.sender.is_closed() && c.since_ms >= oldest);
    }

    pub(crate) fn clear(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A connection in use; give it back with [`Lease::release`] once the response body ended.
pub(crate) struct Lease {
    sender: SendRequest<AttemptBody>,
    pool: Arc<Pool>,
}

impl Lease {
    pub(crate) fn release(self) {
        self.pool.put(self.sender);
    }
}

/// Why a request got no response.
pub(crate) enum SendError {
    /// No connection could be made (nothing written): another dyno may be tried, with the
    /// request given back (its headers, so a retry need not copy them beforehand).
    Connect(io::Error, Box<Request<AttemptBody>>),
    /// The connection failed after the request was (partly) written.
    Failed(hyper::Error),
}

impl std::fmt::Debug for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Connect(e, _) => f.debug_tuple("Connect").field(e).finish(),
            SendError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
        }
    }
}

/// A response, the connection it came on, and how long a new connection took (0 if reused).
pub(crate) struct Sent {
    pub response: Response<Incoming>,
    pub lease: Lease,
    pub connect_ms: u64,
}

/// Sends `req` to `upstream`, on a pooled connection when one is open. `connected` gets the
/// connect time as soon as there is a connection (0 for a pooled one), so that a caller whose
/// timeout ends this future still knows it (router lines' `connect=` on H12 and H13).
pub(crate) async fn send(
    pool: &Arc<Pool>,
    upstream: &Upstream,
    mut req: Request<AttemptBody>,
    (connect_timeout, max_idle): (Duration, Duration),
    connected: &mut Option<u64>,
) -> Result<Sent, SendError> {
    while let Some(mut sender) = pool.take(max_idle) {
        if sender.ready().await.is_err() {
            continue;
        }
        *connected = Some(0);
        match sender.try_send_request(req).await {
            Ok(response) => return Ok(sent(response, sender, pool, 0)),
            Err(mut e) => match e.take_message() {
                // Closed by the upstream before our request went out: try the next one.
                Some(unsent) => req = unsent,
                None => return Err(SendError::Failed(e.into_error())),
            },
        }
    }
    let start = Instant::now();
    let mut sender = match tokio::time::timeout(connect_timeout, connect(upstream)).await {
        Ok(Ok(sender)) => sender,
        Ok(Err(e)) => return Err(SendError::Connect(e, Box::new(req))),
        Err(_) => {
            let e = io::Error::from(io::ErrorKind::TimedOut);
            return Err(SendError::Connect(e, Box::new(req)));
        }
    };
    let connect_ms = duration_ms(start.elapsed());
    *connected = Some(connect_ms.max(1));
    match sender.try_send_request(req).await {
        Ok(response) => Ok(sent(response, sender, pool, connect_ms.max(1))),
        Err(e) => Err(SendError::Failed(e.into_error())),
    }
}

fn sent(
    response: Response<Incoming>,
    sender: SendRequest<AttemptBody>,
    pool: &Arc<Pool>,
    connect_ms: u64,
) -> Sent {
    Sent {
        response,
        lease: Lease {
            sender,
            pool: pool.clone(),
        },
        connect_ms,
    }
}

async fn connect(upstream: &Upstream) -> io::Result<SendRequest<AttemptBody>> {
    match upstream {
        Upstream::Tcp(addr) => {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            handshake(stream).await
        }
        Upstream::Unix(path) => handshake(UnixStream::connect(path).await?).await,
    }
}

async fn handshake<I>(io: I) -> io::Result<SendRequest<AttemptBody>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::Builder::new()
        .handshake(TokioIo::new(io))
        .await
        .map_err(io::Error::other)?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}

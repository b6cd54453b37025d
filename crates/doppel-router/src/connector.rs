//! The upstream connector of the pooled client: TCP to dynos (`HttpConnector`), and the
//! platform's listener (a Unix socket or TCP address from the current table) behind the
//! reserved authority [`PLATFORM_AUTHORITY`]. It records how long each new connection took,
//! so the router log can report `connect=` for the request that opened it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UnixStream};
use tower::Service;

use crate::compiled::Live;
use crate::table::Upstream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The authority of requests to the platform; never a real host (`.invalid`, RFC 6761).
pub(crate) const PLATFORM_AUTHORITY: &str = "doppel-platform.invalid";

/// Connect duration of a pooled connection; only the first request on it reports it.
#[derive(Clone, Debug)]
pub(crate) struct ConnectTiming {
    ms: u64,
    reported: Arc<AtomicBool>,
}

impl ConnectTiming {
    /// The connect time for the first request on this connection, 0 for reused connections.
    pub(crate) fn take(&self) -> u64 {
        if self.reported.swap(true, Ordering::Relaxed) {
            0
        } else {
            self.ms
        }
    }
}

/// The platform has not published where it listens yet.
#[derive(Debug, thiserror::Error)]
#[error("the platform's address is not known yet")]
pub(crate) struct NoPlatform;

/// TCP to dynos, the table's platform upstream for [`PLATFORM_AUTHORITY`]; with connect timing.
#[derive(Clone)]
pub(crate) struct UpstreamConnector {
    tcp: HttpConnector,
    live: Arc<Live>,
    connect_timeout: Duration,
}

impl UpstreamConnector {
    pub(crate) fn new(live: Arc<Live>, connect_timeout: Duration) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        tcp.enforce_http(true);
        Self {
            tcp,
            live,
            connect_timeout,
        }
    }
}

impl Service<Uri> for UpstreamConnector {
    type Response = UpstreamStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<UpstreamStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let start = Instant::now();
        let timing = move || ConnectTiming {
            ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            reported: Arc::new(AtomicBool::new(false)),
        };
        if uri.host() == Some(PLATFORM_AUTHORITY) {
            let platform = self.live.load().platform.clone();
            let timeout = self.connect_timeout;
            return Box::pin(async move {
                let io = match platform {
                    None => return Err(Box::new(NoPlatform) as BoxError),
                    Some(Upstream::Unix(path)) => {
                        let s = tokio::time::timeout(timeout, UnixStream::connect(path))
                            .await
                            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
                        Io::Unix(TokioIo::new(s))
                    }
                    Some(Upstream::Tcp(addr)) => {
                        let s = tokio::time::timeout(timeout, TcpStream::connect(addr))
                            .await
                            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
                        s.set_nodelay(true)?;
                        Io::Tcp(TokioIo::new(s))
                    }
                };
                Ok(UpstreamStream {
                    io,
                    timing: timing(),
                })
            });
        }
        let fut = self.tcp.call(uri);
        Box::pin(async move {
            let io = fut.await?;
            Ok(UpstreamStream {
                io: Io::Tcp(io),
                timing: timing(),
            })
        })
    }
}

enum Io {
    Tcp(TokioIo<TcpStream>),
    Unix(TokioIo<UnixStream>),
}

/// A connection to an upstream, carrying its [`ConnectTiming`] into every response's extensions.
pub(crate) struct UpstreamStream {
    io: Io,
    timing: ConnectTiming,
}

impl Connection for UpstreamStream {
    fn connected(&self) -> Connected {
        let c = match &self.io {
            Io::Tcp(s) => s.connected(),
            Io::Unix(_) => Connected::new(),
        };
        c.extra(self.timing.clone())
    }
}

impl Read for UpstreamStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Io::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl Write for UpstreamStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.io {
            Io::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Io::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Tcp(s) => Pin::new(s).poll_flush(cx),
            Io::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Io::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Tcp(s) => s.is_write_vectored(),
            Io::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.io {
            Io::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }
}

//! The upstream connector: plain TCP (`HttpConnector`) that records how long each new connection
//! took, so the router log can report `connect=` for the request that opened it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connect duration of a pooled connection; only the first request on it reports it.
#[derive(Clone, Debug)]
pub(crate) struct ConnectTiming {
    ms: u128,
    reported: Arc<AtomicBool>,
}

impl ConnectTiming {
    /// The connect time for the first request on this connection, 0 for reused connections.
    pub(crate) fn take(&self) -> u128 {
        if self.reported.swap(true, Ordering::Relaxed) {
            0
        } else {
            self.ms
        }
    }
}

/// `HttpConnector` + connect timing.
#[derive(Clone)]
pub(crate) struct TimedConnector {
    inner: HttpConnector,
}

impl TimedConnector {
    pub(crate) fn new(inner: HttpConnector) -> Self {
        Self { inner }
    }
}

impl Service<Uri> for TimedConnector {
    type Response = TimedStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TimedStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let start = Instant::now();
        let fut = self.inner.call(uri);
        Box::pin(async move {
            let io = fut.await?;
            Ok(TimedStream {
                io,
                timing: ConnectTiming {
                    ms: start.elapsed().as_millis(),
                    reported: Arc::new(AtomicBool::new(false)),
                },
            })
        })
    }
}

/// A TCP connection to a dyno, carrying its [`ConnectTiming`] into every response's extensions.
pub(crate) struct TimedStream {
    io: TokioIo<TcpStream>,
    timing: ConnectTiming,
}

impl Connection for TimedStream {
    fn connected(&self) -> Connected {
        self.io.connected().extra(self.timing.clone())
    }
}

impl Read for TimedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for TimedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

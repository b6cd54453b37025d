//! The response body the router sends: a dyno's, streamed with the 55 s idle rule (reset by
//! any byte either way), counting bytes and emitting the router log line when it ends; or the
//! router's own page.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::Sleep;

use crate::balance::InflightGuard;
use crate::clock::now_ms;
use crate::log::{LogSink, RouterLog};
use crate::request_body::{BoxError, Exchange};
use crate::upstream::Lease;

/// The response body the router sends: one of its own pages, or a dyno's.
pub(crate) enum RespBody {
    Full(Option<Bytes>),
    Upstream(Box<LoggedBody>),
}

impl RespBody {
    pub(crate) fn full(b: impl Into<Bytes>) -> RespBody {
        RespBody::Full(Some(b.into()))
    }
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            RespBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            RespBody::Upstream(b) => Pin::new(&mut **b).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RespBody::Full(b) => b.is_none(),
            RespBody::Upstream(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            RespBody::Upstream(b) => b.size_hint(),
        }
    }
}

/// The dyno stopped sending for longer than the idle timeout (H15).
#[derive(Debug, thiserror::Error)]
#[error("idle connection: no data for {0:?}")]
pub(crate) struct IdleTimeout(pub Duration);

/// A dyno's response body, streamed to the client: counts bytes, applies the rolling idle
/// timeout (reset by any byte either way), and emits the router log line when it ends.
pub(crate) struct LoggedBody {
    inner: Incoming,
    log: RouterLog,
    sink: Arc<dyn LogSink>,
    exchange: Arc<Exchange>,
    idle_limit: Duration,
    idle_timer: Option<Pin<Box<Sleep>>>,
    _inflight: Option<InflightGuard>,
    /// The upstream connection, pooled again once the body was read to its end.
    lease: Option<Lease>,
}

impl LoggedBody {
    pub(crate) fn new(
        inner: Incoming,
        log: RouterLog,
        sink: Arc<dyn LogSink>,
        exchange: Arc<Exchange>,
        idle_limit: Duration,
        inflight: Option<InflightGuard>,
        lease: Option<Lease>,
    ) -> Self {
        Self {
            inner,
            log,
            sink,
            exchange,
            idle_limit,
            idle_timer: None,
            _inflight: inflight,
            lease,
        }
    }

    /// The response was read to its end: its connection can serve the next request.
    fn release(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release();
        }
    }

    /// Polls the idle timer; true when the exchange has been idle for the whole limit.
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let limit_ms = u64::try_from(self.idle_limit.as_millis()).unwrap_or(u64::MAX);
        loop {
            let last = self.exchange.last_activity_ms();
            let now = now_ms();
            let due = last.saturating_add(limit_ms);
            if now >= due {
                return true;
            }
            let deadline = tokio::time::Instant::now() + Duration::from_millis(due - now);
            let timer = self
                .idle_timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
            timer.as_mut().reset(deadline);
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.log.bytes += data.len() as u64;
                }
                this.exchange.touch();
                if this.inner.is_end_stream() {
                    this.release();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.log.error = Some(("H18", "Server Request Interrupted"));
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.release();
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.idle_expired(cx) {
                    this.log.error = Some(("H15", "Idle connection"));
                    this.log.status = 503;
                    return Poll::Ready(Some(Err(Box::new(IdleTimeout(this.idle_limit)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        if self.inner.is_end_stream() {
            self.release();
        }
        self.log.emit(self.sink.as_ref());
    }
}

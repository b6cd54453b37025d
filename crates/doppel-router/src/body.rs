//! Body wrappers: the client's request body (size limit, activity for the idle timer, and a slot
//! that survives failed connection attempts), and the response body (the dyno's, streamed with
//! the 55 s idle rule, counting bytes and emitting the router log line when it ends; or the
//! router's own page).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::Sleep;

use crate::balance::{now_ms, InflightGuard};
use crate::log::{LogSink, RouterLog};
use crate::upstream::Lease;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What one proxied request shares between its request body, its attempts and its response
/// body: the client's body (taken by the attempt that sends it) and the time of the last byte
/// in either direction.
pub(crate) struct Exchange {
    body: Mutex<Option<LimitedBody>>,
    last_activity_ms: AtomicU64,
}

impl Exchange {
    pub(crate) fn new(body: Incoming, max_bytes: u64) -> Arc<Exchange> {
        Arc::new(Exchange {
            body: Mutex::new(Some(LimitedBody {
                inner: body,
                seen: 0,
                max: max_bytes,
            })),
            last_activity_ms: AtomicU64::new(now_ms()),
        })
    }

    fn touch(&self) {
        self.last_activity_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// True once an attempt started sending the body (it cannot be sent again).
    pub(crate) fn body_taken(&self) -> bool {
        self.body
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// A body for one attempt; it takes the client's body out of the slot on first poll.
    pub(crate) fn attempt(self: &Arc<Self>) -> AttemptBody {
        AttemptBody {
            exchange: self.clone(),
            body: None,
        }
    }
}

/// The client's body with a size limit.
struct LimitedBody {
    inner: Incoming,
    seen: u64,
    max: u64,
}

/// The request body is larger than the router's limit.
#[derive(Debug, thiserror::Error)]
#[error("request body larger than {0} bytes")]
pub(crate) struct BodyTooLarge(pub u64);

/// One attempt's view of an [`Exchange`]'s request body.
pub(crate) struct AttemptBody {
    exchange: Arc<Exchange>,
    body: Option<LimitedBody>,
}

impl Body for AttemptBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.body.is_none() {
            let taken = self
                .exchange
                .body
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            match taken {
                Some(b) => self.body = Some(b),
                None => return Poll::Ready(None),
            }
        }
        let this = &mut *self;
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(&mut body.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    body.seen += data.len() as u64;
                    if body.seen > body.max {
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge(body.max)))));
                    }
                }
                this.exchange.touch();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.body {
            Some(b) => b.inner.is_end_stream(),
            None => self
                .exchange
                .body
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_none_or(|b| b.inner.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.body {
            Some(b) => b.inner.size_hint(),
            None => self
                .exchange
                .body
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map_or_else(|| SizeHint::with_exact(0), |b| b.inner.size_hint()),
        }
    }
}

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
            let last = self.exchange.last_activity_ms.load(Ordering::Relaxed);
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

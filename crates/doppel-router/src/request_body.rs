//! The client's request body as the router sends it upstream: the size limit, activity for
//! the idle timer, and a slot that survives failed connection attempts (a body not yet sent
//! goes to the next dyno).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use crate::clock::now_ms;

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

    /// Notes a byte in either direction (the idle timer starts again).
    #[inline]
    pub(crate) fn touch(&self) {
        self.last_activity_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// When the last byte went either way (router clock, ms).
    #[inline]
    pub(crate) fn last_activity_ms(&self) -> u64 {
        self.last_activity_ms.load(Ordering::Relaxed)
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
        self.with_body(|b| b.is_none_or(|b| b.inner.is_end_stream()))
    }

    fn size_hint(&self) -> SizeHint {
        self.with_body(|b| b.map_or_else(|| SizeHint::with_exact(0), |b| b.inner.size_hint()))
    }
}

impl AttemptBody {
    /// Calls `f` with the body this attempt reads: its own once taken, else the one still
    /// waiting in the exchange (`None` when another attempt took it or it was read).
    fn with_body<R>(&self, f: impl FnOnce(Option<&LimitedBody>) -> R) -> R {
        match &self.body {
            Some(b) => f(Some(b)),
            None => f(self
                .exchange
                .body
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()),
        }
    }
}

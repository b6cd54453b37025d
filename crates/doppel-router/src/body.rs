//! Body wrappers: a request body that survives failed connection attempts, and a response body
//! that counts bytes and emits the router log line when it ends.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use crate::log::RouterLog;

/// The client's request body, shared between connection attempts.
///
/// The upstream client polls a request body only once a connection is established, so after a
/// connect error the body is still in the slot and the next backend can be tried with it.
#[derive(Clone)]
pub(crate) struct BodySlot(Arc<Mutex<Option<Incoming>>>);

impl BodySlot {
    pub(crate) fn new(body: Incoming) -> Self {
        Self(Arc::new(Mutex::new(Some(body))))
    }

    /// True once an attempt started sending the body.
    pub(crate) fn taken(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_none()
    }

    /// A body for one attempt; it takes the real body out of the slot on first poll.
    pub(crate) fn attempt(&self) -> ReplayableBody {
        ReplayableBody {
            slot: self.clone(),
            body: None,
        }
    }
}

/// One attempt's view of a [`BodySlot`].
pub(crate) struct ReplayableBody {
    slot: BodySlot,
    body: Option<Incoming>,
}

impl Body for ReplayableBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if self.body.is_none() {
            let taken = self.slot.0.lock().unwrap_or_else(|e| e.into_inner()).take();
            match taken {
                Some(b) => self.body = Some(b),
                None => return Poll::Ready(None),
            }
        }
        match self.body.as_mut() {
            Some(b) => Pin::new(b).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.body {
            Some(b) => b.is_end_stream(),
            None => self
                .slot
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .is_none_or(|b| b.is_end_stream()),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.body {
            Some(b) => b.size_hint(),
            None => self
                .slot
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint()),
        }
    }
}

/// The dyno's response body, streamed to the client; logs the router line when dropped, and
/// holds the request's in-flight mark on its dyno until then.
pub(crate) struct LoggedBody {
    inner: Incoming,
    log: RouterLog,
    env: String,
    observer: crate::Observer,
    _in_flight: Option<crate::observe::InFlight>,
}

impl LoggedBody {
    pub(crate) fn new(
        inner: Incoming,
        log: RouterLog,
        env: String,
        observer: crate::Observer,
        in_flight: Option<crate::observe::InFlight>,
    ) -> Self {
        Self {
            inner,
            log,
            env,
            observer,
            _in_flight: in_flight,
        }
    }

    pub(crate) fn into_axum(self) -> axum::body::Body {
        axum::body::Body::new(self.map_err(axum::Error::new))
    }
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.log.bytes += data.len() as u64;
            }
        }
        polled
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
        self.log.emit(&self.env, &self.observer);
    }
}

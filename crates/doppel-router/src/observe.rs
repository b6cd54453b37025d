//! The router's side of [`doppel_types::RouterObserver`]: an optional observer, and a guard
//! that marks one request to one dyno as in flight until it is dropped.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use doppel_types::RouterObserver;

/// The observer the router reports to, if any (cheap to clone).
#[derive(Clone, Default)]
pub struct Observer(Option<Arc<dyn RouterObserver>>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(Some)"
        } else {
            "Observer(None)"
        })
    }
}

impl Observer {
    /// Reports to `observer`.
    pub fn new(observer: Arc<dyn RouterObserver>) -> Observer {
        Observer(Some(observer))
    }

    /// One request to `backend` starts; it ends when the guard is dropped.
    pub(crate) fn acquire(&self, backend: SocketAddr) -> InFlight {
        if let Some(o) = &self.0 {
            o.backend_acquired(backend);
        }
        InFlight {
            observer: self.0.clone(),
            backend,
        }
    }

    /// Hands a router log line of `env` to the observer.
    pub(crate) fn line(&self, env: &str, line: &str) {
        if let Some(o) = &self.0 {
            o.router_line(env, line);
        }
    }
}

/// One request in flight to one backend.
pub(crate) struct InFlight {
    observer: Option<Arc<dyn RouterObserver>>,
    backend: SocketAddr,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(o) = &self.observer {
            o.backend_released(self.backend);
        }
    }
}

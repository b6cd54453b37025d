//! The control plane's [`RouterObserver`]: it counts the requests in flight to each dyno (an
//! old dyno is sent SIGTERM only once they are done) and puts the router's lines into the
//! environment's log stream as `heroku[router]`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use doppel_types::RouterObserver;

use super::{LogHub, LogLine, SOURCE_HEROKU};

/// In-flight counts and the log hub the router's lines go to.
pub struct RouterFeed {
    hub: Arc<LogHub>,
    in_flight: Mutex<HashMap<SocketAddr, usize>>,
}

impl RouterFeed {
    pub fn new(hub: Arc<LogHub>) -> RouterFeed {
        RouterFeed {
            hub,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Requests the router is proxying to `backend` right now.
    pub fn in_flight(&self, backend: SocketAddr) -> usize {
        self.lock().get(&backend).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, usize>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RouterObserver for RouterFeed {
    fn backend_acquired(&self, backend: SocketAddr) {
        *self.lock().entry(backend).or_default() += 1;
    }

    fn backend_released(&self, backend: SocketAddr) {
        let mut map = self.lock();
        if let Some(n) = map.get_mut(&backend) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&backend);
            }
        }
    }

    fn router_line(&self, env: &str, line: &str) {
        if let Some(id) = self.hub.env_id(env) {
            self.hub
                .push(&id, LogLine::now(SOURCE_HEROKU, "router", line.to_string()));
        }
    }
}

//! The control plane's [`LogSink`] for the router: each router line (read from the router
//! process's log stream by `router_link`) goes into its environment's log stream as
//! `heroku[router]`, stamped with the time the request arrived. Requests in flight per dyno
//! are counted by the router itself; `router_link::wait_drained` asks it.

use std::sync::Arc;

use doppel_router::{LogSink, RouterLine};
use time::OffsetDateTime;

use super::{LogHub, LogLine, SOURCE_HEROKU};

/// Puts router lines into the environments' log streams.
pub struct RouterFeed {
    hub: Arc<LogHub>,
}

impl RouterFeed {
    pub fn new(hub: Arc<LogHub>) -> RouterFeed {
        RouterFeed { hub }
    }
}

impl LogSink for RouterFeed {
    fn router_line(&self, line: RouterLine) {
        let Some(id) = self.hub.env_id(&line.env) else {
            return;
        };
        let mut entry = LogLine::now(SOURCE_HEROKU, "router", line.line);
        if let Ok(at) =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(line.at_ms) * 1_000_000)
        {
            entry.time = at;
        }
        self.hub.push(&id, entry);
    }
}

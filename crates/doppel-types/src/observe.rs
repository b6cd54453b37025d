//! The seam between the router and the control plane: what the router tells about the
//! requests it proxies. The router calls it (it cannot call the control plane itself); the
//! control plane implements it to count in-flight requests per dyno (so an old dyno is
//! stopped only once its requests are done) and to put the router's log lines into the
//! environment's log stream. When the router runs as its own process, an implementation
//! forwards the same calls over its socket.

use std::net::SocketAddr;

/// What the router reports. Every method is called on the request path: it must return at
/// once (no I/O, no waiting on locks held across I/O).
pub trait RouterObserver: Send + Sync {
    /// A request is about to be sent to `backend` (a web dyno). Each call is matched by
    /// exactly one [`RouterObserver::backend_released`] for the same backend.
    fn backend_acquired(&self, backend: SocketAddr);
    /// That request is over: the response body ended or was dropped, or the attempt failed.
    fn backend_released(&self, backend: SocketAddr);
    /// One router log line of the environment called `env`, in Heroku's format without time
    /// and prefix (`at=info method=GET path="/" host=… status=200 …`).
    fn router_line(&self, env: &str, line: &str);
}

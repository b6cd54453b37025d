//! doppel-router: the TLS edge. Terminates TLS (certificates by SNI: custom domains' uploaded
//! or ACME certificates from the table, the platform CA's for the platform's own names),
//! dispatches on the Host header, and reverse-proxies environments' hosts to their web dynos and
//! the platform host (API, git) to the control plane's listener, from a route table the control
//! plane publishes whole.
//!
//! It never calls the database or the control plane on a request, and it runs as its own
//! process (`doppel router`, see [`process`]): it keeps serving the last table it was given
//! while the control plane is down, restores it from its state file after its own restart, and
//! hands its sockets to a new process for zero-downtime upgrades.
//!
//! # Layout
//! - `table`: the published [`RouteTable`] (wire format of the control socket and state file).
//! - `compiled`: the table in serving form (one `ArcSwap`), backends' in-flight counters.
//! - `server`: listeners, TLS/ALPN, HTTP/1.1 and h2 serving, connection limits, draining.
//! - `dispatch` → `proxy`: Host dispatch, checks before any dyno (`checks`: allow-list,
//!   staging auth, maintenance, limits), balancing (`balance`), retries, timeouts and H-code
//!   pages (`pages`), headers (`headers`), bodies (`body`), upstream connections and their
//!   keep-alive pools (`upstream`), WebSocket tunnels (`tunnel`), router log lines (`log`).
//! - `resolver`, `ca`, `certs`: certificates by SNI; `redirect`: the plain-HTTP listener.
//! - `control`: the control socket (server and [`ControlClient`]); `handover`: socket passing;
//!   `process`: `doppel router` itself.

mod affinity;
mod auth;
mod balance;
mod body;
mod ca;
pub mod certs;
mod checks;
mod clock;
mod compiled;
mod conn;
pub mod control;
mod dispatch;
mod error;
mod handover;
mod headers;
mod limits;
mod log;
mod pages;
mod paths;
pub mod process;
mod proxy;
mod redirect;
mod request_body;
mod resolver;
mod server;
mod table;
mod tunnel;
mod upstream;

pub use ca::PlatformCa;
pub use control::{ControlClient, ControlError, RouterStatus};
pub use error::RouterError;
pub use log::{LogSink, NoSink, RouterLine, TracingSink};
pub use server::{platform_tls_acceptor, serve, Router, RouterConfig, RouterOptions};
pub use table::{
    Backend, Certificate, Challenges, CustomPages, Route, RouteStatus, RouteTable,
    SharedRouteTable, Upstream,
};

/// Installs rustls' `ring` provider as the process-wide default crypto provider.
///
/// Idempotent: a second call (or a provider installed earlier by someone else) is fine.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

//! doppel-router: the TLS front door. Terminates TLS with certificates issued by the platform CA,
//! dispatches on the Host header, serves the platform's axum router, and reverse-proxies
//! environments' hosts to their dynos from a route table the control plane publishes whole.
//!
//! It never calls the database or the control plane on a request.
//!
//! Wiring (in the server's startup):
//!
//! ```no_run
//! # async fn run(data_dir: &std::path::Path, platform: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use doppel_router::{PlatformCa, RouteTable, RouterConfig};
//!
//! doppel_router::install_crypto_provider();
//! let ca = Arc::new(PlatformCa::load_or_create(data_dir, "localhost")?);
//! let table = RouteTable::new().into_shared(); // keep a clone; publish with `table.store(Arc::new(new_table))`
//! let cfg = RouterConfig {
//!     domain: "localhost".into(),
//!     https: tokio::net::TcpListener::bind("0.0.0.0:443").await?,
//!     http: Some(tokio::net::TcpListener::bind("0.0.0.0:80").await?),
//!     https_port: 443,
//!     ca,
//! };
//! let shutdown = async { let _ = tokio::signal::ctrl_c().await; };
//! doppel_router::serve(cfg, platform, table.clone(), shutdown).await?;
//! # Ok(()) }
//! ```

mod auth;
mod body;
mod ca;
mod connector;
mod dispatch;
mod error;
mod headers;
mod log;
mod observe;
mod pages;
mod proxy;
mod redirect;
mod resolver;
mod server;
mod table;

pub use ca::PlatformCa;
pub use error::RouterError;
pub use observe::Observer;
pub use server::{serve, serve_with_options, tls_acceptor, RouterConfig, RouterOptions};
pub use table::{Route, RouteTable, SharedRouteTable};

/// Installs rustls' `ring` provider as the process-wide default crypto provider.
///
/// Idempotent: a second call (or a provider installed earlier by someone else) is fine.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

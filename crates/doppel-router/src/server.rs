//! Listeners: TLS (HTTP/1.1 + h2 via ALPN) and plain HTTP, connection serving, graceful drain.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::ca::PlatformCa;
use crate::dispatch::{ConnInfo, Dispatcher};
use crate::error::RouterError;
use crate::proxy::{Proxy, ProxySettings};
use crate::resolver::SniResolver;
use crate::table::SharedRouteTable;

/// What the router listens on and serves as.
pub struct RouterConfig {
    /// The platform domain (e.g. `localhost`): the platform host and the parent of every
    /// environment's host.
    pub domain: String,
    /// The HTTPS listener.
    pub https: TcpListener,
    /// An optional plain-HTTP listener: it only redirects to HTTPS.
    pub http: Option<TcpListener>,
    /// The HTTPS port clients reach (plain-HTTP redirects point there).
    pub https_port: u16,
    /// The CA that issues the per-host certificates.
    pub ca: Arc<PlatformCa>,
}

/// Timeouts and limits; `Default` is Heroku's values.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    /// TCP connect to a dyno (Heroku: 5 s).
    pub connect_timeout: Duration,
    /// From sending the request to the dyno's first response byte (Heroku: 30 s, H12).
    pub first_byte_timeout: Duration,
    /// How long in-flight requests may finish after `shutdown` resolves.
    pub drain_timeout: Duration,
    /// TLS handshake deadline per connection.
    pub tls_handshake_timeout: Duration,
    /// Deadline for a client to send a complete HTTP/1 request head.
    pub header_read_timeout: Duration,
    /// Idle keep-alive connections to dynos are closed after this.
    pub pool_idle_timeout: Duration,
    /// Told of every request to a dyno and every router log line (none by default).
    pub observer: crate::Observer,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(60),
            observer: crate::Observer::default(),
        }
    }
}

/// Largest HTTP/1 request head buffered (request line + headers); beyond it hyper answers 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Heroku allows up to 1000 request headers.
const MAX_HEADERS: usize = 1000;

/// Serves HTTPS (HTTP/1.1 + h2 via ALPN) until `shutdown` resolves, then stops accepting and
/// drains in-flight requests for up to 10 s. The plain-HTTP listener only redirects to HTTPS.
///
/// Host dispatch (`Host` or `:authority`, port stripped, lowercase): the domain itself, an IP
/// literal or no host → `platform`; a host in `table` → proxied to its dynos; anything else →
/// 404 "No such app". Table updates apply to the next request.
pub async fn serve(
    cfg: RouterConfig,
    platform: axum::Router,
    table: SharedRouteTable,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RouterError> {
    serve_with_options(cfg, platform, table, shutdown, RouterOptions::default()).await
}

/// [`serve`] with explicit timeouts.
pub async fn serve_with_options(
    cfg: RouterConfig,
    platform: axum::Router,
    table: SharedRouteTable,
    shutdown: impl Future<Output = ()> + Send + 'static,
    opts: RouterOptions,
) -> Result<(), RouterError> {
    crate::install_crypto_provider();
    let https_local = cfg.https.local_addr().map_err(RouterError::Listener)?;
    let acceptor = tls_acceptor(cfg.ca.clone(), &cfg.domain, https_local.ip())?;
    let proxy = Proxy::new(&ProxySettings {
        connect_timeout: opts.connect_timeout,
        first_byte_timeout: opts.first_byte_timeout,
        pool_idle_timeout: opts.pool_idle_timeout,
        observer: opts.observer.clone(),
    });
    let dispatcher = Arc::new(Dispatcher::new(
        &cfg.domain,
        cfg.https_port,
        platform,
        table,
        proxy,
    ));
    let builder = Arc::new(connection_builder(&opts));
    let graceful = GracefulShutdown::new();
    let http_local = match &cfg.http {
        Some(l) => Some(l.local_addr().map_err(RouterError::Listener)?),
        None => None,
    };
    tracing::info!(https = %https_local, http = ?http_local, domain = %cfg.domain, "router listening");

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = cfg.https.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let conn = ConnInfo { peer, local: https_local, tls: true };
                    let (acceptor, builder, dispatcher, watcher) =
                        (acceptor.clone(), builder.clone(), dispatcher.clone(), graceful.watcher());
                    let handshake = opts.tls_handshake_timeout;
                    tokio::spawn(async move {
                        match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
                            Ok(Ok(tls)) => serve_connection(tls, conn, builder, dispatcher, watcher).await,
                            Ok(Err(e)) => tracing::debug!(peer = %conn.peer, error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!(peer = %conn.peer, "TLS handshake timed out"),
                        }
                    });
                }
                Err(e) => accept_failed(e).await,
            },
            accepted = accept_optional(cfg.http.as_ref()) => match accepted {
                Ok((tcp, peer)) => {
                    let local = http_local.unwrap_or(https_local);
                    let conn = ConnInfo { peer, local, tls: false };
                    tokio::spawn(serve_connection(tcp, conn, builder.clone(), dispatcher.clone(), graceful.watcher()));
                }
                Err(e) => accept_failed(e).await,
            },
        }
    }
    drop(cfg.https);
    drop(cfg.http);
    tracing::info!("router draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("router stopped"),
        () = tokio::time::sleep(opts.drain_timeout) => {
            tracing::warn!(timeout = ?opts.drain_timeout, "router drain deadline passed; closing remaining connections");
        }
    }
    Ok(())
}

/// A TLS acceptor with the platform CA's certificates (per SNI name, with `listener_ip` as a
/// name too), as the router's HTTPS listener uses; other TLS listeners (one-off dynos'
/// rendezvous) use it as well.
pub fn tls_acceptor(
    ca: Arc<PlatformCa>,
    domain: &str,
    listener_ip: std::net::IpAddr,
) -> Result<TlsAcceptor, RouterError> {
    let resolver = SniResolver::new(ca, domain, &[listener_ip])?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn connection_builder(opts: &RouterOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    builder
}

async fn accept_optional(
    listener: Option<&TcpListener>,
) -> std::io::Result<(TcpStream, std::net::SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Accept errors (e.g. too many open files) are transient: log and back off briefly.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn serve_connection<I>(
    io: I,
    conn: ConnInfo,
    builder: Arc<auto::Builder<TokioExecutor>>,
    dispatcher: Arc<Dispatcher>,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let peer = conn.peer;
    let service = service_fn(move |req: hyper::Request<Incoming>| {
        let dispatcher = dispatcher.clone();
        let conn = conn.clone();
        async move { dispatcher.handle(req, &conn).await }
    });
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(io), service)
        .into_owned();
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
    }
}

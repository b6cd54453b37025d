//! The serving engine: listeners (TLS with HTTP/1.1 and h2 by ALPN, plain HTTP that only
//! redirects), connection limits, per-connection serving, and draining (stop or hand-over).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::{service_fn, Service};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;

use crate::body::RespBody;
use crate::ca::PlatformCa;
use crate::compiled::Live;
use crate::conn::ConnInfo;
use crate::dispatch::Dispatcher;
use crate::error::RouterError;
use crate::limits::{ConnLimits, ConnSlot};
use crate::log::LogSink;
use crate::proxy::{Proxy, ProxySettings};
use crate::resolver::{SniResolver, ACME_TLS_ALPN};
use crate::table::{RouteTable, SharedRouteTable};
use crate::tunnel::{Activity, IdleIo};

/// One request's answer, boxed (see [`Router::service`]).
type Answer = Pin<Box<dyn Future<Output = Result<hyper::Response<RespBody>, Infallible>> + Send>>;

/// Listeners and identity of an in-process router (see [`serve`]).
pub struct RouterConfig {
    /// The platform domain (e.g. `localhost`): the platform host and the parent of every
    /// environment's host.
    pub domain: String,
    /// The HTTPS listener.
    pub https: TcpListener,
    /// An optional plain-HTTP listener: it only redirects to HTTPS (and answers ACME HTTP-01).
    pub http: Option<TcpListener>,
    /// The HTTPS port clients reach (plain-HTTP redirects point there).
    pub https_port: u16,
    /// The CA that issues the per-host certificates.
    pub ca: Arc<PlatformCa>,
}

/// Timeouts and limits; `Default` is Heroku's values where Heroku has one.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    /// TCP connect to a dyno (Heroku: 5 s).
    pub connect_timeout: Duration,
    /// From sending the request to the dyno's first response byte (Heroku: 30 s, H12).
    pub first_byte_timeout: Duration,
    /// Rolling idle timeout once the response started (Heroku: 55 s, H15).
    pub idle_timeout: Duration,
    /// How long requests wait for a booting environment's dynos (Heroku: 75 s, H20).
    pub boot_timeout: Duration,
    /// How long in-flight requests and upgraded connections may finish after a stop or a
    /// hand-over.
    pub drain_timeout: Duration,
    /// TLS handshake deadline per connection.
    pub tls_handshake_timeout: Duration,
    /// Deadline for a client to send a complete HTTP/1 request head; also closes idle
    /// keep-alive connections.
    pub header_read_timeout: Duration,
    /// An HTTP/2 connection with no byte either way for this long is closed (GOAWAY).
    pub h2_idle_timeout: Duration,
    /// A WebSocket (any upgraded connection) with no byte either way for this long is closed.
    pub websocket_idle_timeout: Duration,
    /// Idle keep-alive connections to dynos are closed after this.
    pub pool_idle_timeout: Duration,
    /// Largest request body passed to a dyno (413 beyond).
    pub max_body_bytes: u64,
    /// Open connections one client address may have.
    pub max_conns_per_client: usize,
    /// Open client connections in all.
    pub max_conns: usize,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(55),
            boot_timeout: Duration::from_secs(75),
            drain_timeout: Duration::from_secs(60),
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            h2_idle_timeout: Duration::from_secs(75),
            websocket_idle_timeout: Duration::from_secs(55),
            pool_idle_timeout: Duration::from_secs(55),
            max_body_bytes: 1 << 30,
            max_conns_per_client: 1024,
            max_conns: 50_000,
        }
    }
}

/// Largest HTTP/1 request head (request line + headers); beyond it the client gets 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The router: one per process, serving whatever table was applied last.
pub struct Router {
    dispatcher: Arc<Dispatcher>,
    acceptor: TlsAcceptor,
    opts: RouterOptions,
    limits: Arc<ConnLimits>,
    /// Connections and tunnels, awaited when draining.
    tracker: TaskTracker,
    drain: watch::Sender<bool>,
    apply_lock: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").finish_non_exhaustive()
    }
}

impl Router {
    /// A router for `domain` whose redirects point at `https_port`; `listener_ips` go into the
    /// fallback certificate (clients connecting by IP without SNI).
    pub fn new(
        domain: &str,
        https_port: u16,
        ca: Arc<PlatformCa>,
        listener_ips: &[IpAddr],
        opts: RouterOptions,
        sink: Arc<dyn LogSink>,
    ) -> Result<Arc<Router>, RouterError> {
        crate::install_crypto_provider();
        let live = Arc::new(Live::new());
        let acceptor = tls_acceptor(ca, domain, listener_ips, live.clone())?;
        let tracker = TaskTracker::new();
        let (drain, drain_rx) = watch::channel(false);
        let proxy = Proxy::new(
            ProxySettings {
                connect_timeout: opts.connect_timeout,
                first_byte_timeout: opts.first_byte_timeout,
                idle_timeout: opts.idle_timeout,
                boot_timeout: opts.boot_timeout,
                pool_idle_timeout: opts.pool_idle_timeout,
                max_body_bytes: opts.max_body_bytes,
                websocket_idle_timeout: opts.websocket_idle_timeout,
            },
            live.clone(),
            sink,
            tracker.clone(),
            drain_rx,
        );
        let proxy = Arc::new(proxy);
        spawn_evictor(&proxy);
        let dispatcher = Arc::new(Dispatcher::new(domain, https_port, live, proxy));
        let limits = Arc::new(ConnLimits::new(opts.max_conns_per_client, opts.max_conns));
        Ok(Arc::new(Router {
            dispatcher,
            acceptor,
            opts,
            limits,
            tracker,
            drain,
            apply_lock: std::sync::Mutex::new(()),
        }))
    }

    /// Serves `table` from the next request on. `digest` identifies it to the control plane.
    pub fn apply(&self, table: Arc<RouteTable>, digest: String) {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let compiled = self.dispatcher.live().apply(table, digest);
        tracing::debug!(
            routes = compiled.routes.len(),
            certs = compiled.parsed.len(),
            "route table applied"
        );
    }

    /// The table being served and its digest.
    pub fn current(&self) -> (Arc<RouteTable>, String) {
        let c = self.dispatcher.live().load_full();
        (c.source.clone(), c.digest.clone())
    }

    /// Requests in flight to `addr` (for draining a dyno before it is stopped).
    pub fn inflight_to(&self, addr: std::net::SocketAddr) -> usize {
        self.dispatcher.live().load().inflight_to(addr)
    }

    /// Open client connections (and tunnels).
    pub fn open_connections(&self) -> usize {
        self.tracker.len()
    }

    /// Accepts on `https` (and `http`) until `stop` resolves. The listeners stay open: the
    /// caller closes them (stop) or hands them over (upgrade).
    pub async fn accept_until(
        self: &Arc<Self>,
        https: &TcpListener,
        http: Option<&TcpListener>,
        stop: impl Future<Output = ()>,
    ) {
        let https_port = https.local_addr().map_or(0, |a| a.port());
        let http_port = http
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port());
        let mut stop = std::pin::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                accepted = https.accept() => match accepted {
                    Ok((tcp, peer)) => self.accepted(tcp, peer, https_port, true),
                    Err(e) => accept_failed(e).await,
                },
                accepted = accept_optional(http) => match accepted {
                    Ok((tcp, peer)) => self.accepted(tcp, peer, http_port, false),
                    Err(e) => accept_failed(e).await,
                },
            }
        }
    }

    fn accepted(
        self: &Arc<Self>,
        tcp: TcpStream,
        peer: std::net::SocketAddr,
        port: u16,
        tls: bool,
    ) {
        let Some(slot) = self.limits.acquire(peer.ip()) else {
            tracing::debug!(peer = %peer, "connection limit reached; closed");
            return;
        };
        let _ = tcp.set_nodelay(true);
        let conn = ConnInfo {
            peer,
            peer_ip: http::HeaderValue::from_str(&peer.ip().to_string())
                .unwrap_or_else(|_| http::HeaderValue::from_static("unknown")),
            local_port: http::HeaderValue::from(port),
            tls,
            tls_version: "unknown",
        };
        let router = self.clone();
        self.tracker.spawn(async move {
            if tls {
                router.serve_tls(tcp, conn, slot).await;
            } else {
                router.serve_h1(tcp, conn, slot).await;
            }
        });
    }

    async fn serve_tls(self: Arc<Self>, tcp: TcpStream, mut conn: ConnInfo, slot: ConnSlot) {
        let handshake = self.opts.tls_handshake_timeout;
        let tls = match tokio::time::timeout(handshake, self.acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!(peer = %conn.peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(peer = %conn.peer, "TLS handshake timed out");
                return;
            }
        };
        let session = tls.get_ref().1;
        conn.tls_version = match session.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "tls1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "tls1.2",
            _ => "unknown",
        };
        match session.alpn_protocol() {
            // A TLS-ALPN-01 validation: the handshake was the answer.
            Some(p) if p == ACME_TLS_ALPN => {}
            Some(b"h2") => self.serve_h2(tls, conn, slot).await,
            _ => self.serve_h1(tls, conn, slot).await,
        }
    }

    /// What answers the requests of one client connection. Each request's future is boxed as
    /// soon as it is made: it holds every state of the proxy (about 5 KB), and hyper moves it
    /// several times before its first poll (for HTTP/2 into a task of its own per stream);
    /// moving a pointer instead cut the router's instructions per HTTP/2 request (measured
    /// with callgrind, see docs/router.md).
    fn service(
        &self,
        conn: &ConnInfo,
    ) -> impl Service<
        hyper::Request<Incoming>,
        Response = hyper::Response<RespBody>,
        Error = Infallible,
        Future = Answer,
    > + Send
           + 'static {
        let dispatcher = self.dispatcher.clone();
        let conn = conn.clone();
        service_fn(move |req: hyper::Request<Incoming>| -> Answer {
            let dispatcher = dispatcher.clone();
            let conn = conn.clone();
            Box::pin(async move { Ok(dispatcher.handle(req, &conn).await) })
        })
    }

    async fn serve_h1<I>(self: Arc<Self>, io: I, conn: ConnInfo, _slot: ConnSlot)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.opts.header_read_timeout)
            .max_header_size(MAX_HEAD_BYTES);
        let connection = builder
            .serve_connection(TokioIo::new(io), self.service(&conn))
            .with_upgrades();
        let mut connection = std::pin::pin!(connection);
        let mut drain = self.drain.subscribe();
        tokio::select! {
            result = connection.as_mut() => log_end(&conn, result),
            () = drained(&mut drain) => {
                // Idle keep-alive connections are not cut (a client may be sending on them
                // right now): the next response says `Connection: close`, and the header read
                // timeout ends the quiet ones.
                let result = connection.await;
                log_end(&conn, result);
            }
        }
    }

    async fn serve_h2<I>(self: Arc<Self>, io: I, conn: ConnInfo, _slot: ConnSlot)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Activity::new();
        let io = IdleIo::new(io, activity.clone());
        let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .max_header_list_size(MAX_HEAD_BYTES as u32)
            .max_concurrent_streams(250);
        let connection = builder.serve_connection(TokioIo::new(io), self.service(&conn));
        let mut connection = std::pin::pin!(connection);
        let mut drain = self.drain.subscribe();
        tokio::select! {
            result = connection.as_mut() => return log_end(&conn, result),
            () = drained(&mut drain) => {}
            () = activity.idle_for(self.opts.h2_idle_timeout) => {
                tracing::debug!(peer = %conn.peer, "HTTP/2 connection idle; closing");
            }
        }
        connection.as_mut().graceful_shutdown();
        log_end(&conn, connection.await);
    }

    /// Stops taking new requests on open connections and waits (up to the drain timeout) for
    /// the in-flight ones, then for upgraded connections; returns how many were cut off.
    pub async fn drain(&self) -> usize {
        self.dispatcher.start_draining();
        self.drain.send_replace(true);
        self.tracker.close();
        let deadline = self.opts.drain_timeout;
        if tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_err()
        {
            let left = self.tracker.len();
            tracing::warn!(
                ?deadline,
                left,
                "drain deadline passed; closing the remaining connections"
            );
            return left;
        }
        0
    }
}

/// Closes idle upstream connections past their timeout, every few seconds, for as long as the
/// proxy exists.
fn spawn_evictor(proxy: &Arc<Proxy>) {
    let proxy = Arc::downgrade(proxy);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let Some(proxy) = proxy.upgrade() else { return };
            proxy.evict_idle();
        }
    });
}

/// Resolves once draining started.
async fn drained(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|d| *d).await;
}

fn log_end(conn: &ConnInfo, result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!(peer = %conn.peer, error = %e, "connection ended with an error");
    }
}

/// A TLS acceptor for the control plane's own TLS listeners (one-off dynos' rendezvous): the
/// certificates of `table` as it changes (the platform host's ACME certificate with
/// `--platform-certs acme`), else the platform CA's (a leaf per SNI name under the platform
/// domain; `listener_ip` in the fallback certificate). Must be called inside a Tokio runtime:
/// a task follows the table for the life of the process.
pub fn platform_tls_acceptor(
    ca: Arc<PlatformCa>,
    domain: &str,
    listener_ip: IpAddr,
    table: SharedRouteTable,
) -> Result<TlsAcceptor, RouterError> {
    let live = Arc::new(Live::new());
    let follower = live.clone();
    let mut changes = table.subscribe();
    live.apply(table.load(), String::new());
    tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            follower.apply(table.load(), String::new());
        }
    });
    tls_acceptor(ca, domain, &[listener_ip], live)
}

fn tls_acceptor(
    ca: Arc<PlatformCa>,
    domain: &str,
    listener_ips: &[IpAddr],
    live: Arc<Live>,
) -> Result<TlsAcceptor, RouterError> {
    let resolver = SniResolver::new(ca, domain, listener_ips, live)?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
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

/// Serves HTTPS (HTTP/1.1 + h2 via ALPN) in this process until `shutdown` resolves, then stops
/// accepting and drains. Every change of `table` is applied within the moment it is stored.
///
/// Host dispatch (`Host` or `:authority`, port stripped, lowercase): the domain itself, an IP
/// literal or no host → the table's platform upstream; a host in the table → proxied to its
/// dynos; anything else → 404 "No such app".
pub async fn serve(
    cfg: RouterConfig,
    table: SharedRouteTable,
    shutdown: impl Future<Output = ()> + Send + 'static,
    opts: RouterOptions,
    sink: Arc<dyn LogSink>,
) -> Result<(), RouterError> {
    let https_local = cfg.https.local_addr().map_err(RouterError::Listener)?;
    let router = Router::new(
        &cfg.domain,
        cfg.https_port,
        cfg.ca.clone(),
        &[https_local.ip()],
        opts,
        sink,
    )?;
    router.apply(table.load(), String::new());
    let follower = {
        let router = router.clone();
        let mut changes = table.subscribe();
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                router.apply(table.load(), String::new());
            }
        })
    };
    tracing::info!(https = %https_local, domain = %cfg.domain, "router listening");
    router
        .accept_until(&cfg.https, cfg.http.as_ref(), shutdown)
        .await;
    drop(cfg.https);
    drop(cfg.http);
    tracing::info!("router draining in-flight requests");
    router.drain().await;
    follower.abort();
    tracing::info!("router stopped");
    Ok(())
}

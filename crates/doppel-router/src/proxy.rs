//! The reverse proxy: Heroku router semantics over one pooled HTTP/1.1 client, to dynos and to
//! the platform's own listener. Nothing reaches a dyno before the route's checks pass (IP
//! allow-list, staging credentials, maintenance, request limits).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::uri::{PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio_util::task::TaskTracker;

use crate::auth;
use crate::balance::{self, InflightGuard};
use crate::body::{AttemptBody, BodyTooLarge, Exchange, LoggedBody, RespBody};
use crate::compiled::{self, BackendState, CompiledRoute, Live};
use crate::connector::{ConnectTiming, UpstreamConnector, PLATFORM_AUTHORITY};
use crate::dispatch::ConnInfo;
use crate::headers::{self, Forwarded};
use crate::log::{LogSink, RouterLog};
use crate::pages;
use crate::table::RouteStatus;
use crate::tunnel;

/// Upstream timeouts, limits and pool settings.
#[derive(Debug, Clone)]
pub(crate) struct ProxySettings {
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
    pub boot_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub max_body_bytes: u64,
    pub websocket_idle_timeout: Duration,
}

/// Heroku tries up to 10 dynos before giving up on a request.
const MAX_ATTEMPTS: usize = 10;
/// The platform's own requests (git pushes that build, log streams) run long.
const PLATFORM_TIMEOUT: Duration = Duration::from_secs(3600);

/// Forwards requests to dynos and to the platform.
pub(crate) struct Proxy {
    client: Client<UpstreamConnector, AttemptBody>,
    settings: ProxySettings,
    live: Arc<Live>,
    sink: Arc<dyn LogSink>,
    tunnels: TaskTracker,
    drain: tokio::sync::watch::Receiver<bool>,
}

/// How forwarding ended: one of the router's pages, or the upstream's response.
enum Outcome {
    Page(Response<RespBody>),
    Upstream(Response<Incoming>, Option<InflightGuard>, Arc<Exchange>),
}

/// A request's parts, rewritten for the upstream.
struct Outgoing {
    method: Method,
    path: PathAndQuery,
    headers: HeaderMap,
    client_upgrade: Option<OnUpgrade>,
}

impl Proxy {
    pub(crate) fn new(
        s: ProxySettings,
        live: Arc<Live>,
        sink: Arc<dyn LogSink>,
        tunnels: TaskTracker,
        drain: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(s.pool_idle_timeout)
            .pool_max_idle_per_host(usize::MAX)
            .set_host(false)
            .build(UpstreamConnector::new(live.clone(), s.connect_timeout));
        Self {
            client,
            settings: s,
            live,
            sink,
            tunnels,
            drain,
        }
    }

    /// Forwards `req` for `host` (routed to `route`) and returns what the client gets.
    pub(crate) async fn forward(
        &self,
        req: Request<Incoming>,
        route: Arc<CompiledRoute>,
        host: String,
        conn: &ConnInfo,
    ) -> Response<RespBody> {
        let at = SystemTime::now();
        let request_id = headers::request_id(req.headers());
        let mut log = RouterLog {
            env: route.env.clone(),
            at,
            method: req.method().clone(),
            path: req
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            host,
            request_id: request_id.clone(),
            fwd: conn.peer.ip().to_string(),
            dyno: None,
            connect_ms: None,
            service_ms: None,
            status: 0,
            bytes: 0,
            protocol: protocol(req.version()),
            tls: conn.tls,
            tls_version: conn.tls_version,
            error: None,
            info_code: false,
        };
        let outcome = match self.check(&req, &route, conn, &mut log) {
            Some(page) => Outcome::Page(page),
            None => {
                self.to_dynos(req, route, conn, &request_id, at, &mut log)
                    .await
            }
        };
        let mut resp = match outcome {
            Outcome::Page(resp) => {
                log.status = resp.status().as_u16();
                log.emit(self.sink.as_ref());
                resp
            }
            Outcome::Upstream(resp, guard, exchange) => {
                log.status = resp.status().as_u16();
                let (parts, body) = resp.into_parts();
                let body = LoggedBody::new(
                    body,
                    log,
                    self.sink.clone(),
                    exchange,
                    self.settings.idle_timeout,
                    guard,
                );
                Response::from_parts(parts, RespBody::Upstream(Box::new(body)))
            }
        };
        let h = resp.headers_mut();
        h.insert(headers::X_REQUEST_ID, request_id);
        headers::append_via(h);
        resp
    }

    /// The checks made before any dyno is contacted; `Some(page)` ends the request there.
    fn check(
        &self,
        req: &Request<Incoming>,
        route: &CompiledRoute,
        conn: &ConnInfo,
        log: &mut RouterLog,
    ) -> Option<Response<RespBody>> {
        if !compiled::allowed(route, conn.peer.ip()) {
            return Some(pages::forbidden(&route.env));
        }
        if let Some(digests) = &route.private {
            if !auth::authorized(req.headers(), digests) {
                return Some(pages::unauthorized(&route.env));
            }
        }
        if route.maintenance {
            log.error = Some(("H80", "Maintenance mode"));
            log.info_code = true;
            return Some(pages::maintenance(&route.env));
        }
        if let Some(page) = self.request_limits(req) {
            log.error = Some(("H26", "Request Error"));
            return Some(page);
        }
        None
    }

    fn request_limits(&self, req: &Request<Incoming>) -> Option<Response<RespBody>> {
        if req.method() == Method::CONNECT {
            return Some(pages::bad_request(
                StatusCode::METHOD_NOT_ALLOWED,
                "CONNECT is not supported",
            ));
        }
        if let Some(name) = headers::oversized_header(req.headers()) {
            let reason = format!(
                "the {name} header line is longer than {} bytes",
                headers::MAX_HEADER_LINE
            );
            return Some(pages::bad_request(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                &reason,
            ));
        }
        if let Some(expect) = req.headers().get(header::EXPECT) {
            if !expect.as_bytes().eq_ignore_ascii_case(b"100-continue") {
                return Some(pages::bad_request(
                    StatusCode::EXPECTATION_FAILED,
                    "only Expect: 100-continue is supported",
                ));
            }
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.settings.max_body_bytes) {
            return Some(pages::bad_request(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is larger than {} bytes",
                    self.settings.max_body_bytes
                ),
            ));
        }
        None
    }

    /// Sends the request to the route's dynos (waiting for booting ones), retrying refused
    /// connections on the others.
    async fn to_dynos(
        &self,
        req: Request<Incoming>,
        route: Arc<CompiledRoute>,
        conn: &ConnInfo,
        request_id: &HeaderValue,
        at: SystemTime,
        log: &mut RouterLog,
    ) -> Outcome {
        let route = match self.route_with_backends(route, log).await {
            Target::Route(route) => route,
            Target::Page(page) => return Outcome::Page(page),
        };
        let private = route.private.is_some();
        let (parts, body) = req.into_parts();
        let mut out = outgoing(parts, private);
        log.fwd = headers::add_forwarded(
            &mut out.headers,
            &Forwarded {
                client_ip: conn.peer.ip(),
                tls: conn.tls,
                port: conn.local_port,
                host: &log.host,
                request_id,
                start_ms: unix_ms(at),
            },
        );
        let exchange = Exchange::new(body, self.settings.max_body_bytes);
        let mut tried = [0usize; MAX_ATTEMPTS];
        let mut n_tried = 0;
        let mut last_error = ("H19", "Backend connection timeout");
        while n_tried < MAX_ATTEMPTS {
            let Some(i) = balance::pick(&route.backends, &tried[..n_tried]) else {
                break;
            };
            tried[n_tried] = i;
            n_tried += 1;
            let backend = route.backends[i].clone();
            let last = n_tried == MAX_ATTEMPTS || n_tried == route.backends.len();
            let headers = if last {
                std::mem::take(&mut out.headers)
            } else {
                out.headers.clone()
            };
            let guard = InflightGuard::new(backend.clone());
            log.dyno = Some(backend.dyno.clone());
            let request = build_request(&out, headers, backend.authority.clone(), &exchange);
            match self.send(request, &exchange, log).await {
                Sent::Response(resp) => {
                    return self.respond(resp, &mut out, Some(guard), exchange);
                }
                Sent::ConnectFailed(code) => {
                    balance::quarantine(&backend);
                    last_error = code;
                    warn_connect(&log.host, &backend, code);
                }
                Sent::Failed(page) => return Outcome::Page(page),
            }
        }
        log.error = Some(last_error);
        Outcome::Page(pages::application_error(last_error.0))
    }

    /// The route itself when it has backends; while it boots, waits (up to the boot timeout)
    /// for a table that gives it some; else the page for its status.
    async fn route_with_backends(&self, route: Arc<CompiledRoute>, log: &mut RouterLog) -> Target {
        if !route.backends.is_empty() {
            return Target::Route(route);
        }
        if route.status != RouteStatus::Booting {
            return Target::Page(no_backend_page(&route, log));
        }
        let deadline = tokio::time::Instant::now() + self.settings.boot_timeout;
        let mut changes = self.live.subscribe();
        while tokio::time::timeout_at(deadline, changes.changed())
            .await
            .is_ok_and(|changed| changed.is_ok())
        {
            let current = self.live.load().routes.get(&log.host).cloned();
            match current {
                Some(r) if !r.backends.is_empty() => return Target::Route(r),
                Some(r) if r.status == RouteStatus::Booting => continue,
                Some(r) => return Target::Page(no_backend_page(&r, log)),
                None => return Target::Page(pages::no_such_app(&log.host)),
            }
        }
        log.error = Some(("H20", "App boot timeout"));
        Target::Page(pages::boot_timeout(&route.env))
    }

    /// Forwards a request for the platform host (API, git) to the platform's listener.
    pub(crate) async fn forward_platform(
        &self,
        req: Request<Incoming>,
        conn: &ConnInfo,
    ) -> Response<RespBody> {
        let at = SystemTime::now();
        let request_id = headers::request_id(req.headers());
        let host = crate::dispatch::request_host(&req).unwrap_or_default();
        let (parts, body) = req.into_parts();
        let mut out = outgoing(parts, false);
        headers::add_forwarded(
            &mut out.headers,
            &Forwarded {
                client_ip: conn.peer.ip(),
                tls: conn.tls,
                port: conn.local_port,
                host: &host,
                request_id: &request_id,
                start_ms: unix_ms(at),
            },
        );
        let exchange = Exchange::new(body, u64::MAX);
        let headers = std::mem::take(&mut out.headers);
        let authority = http::uri::Authority::from_static(PLATFORM_AUTHORITY);
        let request = build_request(&out, headers, authority, &exchange);
        let sent = tokio::time::timeout(PLATFORM_TIMEOUT, self.client.request(request)).await;
        let mut resp = match sent {
            Ok(Ok(resp)) => match self.respond(resp, &mut out, None, exchange) {
                Outcome::Upstream(resp, _, exchange) => resp.map(|b| {
                    RespBody::Upstream(Box::new(LoggedBody::new(
                        b,
                        platform_log(at, request_id.clone()),
                        Arc::new(crate::log::NoSink),
                        exchange,
                        PLATFORM_TIMEOUT,
                        None,
                    )))
                }),
                Outcome::Page(page) => page,
            },
            Ok(Err(e)) => {
                tracing::debug!(error = %error_chain(&e), "the platform is not answering");
                pages::platform_unavailable()
            }
            Err(_) => pages::platform_unavailable(),
        };
        resp.headers_mut().insert(headers::X_REQUEST_ID, request_id);
        resp
    }

    async fn send(
        &self,
        request: Request<AttemptBody>,
        exchange: &Arc<Exchange>,
        log: &mut RouterLog,
    ) -> Sent {
        let sent = Instant::now();
        let result = tokio::time::timeout(
            self.settings.first_byte_timeout,
            self.client.request(request),
        )
        .await;
        let elapsed = u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Err(_elapsed) => {
                log.service_ms = Some(elapsed);
                log.error = Some(("H12", "Request timeout"));
                Sent::Failed(pages::request_timeout())
            }
            Ok(Err(e)) if e.is_connect() && !exchange.body_taken() => {
                Sent::ConnectFailed(if refused(&e) {
                    ("H21", "Backend connection refused")
                } else {
                    ("H19", "Backend connection timeout")
                })
            }
            Ok(Err(e)) if has_cause::<BodyTooLarge>(&e) => {
                log.error = Some(("H26", "Request Error"));
                Sent::Failed(pages::bad_request(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!(
                        "the request body is larger than {} bytes",
                        self.settings.max_body_bytes
                    ),
                ))
            }
            Ok(Err(e)) => {
                tracing::info!(host = %log.host, dyno = ?log.dyno, error = %error_chain(&e), "dyno connection failed");
                log.service_ms = Some(elapsed);
                log.error = Some(("H13", "Connection closed without response"));
                Sent::Failed(pages::application_error("H13"))
            }
            Ok(Ok(resp)) => {
                let connect = resp
                    .extensions()
                    .get::<ConnectTiming>()
                    .map_or(0, ConnectTiming::take);
                log.connect_ms = Some(connect);
                log.service_ms = Some(elapsed.saturating_sub(connect));
                Sent::Response(resp)
            }
        }
    }

    /// The upstream's response for the client: hop-by-hop headers stripped, and a switch of
    /// protocols (WebSocket) joined into a tunnel.
    fn respond(
        &self,
        mut resp: Response<Incoming>,
        out: &mut Outgoing,
        guard: Option<InflightGuard>,
        exchange: Arc<Exchange>,
    ) -> Outcome {
        let switching = resp.status() == StatusCode::SWITCHING_PROTOCOLS;
        if switching {
            if let Some(client_upgrade) = out.client_upgrade.take() {
                let upstream_upgrade = hyper::upgrade::on(&mut resp);
                self.tunnels.spawn(tunnel::run(
                    client_upgrade,
                    upstream_upgrade,
                    self.settings.websocket_idle_timeout,
                    self.drain.clone(),
                ));
            }
        }
        headers::strip_hop_by_hop(resp.headers_mut(), switching);
        Outcome::Upstream(resp, guard, exchange)
    }
}

/// Where a request goes once the route's status is known.
enum Target {
    Route(Arc<CompiledRoute>),
    Page(Response<RespBody>),
}

/// The page (and log code) for a route without backends.
fn no_backend_page(route: &CompiledRoute, log: &mut RouterLog) -> Response<RespBody> {
    let (code, page) = match route.status {
        RouteStatus::NoRelease => {
            log.info_code = true;
            (("H81", "Blank app"), pages::no_release(&route.env))
        }
        RouteStatus::Crashed => (("H10", "App crashed"), pages::app_crashed(&route.env)),
        RouteStatus::Booting => (("H20", "App boot timeout"), pages::boot_timeout(&route.env)),
        RouteStatus::Up | RouteStatus::NoWebDynos => (
            ("H14", "No web processes running"),
            pages::no_web_dyno(&route.env),
        ),
    };
    log.error = Some(code);
    page
}

enum Sent {
    Response(Response<Incoming>),
    ConnectFailed((&'static str, &'static str)),
    Failed(Response<RespBody>),
}

/// The request's parts rewritten for the upstream: hop-by-hop headers stripped (except an
/// upgrade's), `Host` from `:authority` for HTTP/2 clients, staging credentials removed.
fn outgoing(mut parts: Parts, strip_credentials: bool) -> Outgoing {
    let upgrade = headers::is_upgrade(parts.version, &parts.headers);
    let client_upgrade = if upgrade {
        parts.extensions.remove::<OnUpgrade>()
    } else {
        None
    };
    let mut headers = parts.headers;
    if !headers.contains_key(header::HOST) {
        // HTTP/2 carries the host in :authority; the dyno speaks HTTP/1.1 and needs Host.
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(header::HOST, v);
        }
    }
    headers::strip_hop_by_hop(&mut headers, upgrade);
    // `Expect: 100-continue` was answered on the client's hop.
    headers.remove(header::EXPECT);
    if strip_credentials {
        // The credential is the router's (a user's API token or the access password).
        headers.remove(header::AUTHORIZATION);
    }
    let path = parts
        .uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Outgoing {
        method: parts.method,
        path,
        headers,
        client_upgrade,
    }
}

fn build_request(
    out: &Outgoing,
    headers: HeaderMap,
    authority: http::uri::Authority,
    exchange: &Arc<Exchange>,
) -> Request<AttemptBody> {
    let mut uri = http::uri::Parts::default();
    uri.scheme = Some(Scheme::HTTP);
    uri.authority = Some(authority);
    uri.path_and_query = Some(out.path.clone());
    let mut request = Request::new(exchange.attempt());
    *request.method_mut() = out.method.clone();
    *request.uri_mut() = Uri::from_parts(uri).unwrap_or_default();
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    request
}

fn platform_log(at: SystemTime, request_id: HeaderValue) -> RouterLog {
    RouterLog {
        env: Arc::from(""),
        at,
        method: Method::GET,
        path: String::new(),
        host: String::new(),
        request_id,
        fwd: String::new(),
        dyno: None,
        connect_ms: None,
        service_ms: None,
        status: 0,
        bytes: 0,
        protocol: "",
        tls: true,
        tls_version: "",
        error: None,
        info_code: false,
    }
}

fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_2 => "http2.0",
        Version::HTTP_10 => "http1.0",
        _ => "http1.1",
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

fn warn_connect(host: &str, backend: &BackendState, code: (&str, &str)) {
    tracing::warn!(host, backend = %backend.addr, dyno = %backend.dyno, code = code.0, "could not connect to dyno; trying another");
}

/// True if any error in the chain is a refused connection.
fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// True if an error of type `T` is in the chain.
fn has_cause<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<T>() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        s.push_str(": ");
        s.push_str(&err.to_string());
        cur = err.source();
    }
    s
}

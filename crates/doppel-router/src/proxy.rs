//! The reverse proxy: Heroku router semantics over pooled HTTP/1.1 connections, to dynos and
//! to the platform's own listener. Nothing reaches a dyno before the checks of `checks` pass.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use tokio_util::task::TaskTracker;

use crate::affinity;
use crate::balance::{self, InflightGuard};
use crate::body::{LoggedBody, RespBody};
use crate::checks;
use crate::compiled::{BackendState, CompiledRoute, Live};
use crate::conn::{request_host, ConnInfo};
use crate::headers::{self, Forwarded};
use crate::log::{LogSink, NoSink, RouterLog};
use crate::pages;
use crate::request_body::{AttemptBody, BodyTooLarge, Exchange};
use crate::table::{RouteStatus, Upstream};
use crate::tunnel;
use crate::upstream::{self, Lease, Pool, SendError};

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
    settings: ProxySettings,
    live: Arc<Live>,
    sink: Arc<dyn LogSink>,
    tunnels: TaskTracker,
    drain: tokio::sync::watch::Receiver<bool>,
    /// The platform's connections, for the upstream they were made to.
    platform: Mutex<(Option<Upstream>, Arc<Pool>)>,
}

/// A response from an upstream, and what must live as long as its body.
struct Upstreamed {
    response: Response<Incoming>,
    lease: Option<Lease>,
    guard: Option<InflightGuard>,
    exchange: Arc<Exchange>,
}

/// How forwarding ended: one of the router's pages, or the upstream's response.
enum Outcome {
    Page(Response<RespBody>),
    Upstream(Upstreamed),
}

/// How one attempt on one dyno ended.
enum Attempt {
    Response(Response<Incoming>, Lease),
    ConnectFailed((&'static str, &'static str), HeaderMap),
    Failed(Response<RespBody>),
}

/// Where a request goes once the route's status is known.
enum Target {
    Route(Arc<CompiledRoute>),
    Page(Response<RespBody>),
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
        settings: ProxySettings,
        live: Arc<Live>,
        sink: Arc<dyn LogSink>,
        tunnels: TaskTracker,
        drain: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self {
            settings,
            live,
            sink,
            tunnels,
            drain,
            platform: Mutex::new((None, Arc::new(Pool::default()))),
        }
    }

    /// Closes idle upstream connections past the pool timeout (called periodically).
    pub(crate) fn evict_idle(&self) {
        let idle = self.settings.pool_idle_timeout;
        for route in self.live.load().routes.values() {
            for b in &route.backends {
                b.pool.evict(idle);
            }
        }
        let platform = self.platform.lock().unwrap_or_else(|e| e.into_inner());
        platform.1.evict(idle);
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
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/")),
            host,
            request_id: request_id.clone(),
            fwd: conn.peer_ip.clone(),
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
        let checked =
            checks::before_dynos(&req, &route, conn, self.settings.max_body_bytes, &mut log);
        let outcome = match checked {
            Some(page) => Outcome::Page(page),
            // Boxed: the attempts' states are large, and moving them with every enclosing
            // future costs more than one allocation.
            None => Box::pin(self.to_dynos(req, route, conn, &request_id, at, &mut log)).await,
        };
        let mut resp = match outcome {
            Outcome::Page(resp) => {
                // Errors only: the table is looked up again rather than the route kept
                // (and reference-counted) on every request's path.
                let resp = if log.error.is_some() {
                    let live = self.live.load();
                    checks::app_error_page(resp, &log, live.routes.get(&log.host).map(|r| &**r))
                } else {
                    resp
                };
                log.status = resp.status().as_u16();
                log.emit(self.sink.as_ref());
                resp
            }
            Outcome::Upstream(up) => {
                log.status = up.response.status().as_u16();
                self.stream(up, log, self.sink.clone(), self.settings.idle_timeout)
            }
        };
        let h = resp.headers_mut();
        h.insert(headers::X_REQUEST_ID, headers::never_indexed(request_id));
        headers::append_via(h);
        resp
    }

    /// The upstream's response with its body wrapped (bytes counted, idle rule, log line).
    fn stream(
        &self,
        up: Upstreamed,
        log: RouterLog,
        sink: Arc<dyn LogSink>,
        idle: Duration,
    ) -> Response<RespBody> {
        let (parts, body) = up.response.into_parts();
        let body = LoggedBody::new(body, log, sink, up.exchange, idle, up.guard, up.lease);
        Response::from_parts(parts, RespBody::Upstream(Box::new(body)))
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
        let (parts, body) = req.into_parts();
        let mut out = outgoing(parts, route.private.is_some());
        log.fwd = headers::add_forwarded(
            &mut out.headers,
            &Forwarded {
                client: &conn.peer_ip,
                tls: conn.tls,
                port: &conn.local_port,
                host: route.forwarded_host.as_ref(),
                request_id,
                start_ms: unix_ms(at),
            },
        );
        let exchange = Exchange::new(body, self.settings.max_body_bytes);
        let (sticky, mut wanted) = sticky_choice(&route, &out.headers);
        let mut tried = [0usize; MAX_ATTEMPTS];
        let mut n_tried = 0;
        let mut last_error = ("H19", "Backend connection timeout");
        while n_tried < MAX_ATTEMPTS {
            let Some(i) = wanted
                .take()
                .or_else(|| balance::pick(&route.backends, &tried[..n_tried]))
            else {
                break;
            };
            tried[n_tried] = i;
            n_tried += 1;
            let backend = route.backends[i].clone();
            // Taken, not copied: a refused connect gives them back for the next dyno.
            let headers = std::mem::take(&mut out.headers);
            let guard = InflightGuard::new(backend.clone());
            log.dyno = Some(backend.dyno.clone());
            let request = build_request(&out, headers, &exchange);
            match self.send(&backend, request, &exchange, log).await {
                Attempt::Response(mut response, lease) => {
                    if route.session_affinity && sticky.as_deref() != Some(&*backend.affinity) {
                        affinity::set_cookie(response.headers_mut(), &backend.affinity, conn.tls);
                    }
                    let up = Upstreamed {
                        response,
                        lease: Some(lease),
                        guard: Some(guard),
                        exchange,
                    };
                    return Outcome::Upstream(self.respond(up, &mut out));
                }
                Attempt::ConnectFailed(code, headers) => {
                    out.headers = headers;
                    balance::quarantine(&backend);
                    last_error = code;
                    tracing::warn!(host = %log.host, backend = %backend.addr, dyno = %backend.dyno, code = code.0, "could not connect to dyno; trying another");
                }
                Attempt::Failed(page) => return Outcome::Page(page),
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
            return Target::Page(checks::no_backend_page(&route, log));
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
                Some(r) => return Target::Page(checks::no_backend_page(&r, log)),
                None => return Target::Page(pages::no_such_app(&log.host)),
            }
        }
        log.error = Some(("H20", "App boot timeout"));
        Target::Page(pages::boot_timeout(&route.env))
    }

    async fn send(
        &self,
        backend: &BackendState,
        request: Request<AttemptBody>,
        exchange: &Exchange,
        log: &mut RouterLog,
    ) -> Attempt {
        let start = Instant::now();
        let mut connected = None;
        let result = tokio::time::timeout(
            self.settings.first_byte_timeout,
            // Boxed, as `to_dynos` is: connecting and sending are large states.
            Box::pin(upstream::send(
                &backend.pool,
                &backend.upstream,
                request,
                (
                    self.settings.connect_timeout,
                    self.settings.pool_idle_timeout,
                ),
                &mut connected,
            )),
        )
        .await;
        let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        // A dyno that was reached but did not answer: its line says how long connecting took.
        if !matches!(result, Ok(Err(SendError::Connect(..)))) {
            log.connect_ms = connected;
        }
        let service_ms = elapsed.saturating_sub(connected.unwrap_or(0));
        match result {
            Err(_elapsed) => {
                log.service_ms = Some(service_ms);
                log.error = Some(("H12", "Request timeout"));
                Attempt::Failed(pages::request_timeout())
            }
            Ok(Err(SendError::Connect(e, unsent))) if !exchange.body_taken() => {
                let code = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    ("H21", "Backend connection refused")
                } else {
                    ("H19", "Backend connection timeout")
                };
                Attempt::ConnectFailed(code, unsent.into_parts().0.headers)
            }
            Ok(Err(SendError::Failed(e))) if has_cause::<BodyTooLarge>(&e) => {
                log.error = Some(("H26", "Request Error"));
                Attempt::Failed(checks::too_large(self.settings.max_body_bytes))
            }
            Ok(Err(e)) => {
                tracing::info!(host = %log.host, dyno = ?log.dyno, error = ?e, "dyno connection failed");
                log.service_ms = Some(service_ms);
                log.error = Some(("H13", "Connection closed without response"));
                Attempt::Failed(pages::application_error("H13"))
            }
            Ok(Ok(sent)) => {
                log.connect_ms = Some(sent.connect_ms);
                log.service_ms = Some(service_ms);
                Attempt::Response(sent.response, sent.lease)
            }
        }
    }

    /// The upstream's response for the client: hop-by-hop headers stripped, and a switch of
    /// protocols (WebSocket) joined into a tunnel (its connection is not pooled again).
    fn respond(&self, mut up: Upstreamed, out: &mut Outgoing) -> Upstreamed {
        let switching = up.response.status() == StatusCode::SWITCHING_PROTOCOLS;
        if switching {
            up.lease = None;
            if let Some(client_upgrade) = out.client_upgrade.take() {
                let upstream_upgrade = hyper::upgrade::on(&mut up.response);
                self.tunnels.spawn(tunnel::run(
                    client_upgrade,
                    upstream_upgrade,
                    self.settings.websocket_idle_timeout,
                    self.drain.clone(),
                ));
            }
        }
        headers::strip_hop_by_hop(up.response.headers_mut(), switching);
        up
    }

    /// Forwards a request for the platform host (API, git) to the platform's listener.
    pub(crate) async fn forward_platform(
        &self,
        req: Request<Incoming>,
        conn: &ConnInfo,
    ) -> Response<RespBody> {
        let at = SystemTime::now();
        let request_id = headers::request_id(req.headers());
        let host = request_host(&req).unwrap_or_default();
        let (parts, body) = req.into_parts();
        let mut out = outgoing(parts, false);
        headers::add_forwarded(
            &mut out.headers,
            &Forwarded {
                client: &conn.peer_ip,
                tls: conn.tls,
                port: &conn.local_port,
                host: HeaderValue::from_str(&host).ok().as_ref(),
                request_id: &request_id,
                start_ms: unix_ms(at),
            },
        );
        let mut resp = match self.to_platform(&mut out, body).await {
            Some(up) => {
                let up = self.respond(up, &mut out);
                let log = platform_log(at, request_id.clone());
                self.stream(up, log, Arc::new(NoSink), PLATFORM_TIMEOUT)
            }
            None => pages::platform_unavailable(),
        };
        resp.headers_mut()
            .insert(headers::X_REQUEST_ID, headers::never_indexed(request_id));
        resp
    }

    async fn to_platform(&self, out: &mut Outgoing, body: Incoming) -> Option<Upstreamed> {
        let (upstream, pool) = self.platform_pool()?;
        let exchange = Exchange::new(body, u64::MAX);
        let headers = std::mem::take(&mut out.headers);
        let request = build_request(out, headers, &exchange);
        let mut connected = None;
        let sent = upstream::send(
            &pool,
            &upstream,
            request,
            (
                self.settings.connect_timeout,
                self.settings.pool_idle_timeout,
            ),
            &mut connected,
        );
        match tokio::time::timeout(PLATFORM_TIMEOUT, sent).await {
            Ok(Ok(sent)) => Some(Upstreamed {
                response: sent.response,
                lease: Some(sent.lease),
                guard: None,
                exchange,
            }),
            Ok(Err(e)) => {
                tracing::debug!(error = ?e, "the platform is not answering");
                None
            }
            Err(_) => None,
        }
    }

    /// The platform's upstream and its pool (a new pool when the upstream changed).
    fn platform_pool(&self) -> Option<(Upstream, Arc<Pool>)> {
        let current = self.live.load().platform.clone()?;
        let mut platform = self.platform.lock().unwrap_or_else(|e| e.into_inner());
        if platform.0.as_ref() != Some(&current) {
            platform.1.clear();
            *platform = (Some(current.clone()), Arc::new(Pool::default()));
        }
        Some((current, platform.1.clone()))
    }
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
    // Room for the forwarding headers, so adding them does not grow the map twice.
    headers.reserve(8);
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
    if parts.version == Version::HTTP_2 {
        headers::join_cookies(&mut headers);
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

/// Session affinity: the token the client's cookie carries (when the route has the
/// feature) and the backend it names, which is tried first.
fn sticky_choice(route: &CompiledRoute, headers: &HeaderMap) -> (Option<String>, Option<usize>) {
    if !route.session_affinity {
        return (None, None);
    }
    let token = affinity::requested(headers);
    let wanted = token
        .as_deref()
        .and_then(|t| balance::sticky(&route.backends, t));
    (token, wanted)
}

/// An origin-form HTTP/1.1 request (the client's `Host` header names the site).
fn build_request(
    out: &Outgoing,
    headers: HeaderMap,
    exchange: &Arc<Exchange>,
) -> Request<AttemptBody> {
    let mut request = Request::new(exchange.attempt());
    *request.method_mut() = out.method.clone();
    *request.uri_mut() = Uri::from(out.path.clone());
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    request
}

/// A log line that goes nowhere (the platform logs its own requests).
fn platform_log(at: SystemTime, request_id: HeaderValue) -> RouterLog {
    RouterLog {
        env: Arc::from(""),
        at,
        method: Method::GET,
        path: PathAndQuery::from_static("/"),
        host: String::new(),
        request_id,
        fwd: HeaderValue::from_static(""),
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

//! The reverse proxy to dynos: Heroku router semantics over a pooled HTTP/1.1 client.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rand::seq::SliceRandom;

use crate::auth;
use crate::body::{BodySlot, LoggedBody, ReplayableBody};
use crate::connector::{ConnectTiming, TimedConnector};
use crate::dispatch::ConnInfo;
use crate::headers::{self, Forwarded};
use crate::log::RouterLog;
use crate::observe::InFlight;
use crate::pages;
use crate::table::Route;

/// Upstream timeouts and pool settings.
#[derive(Debug, Clone)]
pub(crate) struct ProxySettings {
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub observer: crate::Observer,
}

/// Forwards requests to dynos.
pub(crate) struct Proxy {
    client: Client<TimedConnector, ReplayableBody>,
    first_byte_timeout: Duration,
    observer: crate::Observer,
}

/// How forwarding ended: one of the router's pages, or the dyno's response (with its
/// in-flight mark on the dyno).
enum Outcome {
    Page(Response<Body>),
    Upstream(Response<Incoming>, InFlight),
}

impl Proxy {
    pub(crate) fn new(s: &ProxySettings) -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(s.connect_timeout));
        http.set_nodelay(true);
        http.enforce_http(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(s.pool_idle_timeout)
            .pool_max_idle_per_host(64)
            .build(TimedConnector::new(http));
        Self {
            client,
            first_byte_timeout: s.first_byte_timeout,
            observer: s.observer.clone(),
        }
    }

    /// Forwards `req` (for `host`, already routed to `route`) and returns what the client gets.
    pub(crate) async fn forward(
        &self,
        req: Request<Incoming>,
        route: &Route,
        host: &str,
        conn: &ConnInfo,
    ) -> Response<Body> {
        let request_id = headers::request_id(req.headers());
        let mut log = RouterLog {
            method: req.method().to_string(),
            path: req
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            host: host.to_owned(),
            request_id: request_id.clone(),
            protocol: match req.version() {
                Version::HTTP_2 => "http2.0",
                Version::HTTP_10 => "http1.0",
                _ => "http1.1",
            },
            tls: conn.tls,
            fwd: conn.peer.ip().to_string(),
            ..RouterLog::default()
        };
        let mut resp = match self
            .forward_inner(req, route, host, conn, &request_id, &mut log)
            .await
        {
            Outcome::Page(resp) => {
                log.status = resp.status().as_u16();
                log.emit(&route.env, &self.observer);
                resp
            }
            Outcome::Upstream(resp, in_flight) => {
                log.status = resp.status().as_u16();
                let (env, observer) = (route.env.clone(), self.observer.clone());
                resp.map(|b| LoggedBody::new(b, log, env, observer, Some(in_flight)).into_axum())
            }
        };
        let h = resp.headers_mut();
        headers::set(h, headers::X_REQUEST_ID, &request_id);
        headers::append_via(h);
        resp
    }

    async fn forward_inner(
        &self,
        mut req: Request<Incoming>,
        route: &Route,
        host: &str,
        conn: &ConnInfo,
        request_id: &str,
        log: &mut RouterLog,
    ) -> Outcome {
        let start = Instant::now();
        let start_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        if let Some(digests) = &route.private {
            if !auth::authorized(req.headers(), digests) {
                return Outcome::Page(pages::unauthorized(&route.env));
            }
            // The credential is the user's API token: it is for the router, not for the app.
            req.headers_mut().remove(header::AUTHORIZATION);
        }
        if route.maintenance {
            log.error = Some(("H80", "Maintenance mode"));
            return Outcome::Page(pages::maintenance(&route.env));
        }
        if req.method() == http::Method::CONNECT {
            log.error = Some(("H26", "Request Error"));
            return Outcome::Page(pages::bad_request(StatusCode::METHOD_NOT_ALLOWED));
        }
        if route.backends.is_empty() {
            log.error = Some(("H14", "No web processes running"));
            return Outcome::Page(match route.released {
                true => pages::no_web_dyno(&route.env),
                false => pages::no_release(&route.env),
            });
        }

        let upgrade = headers::is_upgrade(req.version(), req.headers());
        let client_upgrade = if upgrade {
            req.extensions_mut().remove::<OnUpgrade>()
        } else {
            None
        };
        let (parts, body) = req.into_parts();
        let mut out_headers = parts.headers;
        if !out_headers.contains_key(header::HOST) {
            // HTTP/2 carries the host in :authority; the dyno speaks HTTP/1.1 and needs Host.
            if let Some(v) = parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            {
                out_headers.insert(header::HOST, v);
            }
        }
        headers::strip_hop_by_hop(&mut out_headers, upgrade);
        // `Expect: 100-continue` was answered on the client's hop.
        out_headers.remove(header::EXPECT);
        log.fwd = headers::add_forwarded(
            &mut out_headers,
            &Forwarded {
                client_ip: conn.peer.ip(),
                tls: conn.tls,
                port: conn.local.port(),
                host,
                request_id,
                start_ms,
            },
        );
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();

        let slot = BodySlot::new(body);
        let mut backends = route.backends.clone();
        backends.shuffle(&mut rand::rng());
        let mut last_error = ("H19", "Backend connection timeout");
        for backend in backends {
            let Ok(uri) = format!("http://{backend}{path}").parse::<Uri>() else {
                log.error = Some(("H26", "Request Error"));
                return Outcome::Page(pages::bad_request(StatusCode::BAD_REQUEST));
            };
            let mut out = Request::new(slot.attempt());
            *out.method_mut() = parts.method.clone();
            *out.uri_mut() = uri;
            *out.version_mut() = Version::HTTP_11;
            *out.headers_mut() = out_headers.clone();
            log.dyno = Some(backend.to_string());
            let in_flight = self.observer.acquire(backend);
            let sent = Instant::now();
            match tokio::time::timeout(self.first_byte_timeout, self.client.request(out)).await {
                Err(_elapsed) => {
                    log.service_ms = Some(sent.elapsed().as_millis());
                    log.error = Some(("H12", "Request timeout"));
                    return Outcome::Page(pages::request_timeout());
                }
                Ok(Err(e)) if e.is_connect() && !slot.taken() => {
                    last_error = if refused(&e) {
                        ("H21", "Backend connection refused")
                    } else {
                        ("H19", "Backend connection timeout")
                    };
                    tracing::warn!(host, %backend, error = %error_chain(&e), "could not connect to dyno");
                }
                Ok(Err(e)) => {
                    tracing::warn!(host, %backend, error = %error_chain(&e), "dyno connection failed");
                    log.service_ms = Some(sent.elapsed().as_millis());
                    log.error = Some(("H13", "Connection closed without response"));
                    return Outcome::Page(pages::application_error());
                }
                Ok(Ok(mut resp)) => {
                    let connect = resp
                        .extensions()
                        .get::<ConnectTiming>()
                        .map_or(0, ConnectTiming::take);
                    log.connect_ms = Some(connect);
                    log.service_ms = Some(sent.elapsed().as_millis().saturating_sub(connect));
                    let switching = upgrade && resp.status() == StatusCode::SWITCHING_PROTOCOLS;
                    if switching {
                        if let Some(client_upgrade) = client_upgrade {
                            let upstream_upgrade = hyper::upgrade::on(&mut resp);
                            tokio::spawn(tunnel(client_upgrade, upstream_upgrade));
                        }
                    }
                    strip_response(resp.headers_mut(), switching);
                    tracing::trace!(elapsed_ms = start.elapsed().as_millis(), "proxied");
                    return Outcome::Upstream(resp, in_flight);
                }
            }
        }
        log.error = Some(last_error);
        Outcome::Page(pages::application_error())
    }
}

fn strip_response(h: &mut HeaderMap, switching: bool) {
    headers::strip_hop_by_hop(h, switching);
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

/// Joins the client's and the dyno's upgraded connections (WebSocket etc.) and copies both ways.
async fn tunnel(client: OnUpgrade, upstream: OnUpgrade) {
    match tokio::try_join!(client, upstream) {
        Ok((c, u)) => {
            let mut c = TokioIo::new(c);
            let mut u = TokioIo::new(u);
            if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut u).await {
                tracing::debug!(error = %e, "upgraded connection ended");
            }
        }
        Err(e) => tracing::debug!(error = %e, "upgrade failed"),
    }
}

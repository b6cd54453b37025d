//! Host dispatch: ACME challenges and redirects on plain HTTP; on HTTPS the platform's upstream,
//! a proxied environment, or "No such app".

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::{header, HeaderValue, Request, Response, Version};
use hyper::body::Incoming;

use crate::body::RespBody;
use crate::compiled::Live;
use crate::pages;
use crate::proxy::Proxy;

/// What the router knows about the client connection a request came on.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    /// The client's IP as text, made once per connection (`X-Forwarded-For`, logs).
    pub peer_ip: HeaderValue,
    /// The port the client connected to (`X-Forwarded-Port`).
    pub local_port: u16,
    pub tls: bool,
    /// `tls1.2`, `tls1.3` (log line), `unknown` without TLS.
    pub tls_version: &'static str,
}

/// Chooses where each request goes.
pub(crate) struct Dispatcher {
    domain: String,
    /// `dashboard.<domain>`: the web dashboard, served by the platform too.
    dashboard: String,
    /// The HTTPS port clients use, for redirects from plain HTTP.
    https_port: u16,
    live: Arc<Live>,
    proxy: Arc<Proxy>,
    /// Set while the router drains (stop or hand-over): HTTP/1 responses then say
    /// `Connection: close`, so clients open their next request on the new process.
    draining: AtomicBool,
}

impl Dispatcher {
    pub(crate) fn new(domain: &str, https_port: u16, live: Arc<Live>, proxy: Arc<Proxy>) -> Self {
        Self {
            domain: normalize_host(domain),
            dashboard: normalize_host(&format!("{}.{domain}", doppel_types::DASHBOARD_NAME)),
            https_port,
            live,
            proxy,
            draining: AtomicBool::new(false),
        }
    }

    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub(crate) fn live(&self) -> &Arc<Live> {
        &self.live
    }

    pub(crate) async fn handle(
        &self,
        req: Request<Incoming>,
        conn: &ConnInfo,
    ) -> Response<RespBody> {
        let http1 = req.version() != Version::HTTP_2;
        let mut resp = self.route(req, conn).await;
        if http1 && self.is_draining() {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }

    async fn route(&self, req: Request<Incoming>, conn: &ConnInfo) -> Response<RespBody> {
        let host = request_host(&req);
        if !conn.tls {
            let live = self.live.load();
            return crate::redirect::to_https(&req, host.as_deref(), self.https_port, &live.http01);
        }
        let is_platform = match host.as_deref() {
            None => true,
            Some(h) => h == self.domain || h == self.dashboard || h.parse::<IpAddr>().is_ok(),
        };
        if is_platform {
            return self.proxy.forward_platform(req, conn).await;
        }
        let host = host.unwrap_or_default();
        let route = self.live.load().routes.get(&host).cloned();
        match route {
            Some(route) => self.proxy.forward(req, route, host, conn).await,
            None => {
                tracing::debug!(host = %host, "no such app");
                pages::no_such_app(&host)
            }
        }
    }
}

/// The request's host: `:authority` (HTTP/2, absolute-form) or `Host`, normalized.
pub(crate) fn request_host<B>(req: &Request<B>) -> Option<String> {
    let raw = match req.uri().authority() {
        Some(a) => a.as_str(),
        None => req.headers().get(header::HOST)?.to_str().ok()?,
    };
    let host = normalize_host(raw);
    (!host.is_empty()).then_some(host)
}

/// Lowercase, without port, userinfo, IPv6 brackets or a trailing dot.
pub(crate) fn normalize_host(raw: &str) -> String {
    let raw = raw.trim();
    let raw = raw.rsplit_once('@').map_or(raw, |(_, h)| h);
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => raw,
        }
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_normalization() {
        assert_eq!(normalize_host("MyApp.LocalHost:8443"), "myapp.localhost");
        assert_eq!(normalize_host("localhost."), "localhost");
        assert_eq!(normalize_host("[::1]:443"), "::1");
        assert_eq!(normalize_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(normalize_host("example.com:"), "example.com");
    }
}

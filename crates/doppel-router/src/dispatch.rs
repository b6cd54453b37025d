//! Host dispatch: ACME challenges and redirects on plain HTTP; on HTTPS the platform's upstream,
//! a proxied environment, or "No such app".

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::{header, HeaderValue, Request, Response, Version};
use hyper::body::Incoming;

use crate::body::RespBody;
use crate::compiled::Live;
use crate::conn::{normalize_host, request_host, ConnInfo};
use crate::pages;
use crate::proxy::Proxy;

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
            Some(h) => h == self.domain || h == self.dashboard || is_ip_literal(h),
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

/// Whether the host is an IP address (the platform answers those). Only names that could be
/// one are parsed: an app's host name does not start with a digit as a rule, and parsing
/// every request's host as an address showed in the router's profile.
fn is_ip_literal(host: &str) -> bool {
    let plausible = host.as_bytes().first().is_some_and(u8::is_ascii_digit) || host.contains(':');
    plausible && host.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_ip_literal;

    #[test]
    fn ip_literals_are_told_from_names() {
        assert!(is_ip_literal("127.0.0.1"));
        assert!(is_ip_literal("::1"));
        assert!(is_ip_literal("fe80::1"));
        assert!(!is_ip_literal("1password.example.com"));
        assert!(!is_ip_literal("myapp.example.com"));
        assert!(!is_ip_literal(""));
    }
}

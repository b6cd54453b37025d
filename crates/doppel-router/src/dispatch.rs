//! Host dispatch: the platform's axum router, a proxied environment, or "No such app".

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{header, Request, Response};
use hyper::body::Incoming;
use tower::ServiceExt;

use crate::pages;
use crate::proxy::Proxy;
use crate::table::SharedRouteTable;

/// What the router knows about the client connection a request came on.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub tls: bool,
}

/// Chooses where each request goes.
pub(crate) struct Dispatcher {
    domain: String,
    /// `dashboard.<domain>`: the web dashboard, served by the platform too.
    dashboard: String,
    /// The HTTPS port clients use, for redirects from plain HTTP.
    https_port: u16,
    platform: axum::Router,
    table: SharedRouteTable,
    proxy: Proxy,
}

impl Dispatcher {
    pub(crate) fn new(
        domain: &str,
        https_port: u16,
        platform: axum::Router,
        table: SharedRouteTable,
        proxy: Proxy,
    ) -> Self {
        Self {
            domain: normalize_host(domain),
            dashboard: normalize_host(&format!("{}.{domain}", doppel_types::DASHBOARD_NAME)),
            https_port,
            platform,
            table,
            proxy,
        }
    }

    pub(crate) async fn handle(
        &self,
        mut req: Request<Incoming>,
        conn: &ConnInfo,
    ) -> Result<Response<Body>, Infallible> {
        let host = request_host(&req);
        if !conn.tls {
            return Ok(crate::redirect::to_https(
                &req,
                host.as_deref(),
                self.https_port,
            ));
        }
        let is_platform = match host.as_deref() {
            None => true,
            Some(h) => h == self.domain || h == self.dashboard || h.parse::<IpAddr>().is_ok(),
        };
        if is_platform {
            req.extensions_mut().insert(ConnectInfo(conn.peer));
            return self.platform.clone().oneshot(req).await;
        }
        let host = host.unwrap_or_default();
        let route = self.table.load().get(&host).cloned();
        Ok(match route {
            Some(route) => self.proxy.forward(req, &route, &host, conn).await,
            None => {
                tracing::debug!(host = %host, "no such app");
                pages::no_such_app(&host)
            }
        })
    }
}

/// The request's host: `:authority` (HTTP/2, absolute-form) or `Host`, normalized.
fn request_host<B>(req: &Request<B>) -> Option<String> {
    let raw = match req.uri().authority() {
        Some(a) => a.as_str().to_owned(),
        None => req.headers().get(header::HOST)?.to_str().ok()?.to_owned(),
    };
    let host = normalize_host(&raw);
    (!host.is_empty()).then_some(host)
}

/// Lowercase, without port, userinfo, IPv6 brackets or a trailing dot.
fn normalize_host(raw: &str) -> String {
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

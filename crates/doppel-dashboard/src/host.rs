//! The platform serves two hosts: `<domain>` (the API and git) and `dashboard.<domain>` (the
//! dashboard). The router hands both to the platform's one service; this picks by `Host`.

use axum::extract::Request;
use axum::Router;
use tower::ServiceExt;

/// The platform's service: requests for `dashboard_host` go to `dashboard`, all others to
/// `platform` (the API and git, whose own checks then apply).
pub fn with_dashboard(platform: Router, dashboard: Router, dashboard_host: &str) -> Router {
    let host = dashboard_host.to_ascii_lowercase();
    Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let target = if request_host(&req).as_deref() == Some(host.as_str()) {
            dashboard.clone()
        } else {
            platform.clone()
        };
        async move { target.oneshot(req).await }
    }))
}

/// The request's host without port, lowercase: `:authority` (HTTP/2) or `Host`.
pub(crate) fn request_host(req: &Request) -> Option<String> {
    let raw = match req.uri().authority() {
        Some(a) => a.host().to_string(),
        None => {
            let value = req.headers().get(http::header::HOST)?.to_str().ok()?;
            match value.rsplit_once(':') {
                Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h.to_string(),
                _ => value.to_string(),
            }
        }
    };
    Some(raw.trim_end_matches('.').to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;

    async fn answer(router: &Router, host: &str) -> String {
        let req = Request::builder()
            .uri("/who")
            .header("Host", host)
            .body(Body::empty());
        let Ok(req) = req else { return String::new() };
        let Ok(resp) = router.clone().oneshot(req).await;
        let bytes = axum::body::to_bytes(resp.into_body(), 1024).await;
        String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
    }

    #[tokio::test]
    async fn the_dashboard_host_reaches_the_dashboard_only() {
        let platform = Router::new().route("/who", get(|| async { "api" }));
        let dashboard = Router::new().route("/who", get(|| async { "dashboard" }));
        let both = with_dashboard(platform, dashboard, "dashboard.localhost");
        assert_eq!(answer(&both, "dashboard.localhost:8443").await, "dashboard");
        assert_eq!(answer(&both, "Dashboard.LocalHost").await, "dashboard");
        assert_eq!(answer(&both, "localhost:8443").await, "api");
        assert_eq!(answer(&both, "127.0.0.1").await, "api");
        assert_eq!(answer(&both, "dashboard.localhost.evil").await, "api");
    }
}

//! What is decided before any dyno is contacted: the IP allow-list, staging credentials,
//! maintenance, request limits, and the page for a route that has no backend.

use http::header;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::auth;
use crate::body::RespBody;
use crate::compiled::{self, CompiledRoute};
use crate::conn::ConnInfo;
use crate::headers;
use crate::log::RouterLog;
use crate::pages;
use crate::table::RouteStatus;

/// `Some(page)` when the request ends at the router; the log line gets the code.
pub(crate) fn before_dynos(
    req: &Request<Incoming>,
    route: &CompiledRoute,
    conn: &ConnInfo,
    max_body_bytes: u64,
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
        let page = pages::maintenance(&route.env);
        return Some(match &route.pages.maintenance {
            Some(url) => pages::framed(page, url),
            None => page,
        });
    }
    if let Some(page) = request_limits(req, max_body_bytes) {
        log.error = Some(("H26", "Request Error"));
        return Some(page);
    }
    None
}

fn request_limits(req: &Request<Incoming>, max_body_bytes: u64) -> Option<Response<RespBody>> {
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
    if declared.is_some_and(|n| n > max_body_bytes) {
        return Some(too_large(max_body_bytes));
    }
    None
}

/// 413 for a body over the limit.
pub(crate) fn too_large(max_body_bytes: u64) -> Response<RespBody> {
    pages::bad_request(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is larger than {max_body_bytes} bytes"),
    )
}

/// The Heroku codes of the app errors the router answers itself, which an app's
/// `ERROR_PAGE_URL` replaces (not H80/H81, not its refusals: 401, 403, H26).
const APP_ERRORS: [&str; 7] = ["H10", "H12", "H13", "H14", "H19", "H20", "H21"];

/// The router's page for the request `log` describes, or the app's own error page framed
/// in it when the error is the app's and its route has one.
pub(crate) fn app_error_page(
    page: Response<RespBody>,
    log: &RouterLog,
    route: Option<&CompiledRoute>,
) -> Response<RespBody> {
    let is_app_error = log
        .error
        .is_some_and(|(code, _)| APP_ERRORS.contains(&code));
    match route.and_then(|r| r.pages.error.as_deref()) {
        Some(url) if is_app_error => pages::framed(page, url),
        _ => page,
    }
}

/// The page (and log code) for a route without backends.
pub(crate) fn no_backend_page(route: &CompiledRoute, log: &mut RouterLog) -> Response<RespBody> {
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

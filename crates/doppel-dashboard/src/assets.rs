//! The dashboard's only static files, compiled into the binary: one style sheet and one
//! small script (live updates, confirmations). Nothing is fetched from anywhere else.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::StatusCode;

/// The style sheet.
pub const CSS: &str = include_str!("../assets/dashboard.css");
/// The script (no inline script anywhere: the CSP allows only this file).
pub const JS: &str = include_str!("../assets/dashboard.js");

/// `GET /static/{file}` (served signed in or not: the login page needs the style too).
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "dashboard.css" => (CSS, "text/css; charset=utf-8"),
        "dashboard.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

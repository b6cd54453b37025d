//! Output streams: plain text at capability URLs (unguessable, no token needed, as Heroku's
//! `output_stream_url`). A running build's output is sent as it is written and the response
//! ends with the build; a finished build's is its stored log.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use doppel_control::logic::builds::{self, BuildOutput};
use doppel_control::state::AppState;
use futures_util::stream;

/// The stream routes (outside token authentication: the URL is the credential).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(builds::OUTPUT_ROUTE, get(build_output))
        .with_state(state)
}

/// `GET /streams/builds/{build}/{token}`.
async fn build_output(
    State(state): State<AppState>,
    Path((build, token)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let body = match builds::output(&state, &build, &token).await? {
        BuildOutput::Stored(text) => Body::from(text),
        BuildOutput::Live(reader) => Body::from_stream(stream::unfold(reader, |mut r| async {
            let lines = r.next_lines().await?;
            let mut chunk = lines.join("\n");
            chunk.push('\n');
            Some((Ok::<_, std::convert::Infallible>(chunk), r))
        })),
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

//! `POST /apps/{app}/log-sessions` and the `logplex_url` it answers: the environment's log,
//! its last lines and (with `tail`) new ones as they come, as plain text lines, or as
//! server-sent events (`data: <line>`) when the client asks for `text/event-stream` (the
//! Heroku CLI v11 does). The URL is the credential: it needs no token.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use super::body::Body;
use super::error::ApiError;
use axum::body::Body as ResponseBody;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use doppel_api_types::logs::{LogSession, LogSessionCreate};
use doppel_control::logic::logs::{self, SessionRequest};
use doppel_control::logic::Actor;
use doppel_control::logs::{LogLine, SOURCE_HEROKU};
use doppel_control::state::AppState;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;

/// How often an idle event stream gets a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `POST /apps/{app}/log-sessions {dyno?, lines?, source?, tail?}`.
pub async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<LogSessionCreate>,
) -> Result<(StatusCode, Json<LogSession>), ApiError> {
    let request = SessionRequest {
        dyno: body.dyno_filter().map(str::to_string),
        source: body.source.clone(),
        lines: body.lines.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        tail: body.tail.unwrap_or(false),
    };
    let (_, url) = logs::create_session(&state, &actor, &app, request).await?;
    let now = super::views::rfc3339(time::OffsetDateTime::now_utc());
    Ok((
        StatusCode::CREATED,
        Json(LogSession {
            id: uuid::Uuid::new_v4().to_string(),
            logplex_url: url,
            created_at: now.clone(),
            updated_at: now,
        }),
    ))
}

/// The unauthenticated routes: `GET /log-sessions/{secret}`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/log-sessions/{secret}", get(read))
        .with_state(state)
}

/// `GET /log-sessions/{secret}`: the session's lines.
async fn read(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let session = logs::open_session(&state, &secret)?;
    let sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    // Subscribe before reading the past, so no line falls between the two.
    let live = session
        .tail
        .then(|| state.logs().subscribe(&session.env_id));
    let past = state
        .logs()
        .recent(&session.env_id, session.lines, &session.filter)
        .await;
    let last = past.last().map(|l| l.time);
    let seen: Vec<String> = past
        .iter()
        .filter(|l| Some(l.time) == last)
        .map(LogLine::render)
        .collect();
    let history = stream::iter(past.into_iter().map(|l| l.render()));
    let lines: std::pin::Pin<Box<dyn Stream<Item = String> + Send>> = match live {
        Some(rx) => {
            let filter = session.filter.clone();
            let fresh = tail(rx).filter(move |l| {
                let keep = filter.matches(l)
                    && last
                        .is_none_or(|t| l.time > t || (l.time == t && !seen.contains(&l.render())));
                std::future::ready(keep)
            });
            Box::pin(history.chain(fresh.map(|l| l.render())))
        }
        None => Box::pin(history),
    };
    let (content_type, body) = if sse {
        let events = lines.map(|l| Ok::<_, Infallible>(Bytes::from(format!("data: {l}\n\n"))));
        let events = with_keep_alive(events, session.tail);
        ("text/event-stream", ResponseBody::from_stream(events))
    } else {
        let text = lines.map(|l| Ok::<_, Infallible>(Bytes::from(format!("{l}\n"))));
        ("text/plain; charset=utf-8", ResponseBody::from_stream(text))
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// New lines from a subscription; a subscriber that fell behind is told (Heroku's L11).
fn tail(rx: broadcast::Receiver<Arc<LogLine>>) -> impl Stream<Item = LogLine> + Send {
    stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(line) => Some(((*line).clone(), rx)),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                let text = format!(
                    "Error L11 (Tail buffer overflow) -> This tail client is lagging behind and {n} lines were dropped"
                );
                Some((LogLine::now(SOURCE_HEROKU, "logplex", text), rx))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
}

/// Interleaves `: keep-alive` comments into an event stream that tails.
fn with_keep_alive(
    events: impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
    tail: bool,
) -> std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>> {
    if !tail {
        return Box::pin(events);
    }
    let ticks = stream::unfold((), |()| async {
        tokio::time::sleep(KEEP_ALIVE).await;
        Some((Ok(Bytes::from_static(b": keep-alive\n\n")), ()))
    });
    Box::pin(stream::select(events, ticks))
}

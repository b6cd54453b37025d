//! The router's control socket (`<data-dir>/router/control.sock`, mode 0600): HTTP/1.1 with
//! JSON bodies over a Unix socket. The control plane publishes the route table through it and
//! reads the router's log lines from it; operators ask for status, a zero-downtime upgrade or
//! a stop.
//!
//! | request | answer |
//! |---|---|
//! | `GET /v1/status` | [`RouterStatus`] |
//! | `PUT /v1/table` (a [`RouteTable`]) | [`TableApplied`]: served from the next request on, then persisted |
//! | `GET /v1/logs` | [`RouterLine`]s as they happen, one a line: `<unix ms>\t<env>\t<line>` |
//! | `GET /v1/inflight?addr=IP:PORT` | [`Inflight`]: requests still running on that dyno |
//! | `POST /v1/upgrade` | [`Upgraded`], once a new process of the binary serves from the same sockets |
//! | `POST /v1/stop` | 202, then the router drains and exits |

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::log::{LogSink, RouterLine};
use crate::server::Router;
use crate::table::RouteTable;

/// Largest route table accepted (10,000 routes with credentials are a few MB).
const MAX_TABLE_BYTES: usize = 256 << 20;

/// What `GET /v1/status` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterStatus {
    pub pid: u32,
    /// The binary the router runs (its path when it started).
    pub exe: String,
    /// The binary's modification time when the router started (Unix seconds): a newer file at
    /// the same path means the router runs an older build.
    pub exe_mtime: u64,
    pub started_at_ms: u64,
    /// The digest of the table served (empty before the first one).
    pub table_digest: String,
    pub routes: usize,
    /// `ip:port` of the listeners.
    pub https: String,
    pub http: Option<String>,
    pub open_connections: usize,
}

/// What `PUT /v1/table` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableApplied {
    pub digest: String,
}

/// What `GET /v1/inflight` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inflight {
    pub inflight: usize,
}

/// What `POST /v1/upgrade` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upgraded {
    /// The new router process.
    pub pid: u32,
}

/// The digest of a serialized table, as the router reports it.
pub fn table_digest(json: &[u8]) -> String {
    blake3::hash(json).to_hex().to_string()
}

/// The router's log lines, fanned out to whoever reads `GET /v1/logs` (already in their wire
/// form, made once whatever the number of readers).
#[derive(Clone)]
pub(crate) struct LogFeed {
    tx: broadcast::Sender<Bytes>,
}

impl LogFeed {
    pub(crate) fn new() -> LogFeed {
        let (tx, _) = broadcast::channel(16 * 1024);
        LogFeed { tx }
    }
}

impl LogSink for LogFeed {
    fn enabled(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    fn router_line(&self, line: RouterLine) {
        let mut wire = BytesMut::with_capacity(line.line.len() + line.env.len() + 24);
        wire.extend_from_slice(itoa::Buffer::new().format(line.at_ms).as_bytes());
        wire.extend_from_slice(b"\t");
        wire.extend_from_slice(line.env.as_bytes());
        wire.extend_from_slice(b"\t");
        wire.extend_from_slice(line.line.as_bytes());
        wire.extend_from_slice(b"\n");
        // No reader or a lagging one: the line is dropped, never waited for.
        let _ = self.tx.send(wire.freeze());
    }
}

/// Reads one wire line (without its newline).
fn parse_line(wire: &[u8]) -> Option<RouterLine> {
    let text = std::str::from_utf8(wire).ok()?;
    let mut parts = text.splitn(3, '\t');
    let at_ms = parts.next()?.parse().ok()?;
    let env = std::sync::Arc::from(parts.next()?);
    let line = parts.next()?.to_owned();
    Some(RouterLine { env, at_ms, line })
}

/// Lines sent in one frame at most.
const LOG_BATCH_BYTES: usize = 64 * 1024;
/// How long a line may wait for others to share its frame.
const LOG_BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(10);

/// Requests the control socket passes to the process.
#[derive(Debug)]
pub(crate) enum Command {
    Upgrade(oneshot::Sender<Result<u32, String>>),
    Stop,
}

/// What the control socket's handlers work with.
pub(crate) struct ControlState {
    pub router: Arc<Router>,
    pub logs: LogFeed,
    pub commands: mpsc::Sender<Command>,
    pub status: RouterStatus,
    pub persist: Arc<dyn Fn(Bytes) + Send + Sync>,
    /// The control connections being served: a router that stops or handed over gives them a
    /// moment to finish (the answer to `POST /v1/upgrade` above all) before it exits, so the
    /// caller is not cut off mid-answer.
    pub answering: tokio_util::task::TaskTracker,
}

type CtlBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// Serves the control socket until the listener is dropped (the task aborted).
pub(crate) async fn serve(listener: Arc<UnixListener>, state: Arc<ControlState>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "control socket accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let state = state.clone();
        let answering = state.answering.clone();
        answering.spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "control connection ended with an error");
            }
        });
    }
}

async fn handle(state: &ControlState, req: Request<Incoming>) -> Response<CtlBody> {
    let path = req.uri().path().to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/v1/status") => json(StatusCode::OK, &status(state)),
        (Method::PUT, "/v1/table") => put_table(state, req).await,
        (Method::GET, "/v1/logs") => logs(state),
        (Method::GET, "/v1/inflight") => inflight(state, &req),
        (Method::POST, "/v1/upgrade") => upgrade(state).await,
        (Method::POST, "/v1/stop") => {
            let _ = state.commands.send(Command::Stop).await;
            text(StatusCode::ACCEPTED, "stopping\n")
        }
        _ => text(StatusCode::NOT_FOUND, "no such control request\n"),
    }
}

fn status(state: &ControlState) -> RouterStatus {
    let (table, digest) = state.router.current();
    RouterStatus {
        table_digest: digest,
        routes: table.routes.len(),
        open_connections: state.router.open_connections(),
        ..state.status.clone()
    }
}

async fn put_table(state: &ControlState, req: Request<Incoming>) -> Response<CtlBody> {
    let body = match Limited::new(req.into_body(), MAX_TABLE_BYTES)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => return text(StatusCode::PAYLOAD_TOO_LARGE, &format!("{e}\n")),
    };
    let table: RouteTable = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "refused an unreadable route table; serving the last one");
            return text(
                StatusCode::BAD_REQUEST,
                &format!("unreadable route table: {e}\n"),
            );
        }
    };
    let digest = table_digest(&body);
    state.router.apply(Arc::new(table), digest.clone());
    (state.persist)(body);
    json(StatusCode::OK, &TableApplied { digest })
}

fn logs(state: &ControlState) -> Response<CtlBody> {
    let rx = state.logs.tx.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let first = loop {
            match rx.recv().await {
                Ok(line) => break line,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(dropped = n, "a log reader fell behind; lines dropped");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        };
        // Lines that come within a few milliseconds go in one frame: one write for many.
        tokio::time::sleep(LOG_BATCH_DELAY).await;
        let mut batch = BytesMut::from(&first[..]);
        while batch.len() < LOG_BATCH_BYTES {
            match rx.try_recv() {
                Ok(line) => batch.extend_from_slice(&line),
                Err(_) => break,
            }
        }
        Some((Ok::<_, Infallible>(Frame::data(batch.freeze())), rx))
    });
    let body = http_body_util::StreamBody::new(stream);
    let mut resp = Response::new(BodyExt::boxed(body));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-ndjson"),
    );
    resp
}

fn inflight(state: &ControlState, req: &Request<Incoming>) -> Response<CtlBody> {
    let addr = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("addr=")))
        .and_then(|a| a.parse().ok());
    match addr {
        Some(addr) => json(
            StatusCode::OK,
            &Inflight {
                inflight: state.router.inflight_to(addr),
            },
        ),
        None => text(StatusCode::BAD_REQUEST, "addr=IP:PORT is required\n"),
    }
}

async fn upgrade(state: &ControlState) -> Response<CtlBody> {
    let (tx, rx) = oneshot::channel();
    if state.commands.send(Command::Upgrade(tx)).await.is_err() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the router is stopping\n");
    }
    match rx.await {
        Ok(Ok(pid)) => json(StatusCode::OK, &Upgraded { pid }),
        Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "upgrade abandoned\n"),
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<CtlBody> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(BodyExt::boxed(Full::new(Bytes::from(body))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

fn text(status: StatusCode, message: &str) -> Response<CtlBody> {
    let mut resp = Response::new(BodyExt::boxed(Full::new(Bytes::from(message.to_owned()))));
    *resp.status_mut() = status;
    resp
}

/// Why a control request failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nothing answers on the socket: no router runs on this data directory.
    #[error("no router answers on {path}: {source}")]
    NotRunning {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("talking to the router: {0}")]
    Http(#[from] hyper::Error),
    #[error("the router answered {status}: {message}")]
    Refused { status: StatusCode, message: String },
    #[error("the router's answer is unreadable: {0}")]
    Decode(#[from] serde_json::Error),
}

/// The control plane's (and the CLI's) side of the control socket.
#[derive(Debug, Clone)]
pub struct ControlClient {
    socket: PathBuf,
}

impl ControlClient {
    pub fn new(socket: impl Into<PathBuf>) -> ControlClient {
        ControlClient {
            socket: socket.into(),
        }
    }

    /// The client for the router of a data directory.
    pub fn for_data_dir(data_dir: &Path) -> ControlClient {
        ControlClient::new(crate::paths::control_socket(data_dir))
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<Incoming>, ControlError> {
        let stream =
            UnixStream::connect(&self.socket)
                .await
                .map_err(|source| ControlError::NotRunning {
                    path: self.socket.clone(),
                    source,
                })?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, "doppel-router")
            .body(Full::new(body))
            .map_err(|e| ControlError::Refused {
                status: StatusCode::BAD_REQUEST,
                message: e.to_string(),
            })?;
        let resp = sender.send_request(req).await?;
        if !resp.status().is_success() {
            let status = resp.status();
            let message = resp
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).trim().to_owned())
                .unwrap_or_default();
            return Err(ControlError::Refused { status, message });
        }
        Ok(resp)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<T, ControlError> {
        let resp = self.send(method, path, body).await?;
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok(serde_json::from_slice(&bytes)?)
    }

    pub async fn status(&self) -> Result<RouterStatus, ControlError> {
        self.call(Method::GET, "/v1/status", Bytes::new()).await
    }

    /// Publishes a serialized [`RouteTable`]; answers with its digest once it serves.
    pub async fn put_table(&self, json: Bytes) -> Result<TableApplied, ControlError> {
        self.call(Method::PUT, "/v1/table", json).await
    }

    pub async fn inflight(&self, addr: std::net::SocketAddr) -> Result<usize, ControlError> {
        let i: Inflight = self
            .call(
                Method::GET,
                &format!("/v1/inflight?addr={addr}"),
                Bytes::new(),
            )
            .await?;
        Ok(i.inflight)
    }

    /// Asks for a zero-downtime restart on the binary at the router's path; answers with the
    /// new process's id once it serves.
    pub async fn upgrade(&self) -> Result<Upgraded, ControlError> {
        self.call(Method::POST, "/v1/upgrade", Bytes::new()).await
    }

    pub async fn stop(&self) -> Result<(), ControlError> {
        self.send(Method::POST, "/v1/stop", Bytes::new()).await?;
        Ok(())
    }

    /// The router's log lines from now on.
    pub async fn logs(&self) -> Result<LogStream, ControlError> {
        let resp = self.send(Method::GET, "/v1/logs", Bytes::new()).await?;
        Ok(LogStream {
            body: resp.into_body(),
            buf: BytesMut::new(),
        })
    }
}

/// The lines of `GET /v1/logs`.
pub struct LogStream {
    body: Incoming,
    buf: BytesMut,
}

impl LogStream {
    /// The next line; `None` when the router closed the stream (it stopped or restarted).
    pub async fn next(&mut self) -> Option<RouterLine> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line = self.buf.split_to(pos + 1);
                match parse_line(&line[..pos]) {
                    Some(l) => return Some(l),
                    None => {
                        tracing::warn!("unreadable router log line skipped");
                        continue;
                    }
                }
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(mut data) = frame.into_data() {
                while data.has_remaining() {
                    let chunk = data.chunk();
                    self.buf.extend_from_slice(chunk);
                    let n = chunk.len();
                    data.advance(n);
                }
            }
        }
    }
}

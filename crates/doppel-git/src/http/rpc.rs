//! `POST /{repo}/git-receive-pack` and `POST /{repo}/git-upload-pack`: stateless RPC through git.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr};
use tokio::sync::{mpsc, OwnedMutexGuard};

use super::access::{authorize, internal, not_a_repo, plain};
use super::body::{self, BodyReader};
use super::pump::{pump, PumpOutcome};
use super::{git_protocol, parse_repo_segment, Service};
use crate::callback::HookSocket;
use crate::command::git_bare;
use crate::hook::SOCKET_ENV;
use crate::pkt::sideband;
use crate::relay::PktReader;
use crate::GitService;

/// What the driver task tells the HTTP handler.
enum Event {
    /// Response bytes (whole packets).
    Data(Bytes),
    /// Only as the first event: answer with this status and text instead of a stream.
    Fail(StatusCode, String),
}

pub(crate) async fn receive_pack(
    State(svc): State<Arc<GitService>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    rpc(svc, &segment, Service::ReceivePack, headers, body).await
}

pub(crate) async fn upload_pack(
    State(svc): State<Arc<GitService>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    rpc(svc, &segment, Service::UploadPack, headers, body).await
}

async fn rpc(
    svc: Arc<GitService>,
    segment: &str,
    service: Service,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(repo) = parse_repo_segment(segment) else {
        return not_a_repo();
    };
    let pusher = match authorize(&svc, repo, &headers, service.is_write()).await {
        Ok(pusher) => pusher,
        Err(resp) => return resp,
    };
    // Pushes are serialized per repository for the whole request.
    let (guard, path) = if service == Service::ReceivePack {
        let guard = svc.lock(repo).await;
        match svc.open_repo_locked(repo).await {
            Ok(p) => (Some(guard), p),
            Err(e) => return internal(repo, "opening repository", &e),
        }
    } else {
        match svc.open_repo(repo).await {
            Ok(p) => (None, p),
            Err(e) => return internal(repo, "opening repository", &e),
        }
    };
    let hook = if service == Service::ReceivePack {
        match HookSocket::bind() {
            Ok(s) => Some(s.for_pusher(pusher)),
            Err(e) => return internal(repo, "creating push socket", &e),
        }
    } else {
        None
    };

    let mut cmd = git_bare();
    cmd.args([service.subcommand(), "--stateless-rpc"])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match (&hook, service) {
        (Some(h), _) => {
            cmd.env(SOCKET_ENV, h.path());
        }
        (None, Service::UploadPack) => {
            if let Some(proto) = git_protocol(&headers) {
                cmd.env("GIT_PROTOCOL", proto);
            }
        }
        _ => {}
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return internal(repo, "starting git", &e),
    };

    let (tx, mut rx) = mpsc::channel(16);
    let job = Job {
        svc: svc.clone(),
        repo: repo.to_owned(),
        path,
        service,
        body: body::reader(&headers, body),
        hook,
        guard,
    };
    tokio::spawn(job.drive(child, tx));

    let content_type = format!("application/x-{}-result", service.name());
    match rx.recv().await {
        None => ok_response(content_type, Body::empty()),
        Some(Event::Fail(status, msg)) => plain(status, msg),
        Some(Event::Data(first)) => {
            let stream =
                futures_util::stream::unfold((Some(first), rx), |(first, mut rx)| async move {
                    if let Some(b) = first {
                        return Some((Ok::<_, std::io::Error>(b), (None, rx)));
                    }
                    match rx.recv().await {
                        Some(Event::Data(b)) => Some((Ok(b), (None, rx))),
                        _ => None,
                    }
                });
            ok_response(content_type, Body::from_stream(stream))
        }
    }
}

fn ok_response(content_type: String, body: Body) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Everything one RPC request owns until git has exited.
struct Job {
    svc: Arc<GitService>,
    repo: String,
    path: PathBuf,
    service: Service,
    body: BodyReader,
    hook: Option<HookSocket>,
    /// The per-repository push lock, released when the job ends.
    guard: Option<OwnedMutexGuard<()>>,
}

impl Job {
    /// Runs the git process to completion: body in, packets out, hook answered. Keeps
    /// running if the client disconnects, so the lock is held until git is done.
    async fn drive(self, mut child: Child, tx: mpsc::Sender<Event>) {
        let Job {
            svc,
            repo,
            path,
            service,
            body,
            hook,
            guard,
        } = self;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = tx
                .send(Event::Fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error.".into(),
                ))
                .await;
            return;
        };
        let hook_task =
            hook.map(|h| tokio::spawn(h.serve(svc.handler.clone(), repo.clone(), path)));
        let stderr_task = tokio::spawn(read_capped(stderr));
        let tripped = Arc::new(AtomicBool::new(false));
        let pump_task = tokio::spawn(pump(body, stdin, svc.max_push_bytes, tripped.clone()));

        let mut out = PktReader::new(stdout);
        let mut sent_any = false;
        let mut client_gone = false;
        loop {
            match out.next().await {
                Ok(Some(pkt)) => {
                    if tripped.load(Ordering::SeqCst) || client_gone {
                        continue;
                    }
                    if tx.send(Event::Data(pkt)).await.is_err() {
                        client_gone = true;
                    } else {
                        sent_any = true;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(repo, error = %e, "reading git output failed");
                    break;
                }
            }
        }
        let status = child.wait().await;
        let (outcome, sideband_ok) = pump_task.await.unwrap_or((PumpOutcome::GitClosed, false));
        if let Some(t) = hook_task {
            t.abort();
        }
        let stderr = stderr_task.await.unwrap_or_default();
        let success = status.as_ref().is_ok_and(|s| s.success());

        match outcome {
            PumpOutcome::TooLarge => {
                let msg = format!(
                    "push rejected: request body exceeds the limit of {} bytes",
                    svc.max_push_bytes
                );
                tracing::info!(
                    repo,
                    limit = svc.max_push_bytes,
                    "request rejected: too large"
                );
                if sideband_ok && service == Service::ReceivePack {
                    // Band 3: the client prints it as a `remote:` line and aborts.
                    let data = sideband(3, msg.as_bytes());
                    let _ = tx.send(Event::Data(Bytes::from(data))).await;
                } else if !sent_any {
                    let _ = tx
                        .send(Event::Fail(StatusCode::PAYLOAD_TOO_LARGE, msg))
                        .await;
                }
            }
            PumpOutcome::BodyError(e) => {
                tracing::info!(repo, error = %e, "reading request body failed");
                if !sent_any {
                    let _ = tx
                        .send(Event::Fail(
                            StatusCode::BAD_REQUEST,
                            format!("Bad request body: {e}"),
                        ))
                        .await;
                }
            }
            PumpOutcome::Done | PumpOutcome::GitClosed if !success && !sent_any => {
                let reason = fatal_line(&stderr);
                tracing::info!(repo, service = service.name(), %reason, "git rejected the request");
                let _ = tx
                    .send(Event::Fail(
                        StatusCode::BAD_REQUEST,
                        format!("git {}: {reason}", service.subcommand()),
                    ))
                    .await;
            }
            PumpOutcome::Done | PumpOutcome::GitClosed => {}
        }
        match status {
            Ok(s) if s.success() => {
                tracing::debug!(repo, service = service.name(), "git request finished")
            }
            Ok(s) => {
                tracing::info!(repo, service = service.name(), status = %s, stderr = %String::from_utf8_lossy(&stderr).trim(), "git exited unsuccessfully")
            }
            Err(e) => tracing::warn!(repo, error = %e, "waiting for git failed"),
        }
        drop(guard);
    }
}

/// Collects at most 64 KiB of stderr (and discards the rest so git never blocks on it).
async fn read_capped(mut stderr: ChildStderr) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                if kept.len() < 64 * 1024 {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
        }
    }
}

/// The most telling line of git's stderr, without the `fatal: ` prefix.
fn fatal_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("fatal: "))
        .or_else(|| text.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("request failed");
    line.trim_start_matches("fatal: ").trim().to_owned()
}

//! Server side of the per-push hook socket: receives the hook's request, runs
//! [`crate::PushHandler::pre_receive`] and streams its output and verdict back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};

use crate::command::{git, run};
use crate::push::{Push, RefUpdate, ZERO_OID};
use crate::wire::{self, HookRequest};
use crate::{GitError, ProgressSink, PushHandler};

/// A listening per-push socket in a private (0700) temporary directory.
pub(crate) struct HookSocket {
    dir: tempfile::TempDir,
    listener: UnixListener,
    pusher: Option<String>,
}

impl HookSocket {
    pub(crate) fn bind() -> Result<HookSocket, GitError> {
        // tempfile creates directories with mode 0700 on unix.
        let dir = tempfile::Builder::new()
            .prefix("doppel-push-")
            .tempdir()
            .map_err(|e| GitError::io("creating push socket dir", std::env::temp_dir(), e))?;
        let path = dir.path().join("hook.sock");
        let listener =
            UnixListener::bind(&path).map_err(|e| GitError::io("binding push socket", &path, e))?;
        Ok(HookSocket {
            dir,
            listener,
            pusher: None,
        })
    }

    /// Attributes the push this socket serves to `pusher`.
    pub(crate) fn for_pusher(mut self, pusher: Option<String>) -> HookSocket {
        self.pusher = pusher;
        self
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("hook.sock")
    }

    /// Serves the (single) hook connection of this push. Runs until the hook is answered; the
    /// caller aborts it when receive-pack has exited without running the hook.
    pub(crate) async fn serve(self, handler: Arc<dyn PushHandler>, repo: String, git_dir: PathBuf) {
        let conn = match self.listener.accept().await {
            Ok((conn, _)) => conn,
            Err(e) => {
                tracing::warn!(repo, error = %e, "accepting pre-receive hook connection failed");
                return;
            }
        };
        if let Err(e) = answer(conn, handler, &repo, &git_dir, self.pusher.clone()).await {
            tracing::warn!(repo, error = %e, "pre-receive hook callback failed");
        }
        drop(self.dir);
    }
}

async fn answer(
    mut conn: UnixStream,
    handler: Arc<dyn PushHandler>,
    repo: &str,
    git_dir: &Path,
    pusher: Option<String>,
) -> Result<(), GitError> {
    let io = |e: std::io::Error| GitError::Protocol(e.to_string());
    let request = match wire::read_frame_async(&mut conn).await.map_err(io)? {
        Some((wire::KIND_REQUEST, payload)) => serde_json::from_slice::<HookRequest>(&payload)
            .map_err(|e| GitError::Protocol(format!("bad request: {e}")))?,
        _ => return Err(GitError::Protocol("expected a request frame".into())),
    };
    let mut updates = Vec::new();
    for line in request.stdin.lines().filter(|l| !l.trim().is_empty()) {
        match RefUpdate::parse_line(line) {
            Some(u) => updates.push(u),
            None => {
                let msg = "push rejected: malformed ref update from git\n";
                conn.write_all(&wire::encode(wire::KIND_OUTPUT, msg.as_bytes()))
                    .await
                    .map_err(io)?;
                conn.write_all(&wire::encode_exit(1)).await.map_err(io)?;
                return Err(GitError::Protocol(format!("bad ref line {line:?}")));
            }
        }
    }
    let env = request
        .env
        .into_iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "GIT_OBJECT_DIRECTORY" | "GIT_ALTERNATE_OBJECT_DIRECTORIES" | "GIT_QUARANTINE_PATH"
            )
        })
        .collect();
    // Pushes are serialized, but the client computed `old` before taking its turn: refuse
    // stale updates here, before a build runs for a push git would then refuse anyway.
    if let Some(stale) = stale_update(git_dir, &updates).await? {
        let msg = format!(
            "push rejected: {stale} was changed by a concurrent push; fetch and push again\n"
        );
        conn.write_all(&wire::encode(wire::KIND_OUTPUT, msg.as_bytes()))
            .await
            .map_err(io)?;
        conn.write_all(&wire::encode_exit(1)).await.map_err(io)?;
        return Ok(());
    }
    let push = Push::new(repo, git_dir, updates)
        .with_object_env(env)
        .with_pusher(pusher);
    tracing::info!(
        repo,
        refs = push.updates.len(),
        "pre-receive: running push handler"
    );

    let (sink, mut rx) = ProgressSink::channel(64);
    let mut task = tokio::spawn(async move { handler.pre_receive(push, sink).await });
    let verdict = loop {
        tokio::select! {
            Some(chunk) = rx.recv() => {
                // A write failure means the hook is gone; keep running the handler to its verdict.
                let _ = conn.write_all(&wire::encode(wire::KIND_OUTPUT, &chunk)).await;
            }
            res = &mut task => break res,
        }
    };
    // Output the handler queued before returning.
    while let Ok(chunk) = rx.try_recv() {
        let _ = conn
            .write_all(&wire::encode(wire::KIND_OUTPUT, &chunk))
            .await;
    }
    let code = match verdict {
        Ok(Ok(())) => 0,
        Ok(Err(reason)) => {
            tracing::info!(repo, %reason, "pre-receive: push rejected by handler");
            let mut msg = reason.into_bytes();
            if msg.last() != Some(&b'\n') {
                msg.push(b'\n');
            }
            let _ = conn.write_all(&wire::encode(wire::KIND_OUTPUT, &msg)).await;
            1
        }
        Err(e) => {
            tracing::error!(repo, error = %e, "pre-receive: push handler panicked");
            let msg = b"push rejected: internal error in the doppel server\n";
            let _ = conn.write_all(&wire::encode(wire::KIND_OUTPUT, msg)).await;
            1
        }
    };
    conn.write_all(&wire::encode_exit(code)).await.map_err(io)?;
    conn.shutdown().await.map_err(io)?;
    Ok(())
}

/// The first update whose `old` is not the ref's current value.
async fn stale_update(git_dir: &Path, updates: &[RefUpdate]) -> Result<Option<String>, GitError> {
    let mut cmd = git(git_dir);
    cmd.args(["for-each-ref", "--format=%(objectname) %(refname)"]);
    let out = run(cmd, "for-each-ref").await?;
    let text = String::from_utf8_lossy(&out);
    let current: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(oid, name)| (name, oid)))
        .collect();
    Ok(updates
        .iter()
        .find(|u| current.get(u.refname.as_str()).copied().unwrap_or(ZERO_OID) != u.old)
        .map(|u| u.refname.clone()))
}

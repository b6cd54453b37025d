//! Feeding a request body into git's stdin, with a size limit and a peek at the client's caps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::ChildStdin;

use super::body::BodyReader;
use crate::pkt::{peek_sideband, Peek, MAX_PKT};

/// Bytes still read (and discarded) after a rejected or abandoned body, so the client gets
/// to read the response instead of failing on a broken upload.
const DRAIN_LIMIT: u64 = 1 << 30;

/// How feeding the body ended.
#[derive(Debug)]
pub(crate) enum PumpOutcome {
    /// The whole body reached git.
    Done,
    /// The body exceeded the limit; git's stdin was closed early.
    TooLarge,
    /// git stopped reading (it exited or rejected the input).
    GitClosed,
    /// Reading the body failed (client went away, bad gzip …).
    BodyError(std::io::Error),
}

/// Copies `body` into `stdin`. Sets `tripped` before closing stdin when over `limit`.
/// Reports whether the request negotiated sideband, once known, via the return value.
pub(crate) async fn pump(
    mut body: BodyReader,
    mut stdin: ChildStdin,
    limit: u64,
    tripped: Arc<AtomicBool>,
) -> (PumpOutcome, bool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut head: Vec<u8> = Vec::new();
    let mut sideband: Option<bool> = None;
    let mut total: u64 = 0;
    let outcome = loop {
        let n = match body.read(&mut buf).await {
            Ok(0) => break PumpOutcome::Done,
            Ok(n) => n,
            Err(e) => break PumpOutcome::BodyError(e),
        };
        if sideband.is_none() {
            head.extend_from_slice(&buf[..n]);
            match peek_sideband(&head) {
                Peek::Known { sideband: s } => sideband = Some(s),
                Peek::Incomplete if head.len() > 4 * MAX_PKT => sideband = Some(false),
                Peek::Incomplete => {}
            }
        }
        total = total.saturating_add(n as u64);
        if total > limit {
            tripped.store(true, Ordering::SeqCst);
            drop(stdin);
            drain(&mut body).await;
            return (PumpOutcome::TooLarge, sideband.unwrap_or(false));
        }
        if stdin.write_all(&buf[..n]).await.is_err() {
            drop(stdin);
            drain(&mut body).await;
            return (PumpOutcome::GitClosed, sideband.unwrap_or(false));
        }
    };
    // Closing stdin tells git the request is complete.
    let _ = stdin.shutdown().await;
    drop(stdin);
    (outcome, sideband.unwrap_or(false))
}

async fn drain(body: &mut BodyReader) {
    let mut sink = tokio::io::sink();
    let _ = tokio::io::copy(&mut body.take(DRAIN_LIMIT), &mut sink).await;
}

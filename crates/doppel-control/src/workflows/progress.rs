//! Where a workflow's progress lines go: the pusher's terminal (`remote:` lines), an API
//! client waiting on a stream, a CLI, or nowhere. Every workflow reports the same lines,
//! whoever waits.

use async_trait::async_trait;
use tokio::sync::mpsc;

/// Receives a workflow's progress, one line at a time.
#[async_trait]
pub trait Progress: Send + Sync {
    async fn line(&self, line: &str);
}

/// Progress nobody waits for.
pub struct Silent;

#[async_trait]
impl Progress for Silent {
    async fn line(&self, _line: &str) {}
}

/// Progress sent over a channel (a closed receiver drops the lines: nobody waits any more).
pub struct Lines(pub mpsc::Sender<String>);

#[async_trait]
impl Progress for Lines {
    async fn line(&self, line: &str) {
        let _ = self.0.send(line.to_string()).await;
    }
}

#[async_trait]
impl Progress for doppel_git::ProgressSink {
    async fn line(&self, line: &str) {
        doppel_git::ProgressSink::line(self, line).await;
    }
}

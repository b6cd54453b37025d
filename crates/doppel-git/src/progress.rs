//! [`ProgressSink`]: where a push handler writes lines that the client sees as `remote: …`.

use bytes::Bytes;
use tokio::sync::mpsc;

/// Line-oriented output channel to the pushing client. Cheap to clone; writes after the push
/// has finished (or the client has gone) are silently dropped.
#[derive(Debug, Clone)]
pub struct ProgressSink {
    tx: mpsc::Sender<Bytes>,
}

impl ProgressSink {
    /// A sink and the receiving end of its bytes; useful for testing a [`crate::PushHandler`].
    pub fn channel(capacity: usize) -> (ProgressSink, mpsc::Receiver<Bytes>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (ProgressSink { tx }, rx)
    }

    /// Writes one line; a trailing newline is added.
    pub async fn line(&self, s: &str) {
        let mut buf = Vec::with_capacity(s.len() + 1);
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'\n');
        self.raw(Bytes::from(buf)).await;
    }

    /// Writes bytes as they are (use `\r` for in-place progress, `\n` to end lines).
    pub async fn raw(&self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        // A closed receiver means the push is over; output is dropped by design.
        let _ = self.tx.send(bytes).await;
    }

    /// Non-blocking variant of [`ProgressSink::line`]; drops the line when the buffer is full.
    pub fn try_line(&self, s: &str) {
        let _ = self.tx.try_send(Bytes::from(format!("{s}\n")));
    }
}

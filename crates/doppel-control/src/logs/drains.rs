//! Log drains: each drain is a task that follows its environment's stream and sends every
//! line on, the way Heroku's drains do: RFC 5424 syslog frames, octet-counted, over TCP
//! (`syslog://host:port`) or TLS (`syslog+tls://host:port`), or batched in an HTTPS POST
//! (`https://…`, `Content-Type: application/logplex-1`). Lines wait in a bounded buffer while
//! the receiver is unreachable; past it the oldest are dropped and the loss is reported in
//! the stream as Heroku's L10 error.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doppel_store::LogDrain;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::transport::{Connection, Target};
use super::{LogHub, LogLine, SOURCE_HEROKU};

/// Lines a drain holds while its receiver is away.
const BUFFER: usize = 10_000;
/// Most lines sent in one HTTPS POST.
const BATCH: usize = 500;
/// Longest wait between delivery attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The drain tasks, by drain id.
#[derive(Default)]
pub struct Drains {
    tasks: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl Drains {
    /// Runs a task for each of `drains` that has none, and stops tasks of drains not listed.
    pub fn sync(&self, hub: &Arc<LogHub>, tls: &Arc<rustls::ClientConfig>, drains: Vec<LogDrain>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let wanted: std::collections::HashSet<String> =
            drains.iter().map(|d| d.id.clone()).collect();
        tasks.retain(|id, task| {
            let keep = wanted.contains(id) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for drain in drains {
            if tasks.contains_key(&drain.id) {
                continue;
            }
            let target = match Target::parse(&drain.url) {
                Ok(t) => t,
                Err(reason) => {
                    tracing::warn!(drain = %drain.id, %reason, "log drain cannot be used");
                    continue;
                }
            };
            let rx = hub.subscribe(&drain.env_id);
            let task = tokio::spawn(run(hub.clone(), tls.clone(), drain.clone(), target, rx));
            tasks.insert(drain.id, task);
        }
    }
}

/// Follows the stream into a buffer and delivers it until the drain is removed.
async fn run(
    hub: Arc<LogHub>,
    tls: Arc<rustls::ClientConfig>,
    drain: LogDrain,
    target: Target,
    mut rx: broadcast::Receiver<Arc<LogLine>>,
) {
    let mut buffer: VecDeque<Arc<LogLine>> = VecDeque::new();
    let mut dropped = 0u64;
    let mut conn: Option<Connection> = None;
    let mut backoff = Duration::from_millis(500);
    loop {
        if buffer.is_empty() {
            match rx.recv().await {
                Ok(line) => buffer.push_back(line),
                Err(broadcast::error::RecvError::Lagged(n)) => dropped += n,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
        loop {
            match rx.try_recv() {
                Ok(line) => {
                    if buffer.len() == BUFFER {
                        buffer.pop_front();
                        dropped += 1;
                    }
                    buffer.push_back(line);
                }
                Err(broadcast::error::TryRecvError::Lagged(n)) => dropped += n,
                Err(_) => break,
            }
        }
        if dropped > 0 {
            let text = format!(
                "Error L10 (output buffer overflow): {dropped} messages dropped since the drain could not keep up"
            );
            hub.push(&drain.env_id, LogLine::now(SOURCE_HEROKU, "logplex", text));
            dropped = 0;
        }
        let batch: Vec<Arc<LogLine>> = buffer.iter().take(BATCH).cloned().collect();
        match deliver(&target, &tls, &drain, &mut conn, &batch).await {
            Ok(()) => {
                buffer.drain(..batch.len());
                backoff = Duration::from_millis(500);
            }
            Err(reason) => {
                tracing::debug!(drain = %drain.id, %reason, "log drain delivery failed; retrying");
                conn = None;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn deliver(
    target: &Target,
    tls: &Arc<rustls::ClientConfig>,
    drain: &LogDrain,
    conn: &mut Option<Connection>,
    batch: &[Arc<LogLine>],
) -> Result<(), String> {
    let frames: Vec<String> = batch.iter().map(|l| frame(&drain.token, l)).collect();
    match target {
        Target::Syslog { .. } => {
            if conn.is_none() {
                *conn = Some(target.connect(tls).await?);
            }
            let Some(c) = conn.as_mut() else {
                return Err("no connection".into());
            };
            c.write_frames(&frames).await
        }
        Target::Https { .. } => target.post(tls, &drain.token, &frames).await,
    }
}

/// An octet-counted RFC 5424 frame: `<len> <190>1 <time> <token> app web.1 - <text>\n` (the
/// newline is counted, as in Heroku's drains).
pub fn frame(token: &str, line: &LogLine) -> String {
    // local7.info for the app's lines, local3.info for the platform's (as Heroku).
    let pri = if line.source == SOURCE_HEROKU {
        158
    } else {
        190
    };
    let msg = format!(
        "<{pri}>1 {} {token} {} {} - {}\n",
        super::timestamp(line.time),
        line.source,
        line.process,
        line.text
    );
    format!("{} {msg}", msg.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_octet_counted_syslog() {
        let line = LogLine {
            time: time::OffsetDateTime::UNIX_EPOCH,
            source: "heroku".into(),
            process: "router".into(),
            text: "at=info é".into(),
        };
        let f = frame("d.1", &line);
        let (len, msg) = f.split_once(' ').unwrap_or_default();
        assert_eq!(len.parse::<usize>().ok(), Some(msg.len()));
        assert_eq!(
            msg,
            "<158>1 1970-01-01T00:00:00.000000+00:00 d.1 heroku router - at=info é\n"
        );
    }
}

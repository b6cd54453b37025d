//! Live output of running work (a build's log), for readers that follow it through a
//! capability URL while it runs. Each output keeps at most [`MAX_LIVE_BYTES`] of lines (the
//! same bound as the stored build log); a reader that comes late gets what was kept, then
//! follows. When the work ends its output leaves the registry; readers still attached read to
//! the end, later readers get the stored copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Most bytes of lines one live output keeps (lines past it are dropped, and readers told).
pub const MAX_LIVE_BYTES: usize = 512 * 1024;

/// The line readers get where an output was cut at [`MAX_LIVE_BYTES`].
pub const TRUNCATED_NOTE: &str = "[doppel: output truncated at 512 KiB]";

#[derive(Debug, Default)]
struct Lines {
    lines: Vec<String>,
    bytes: usize,
    truncated: bool,
    done: bool,
}

/// One running piece of work's output.
#[derive(Debug)]
pub struct LiveOutput {
    lines: Mutex<Lines>,
    /// Bumped on every change; readers wait on it.
    version: watch::Sender<u64>,
}

impl LiveOutput {
    fn new() -> LiveOutput {
        LiveOutput {
            lines: Mutex::new(Lines::default()),
            version: watch::Sender::new(0),
        }
    }

    fn locked(&self) -> MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Appends one line (dropped once the output holds [`MAX_LIVE_BYTES`]).
    pub fn push(&self, line: &str) {
        {
            let mut l = self.locked();
            if l.done || l.truncated {
                return;
            }
            if l.bytes + line.len() + 1 > MAX_LIVE_BYTES {
                l.truncated = true;
            } else {
                l.bytes += line.len() + 1;
                l.lines.push(line.to_string());
            }
        }
        self.changed();
    }

    fn finish(&self) {
        self.locked().done = true;
        self.changed();
    }

    /// A reader from the first line kept.
    pub fn reader(self: &Arc<Self>) -> OutputReader {
        OutputReader {
            output: self.clone(),
            next: 0,
            noted_truncation: false,
            version: self.version.subscribe(),
        }
    }
}

/// Follows one live output from its first line to its end.
#[derive(Debug)]
pub struct OutputReader {
    output: Arc<LiveOutput>,
    next: usize,
    noted_truncation: bool,
    version: watch::Receiver<u64>,
}

impl OutputReader {
    /// The lines after those already read, waiting for some when there are none yet; `None`
    /// once the work has ended and every line was read. At most 256 lines per call.
    pub async fn next_lines(&mut self) -> Option<Vec<String>> {
        loop {
            self.version.borrow_and_update();
            {
                let l = self.output.locked();
                let end = l.lines.len().min(self.next + 256);
                if self.next < end {
                    let chunk = l.lines[self.next..end].to_vec();
                    self.next = end;
                    return Some(chunk);
                }
                if l.truncated && !self.noted_truncation {
                    self.noted_truncation = true;
                    return Some(vec![TRUNCATED_NOTE.to_string()]);
                }
                if l.done {
                    return None;
                }
            }
            if self.version.changed().await.is_err() {
                // The output itself is gone; what it held was read.
                return None;
            }
        }
    }
}

/// The registry of outputs of work running now, by id (a build's id).
#[derive(Debug, Default)]
pub struct LiveOutputs {
    running: Mutex<HashMap<String, Arc<LiveOutput>>>,
}

impl LiveOutputs {
    fn locked(&self) -> MutexGuard<'_, HashMap<String, Arc<LiveOutput>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens the output of work `id`; it ends (and leaves the registry) when the returned
    /// guard is dropped, which the caller does once the stored copy is written.
    pub fn start(self: &Arc<Self>, id: &str) -> LiveGuard {
        let output = Arc::new(LiveOutput::new());
        self.locked().insert(id.to_string(), output.clone());
        LiveGuard {
            outputs: self.clone(),
            id: id.to_string(),
            output,
        }
    }

    /// The output of work `id` while it runs.
    pub fn get(&self, id: &str) -> Option<Arc<LiveOutput>> {
        self.locked().get(id).cloned()
    }

    /// How many outputs are open (for tests and metrics).
    pub fn len(&self) -> usize {
        self.locked().len()
    }

    /// Whether no output is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keeps one output open; dropping it ends the output and removes it from the registry.
#[derive(Debug)]
pub struct LiveGuard {
    outputs: Arc<LiveOutputs>,
    id: String,
    output: Arc<LiveOutput>,
}

impl LiveGuard {
    /// The output, for the writer.
    pub fn output(&self) -> Arc<LiveOutput> {
        self.output.clone()
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.outputs.locked().remove(&self.id);
        self.output.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readers_follow_from_the_start_to_the_end() {
        let outputs = Arc::new(LiveOutputs::default());
        let guard = outputs.start("b1");
        let out = guard.output();
        out.push("one");
        let mut early = out.reader();
        assert_eq!(early.next_lines().await, Some(vec!["one".to_string()]));
        let waiting = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(lines) = early.next_lines().await {
                got.extend(lines);
            }
            got
        });
        out.push("two");
        let mut late = outputs.get("b1").map(|o| o.reader());
        drop(guard);
        assert!(outputs.get("b1").is_none() && outputs.is_empty());
        assert_eq!(waiting.await.ok(), Some(vec!["two".to_string()]));
        let mut all = Vec::new();
        if let Some(r) = late.as_mut() {
            while let Some(lines) = r.next_lines().await {
                all.extend(lines);
            }
        }
        assert_eq!(all, ["one", "two"]);
        out.push("after the end");
        assert_eq!(
            out.reader().next_lines().await,
            Some(vec!["one".to_string(), "two".to_string()])
        );
    }

    #[tokio::test]
    async fn memory_is_bounded() {
        let outputs = Arc::new(LiveOutputs::default());
        let guard = outputs.start("big");
        let out = guard.output();
        let line = "x".repeat(1023);
        for _ in 0..(MAX_LIVE_BYTES / 1024 + 10) {
            out.push(&line);
        }
        drop(guard);
        let mut r = out.reader();
        let (mut count, mut last) = (0, String::new());
        while let Some(lines) = r.next_lines().await {
            count += lines.len();
            last = lines.last().cloned().unwrap_or_default();
        }
        assert_eq!(count, MAX_LIVE_BYTES / 1024 + 1);
        assert_eq!(last, TRUNCATED_NOTE);
        assert!(out.locked().bytes <= MAX_LIVE_BYTES);
    }
}

//! The log files: one per environment in `<data-dir>/logs`, `<env-id>.log`, moved to
//! `<env-id>.log.1` when it passes [`MAX_FILE_BYTES`] (so at most twice that per environment
//! on disk), written by one thread through a bounded queue, and `cursors.json`: how far each
//! dyno's output was read, so a restarted doppel reads on from there and loses nothing a
//! dyno printed meanwhile.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use super::line::{Filter, LogLine, MAX_LINES, SOURCE_HEROKU};

/// A log file is moved aside past this size.
pub const MAX_FILE_BYTES: u64 = 512 * 1024;
/// Lines waiting for the writer; more are dropped (and reported as Heroku's L12).
const QUEUE: usize = 16 * 1024;
/// How often buffered lines and cursors reach the disk.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Open files kept; past it all are closed (they reopen on the next line).
const MAX_OPEN: usize = 64;

enum Msg {
    Line(String, String),
    Flush(tokio::sync::oneshot::Sender<()>),
}

#[derive(Default)]
struct Cursors {
    map: HashMap<String, OffsetDateTime>,
    dirty: bool,
}

/// The writer's handle (its thread ends when the handle is dropped).
pub struct Writer {
    tx: SyncSender<Msg>,
    dir: PathBuf,
    cursors: Arc<Mutex<Cursors>>,
    dropped: Arc<Mutex<HashMap<String, u64>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `env` can name a file (environment ids are uuids).
fn safe_name(env: &str) -> bool {
    !env.is_empty() && env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Writer {
    /// Starts the writer thread for `dir` (made if missing) and reads the saved cursors.
    pub fn start(dir: &Path) -> Writer {
        if let Err(e) = std::fs::create_dir_all(dir) {
            tracing::error!(dir = %dir.display(), error = %e, "cannot make the log directory; logs are not kept");
        }
        let cursors = Arc::new(Mutex::new(Cursors {
            map: load_cursors(&dir.join("cursors.json")),
            dirty: false,
        }));
        let dropped = Arc::new(Mutex::new(HashMap::new()));
        let (tx, rx) = sync_channel(QUEUE);
        let thread = Thread {
            dir: dir.to_path_buf(),
            files: HashMap::new(),
            cursors: cursors.clone(),
            dropped: dropped.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name("doppel-logs".into())
            .spawn(move || thread.run(rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the log writer; logs are not kept");
        }
        Writer {
            tx,
            dir: dir.to_path_buf(),
            cursors,
            dropped,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Queues a line for `env`'s file; never waits.
    pub fn append(&self, env: &str, line: &LogLine) {
        match self.tx.try_send(Msg::Line(env.to_string(), line.render())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                *lock(&self.dropped).entry(env.to_string()).or_default() += 1;
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Waits until every queued line is written.
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx_queue = self.tx.clone();
        // The queue may be full: hand the request over without blocking the runtime.
        let sent = tokio::task::spawn_blocking(move || tx_queue.send(Msg::Flush(tx)).is_ok())
            .await
            .unwrap_or(false);
        if sent {
            let _ = rx.await;
        }
    }

    pub fn set_cursor(&self, container: &str, time: OffsetDateTime) {
        let mut c = lock(&self.cursors);
        c.map.insert(container.to_string(), time);
        c.dirty = true;
    }

    pub fn cursor(&self, container: &str) -> Option<OffsetDateTime> {
        lock(&self.cursors).map.get(container).copied()
    }

    pub fn forget(&self, container: &str) {
        let mut c = lock(&self.cursors);
        if c.map.remove(container).is_some() {
            c.dirty = true;
        }
    }
}

fn load_cursors(path: &Path) -> HashMap<String, OffsetDateTime> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let raw: HashMap<String, i128> = serde_json::from_str(&text).unwrap_or_default();
    raw.into_iter()
        .filter_map(|(k, nanos)| {
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .ok()
                .map(|t| (k, t))
        })
        .collect()
}

struct Thread {
    dir: PathBuf,
    files: HashMap<String, (BufWriter<File>, u64)>,
    cursors: Arc<Mutex<Cursors>>,
    dropped: Arc<Mutex<HashMap<String, u64>>>,
}

impl Thread {
    fn run(mut self, rx: Receiver<Msg>) {
        loop {
            match rx.recv_timeout(FLUSH_EVERY) {
                Ok(Msg::Line(env, line)) => self.write(&env, &line),
                Ok(Msg::Flush(reply)) => {
                    self.flush_all();
                    let _ = reply.send(());
                }
                Err(RecvTimeoutError::Timeout) => self.flush_all(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush_all();
                    return;
                }
            }
        }
    }

    fn path(&self, env: &str) -> PathBuf {
        self.dir.join(format!("{env}.log"))
    }

    fn write(&mut self, env: &str, line: &str) {
        if !safe_name(env) {
            return;
        }
        if self.files.len() >= MAX_OPEN && !self.files.contains_key(env) {
            self.flush_all();
            self.files.clear();
        }
        if !self.files.contains_key(env) {
            let path = self.path(env);
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(f) => {
                    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    self.files
                        .insert(env.to_string(), (BufWriter::new(f), size));
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot open a log file");
                    return;
                }
            }
        }
        let Some((file, size)) = self.files.get_mut(env) else {
            return;
        };
        if writeln!(file, "{line}").is_ok() {
            *size += line.len() as u64 + 1;
        }
        if *size >= MAX_FILE_BYTES {
            self.rotate(env);
        }
    }

    /// Moves `<env>.log` to `<env>.log.1` (replacing the older one).
    fn rotate(&mut self, env: &str) {
        if let Some((mut file, _)) = self.files.remove(env) {
            let _ = file.flush();
        }
        let path = self.path(env);
        if let Err(e) = std::fs::rename(&path, path.with_extension("log.1")) {
            tracing::warn!(file = %path.display(), error = %e, "cannot rotate a log file");
        }
    }

    fn flush_all(&mut self) {
        let dropped: Vec<(String, u64)> = lock(&self.dropped).drain().collect();
        for (env, n) in dropped {
            let text = format!(
                "Error L12 (Local buffer overflow) -> {n} log lines were dropped because doppel could not write them fast enough"
            );
            self.write(&env, &LogLine::now(SOURCE_HEROKU, "logplex", text).render());
        }
        for (file, _) in self.files.values_mut() {
            let _ = file.flush();
        }
        self.save_cursors();
    }

    fn save_cursors(&self) {
        let snapshot: Option<HashMap<String, i128>> = {
            let mut c = lock(&self.cursors);
            if !c.dirty {
                None
            } else {
                c.dirty = false;
                Some(
                    c.map
                        .iter()
                        .map(|(k, t)| (k.clone(), t.unix_timestamp_nanos()))
                        .collect(),
                )
            }
        };
        let Some(map) = snapshot else { return };
        let path = self.dir.join("cursors.json");
        let tmp = self.dir.join("cursors.json.tmp");
        let written = serde_json::to_vec(&map)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot save the log cursors");
        }
    }
}

/// The last `n` lines of `env` that `filter` wants, oldest first.
pub fn read_last(dir: &Path, env: &str, n: usize, filter: &Filter) -> Vec<LogLine> {
    if !safe_name(env) || n == 0 {
        return Vec::new();
    }
    let mut last = VecDeque::with_capacity(n.min(MAX_LINES));
    for name in [format!("{env}.log.1"), format!("{env}.log")] {
        let Ok(file) = File::open(dir.join(name)) else {
            continue;
        };
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            let Some(parsed) = LogLine::parse(&line) else {
                continue;
            };
            if !filter.matches(&parsed) {
                continue;
            }
            if last.len() == n {
                last.pop_front();
            }
            last.push_back(parsed);
        }
    }
    last.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_bounded_and_the_last_lines_survive_a_new_writer() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let env = "5a1b2c3d-0000-4000-8000-000000000001";
        {
            let w = Writer::start(dir.path());
            let filler = "x".repeat(200);
            for i in 0..6000 {
                w.append(env, &LogLine::now("app", "web.1", format!("{i} {filler}")));
            }
            w.set_cursor("c1", OffsetDateTime::UNIX_EPOCH);
            w.flush().await;
        }
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).map(|m| m.len());
        assert!(size(&format!("{env}.log")).unwrap_or(u64::MAX) <= MAX_FILE_BYTES);
        assert!(size(&format!("{env}.log.1")).unwrap_or(u64::MAX) <= MAX_FILE_BYTES + 300);
        let w = Writer::start(dir.path());
        assert_eq!(w.cursor("c1"), Some(OffsetDateTime::UNIX_EPOCH));
        let last = read_last(dir.path(), env, 3, &Filter::default());
        let firsts: Vec<&str> = last
            .iter()
            .filter_map(|l| l.text.split(' ').next())
            .collect();
        assert_eq!(firsts, ["5997", "5998", "5999"]);
        assert!(read_last(dir.path(), "../etc", 3, &Filter::default()).is_empty());
    }
}

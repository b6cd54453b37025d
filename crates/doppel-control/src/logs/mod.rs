//! One log stream per environment, in Heroku's format: app output per dyno (`app[web.1]`),
//! router lines (`heroku[router]`), build and release-phase output, and platform events
//! (`app[api]: Release v7 created by …`, `heroku[web.1]: State changed from starting to up`).
//!
//! Lines go to three places: subscribers (tails, drains) through a bounded broadcast channel
//! per environment, and a bounded file per environment in `<data-dir>/logs` (the last lines
//! survive restarts of doppel; see [`disk`]). Nothing here blocks: a line that finds the
//! writer's queue full is counted and reported as Heroku's L12 error instead of waiting.

pub mod disk;
pub mod drains;
pub mod line;
pub mod router;
pub mod sessions;
pub mod transport;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use time::OffsetDateTime;
use tokio::sync::broadcast;

pub use line::{timestamp, Filter, LogLine, MAX_LINES, SOURCE_APP, SOURCE_HEROKU};

/// Lines a lagging subscriber may fall behind before it misses some (Heroku's L11).
const SUBSCRIBER_BUFFER: usize = 1024;

/// The log streams of every environment.
pub struct LogHub {
    disk: disk::Writer,
    subscribers: Mutex<HashMap<String, broadcast::Sender<Arc<LogLine>>>>,
    /// Environment name → id, for lines that come named (the router's).
    names: RwLock<HashMap<String, String>>,
}

impl LogHub {
    /// A hub keeping its files in `dir` (made if missing).
    pub fn new(dir: &Path) -> LogHub {
        LogHub {
            disk: disk::Writer::start(dir),
            subscribers: Mutex::new(HashMap::new()),
            names: RwLock::new(HashMap::new()),
        }
    }

    /// Adds a line to environment `env_id`'s stream.
    pub fn push(&self, env_id: &str, line: LogLine) {
        let line = Arc::new(line);
        if let Some(tx) = lock(&self.subscribers).get(env_id) {
            // No receiver is fine: nobody tails right now.
            let _ = tx.send(line.clone());
        }
        self.disk.append(env_id, &line);
    }

    /// A platform line (`heroku[web.1]: …`) of `env_id`.
    pub fn heroku(&self, env_id: &str, process: &str, text: impl Into<String>) {
        self.push(env_id, LogLine::now(SOURCE_HEROKU, process, text));
    }

    /// An API event (`app[api]: …`) of `env_id`.
    pub fn api(&self, env_id: &str, text: impl Into<String>) {
        self.push(env_id, LogLine::now(SOURCE_APP, "api", text));
    }

    /// A dyno's output line, remembering how far container `container` has been read.
    pub fn dyno_output(&self, env_id: &str, container: &str, line: LogLine) {
        self.disk.set_cursor(container, line.time);
        self.push(env_id, line);
    }

    /// How far container `container`'s output was read (after a restart of doppel too).
    pub fn cursor(&self, container: &str) -> Option<OffsetDateTime> {
        self.disk.cursor(container)
    }

    /// Forgets a removed container's cursor.
    pub fn forget(&self, container: &str) {
        self.disk.forget(container);
    }

    /// New lines of `env_id` from now on.
    pub fn subscribe(&self, env_id: &str) -> broadcast::Receiver<Arc<LogLine>> {
        lock(&self.subscribers)
            .entry(env_id.to_string())
            .or_insert_with(|| broadcast::channel(SUBSCRIBER_BUFFER).0)
            .subscribe()
    }

    /// The last `n` lines of `env_id` (at most [`MAX_LINES`]) that `filter` wants, oldest
    /// first. Reads the files after the writer has caught up.
    pub async fn recent(&self, env_id: &str, n: usize, filter: &Filter) -> Vec<LogLine> {
        self.disk.flush().await;
        let dir = self.disk.dir().to_path_buf();
        let env = env_id.to_string();
        let filter = filter.clone();
        let n = n.min(MAX_LINES);
        tokio::task::spawn_blocking(move || disk::read_last(&dir, &env, n, &filter))
            .await
            .unwrap_or_default()
    }

    /// Waits until everything pushed so far is on disk.
    pub async fn flush(&self) {
        self.disk.flush().await;
    }

    /// Records the environment names the router uses (called when routes are published).
    pub fn set_names(&self, names: HashMap<String, String>) {
        *self.names.write().unwrap_or_else(|e| e.into_inner()) = names;
    }

    /// The id of the environment called `name`.
    pub fn env_id(&self, name: &str) -> Option<String> {
        self.names
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

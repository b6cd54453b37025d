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
pub mod router;
pub mod sessions;
pub mod transport;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use time::OffsetDateTime;
use tokio::sync::broadcast;

/// Lines kept per environment for `logs --num` (Heroku keeps 1500).
pub const MAX_LINES: usize = 1500;
/// Lines a lagging subscriber may fall behind before it misses some (Heroku's L11).
const SUBSCRIBER_BUFFER: usize = 1024;

/// Who wrote a line: the app (`app`) or the platform (`heroku`).
pub const SOURCE_APP: &str = "app";
pub const SOURCE_HEROKU: &str = "heroku";

/// One line of an environment's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: OffsetDateTime,
    /// `app` or `heroku`.
    pub source: String,
    /// `web.1`, `router`, `api`, `release.4821`, `build`.
    pub process: String,
    pub text: String,
}

impl LogLine {
    /// A line stamped now.
    pub fn now(source: &str, process: &str, text: impl Into<String>) -> LogLine {
        LogLine {
            time: OffsetDateTime::now_utc(),
            source: source.to_string(),
            process: process.to_string(),
            text: text.into(),
        }
    }

    /// Heroku's form: `2026-01-01T12:00:00.123456+00:00 app[web.1]: text`.
    pub fn render(&self) -> String {
        format!(
            "{} {}[{}]: {}",
            timestamp(self.time),
            self.source,
            self.process,
            self.text
        )
    }

    /// Parses what [`LogLine::render`] wrote.
    pub fn parse(line: &str) -> Option<LogLine> {
        let (stamp, rest) = line.split_once(' ')?;
        let time =
            OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).ok()?;
        let (origin, text) = rest.split_once("]: ")?;
        let (source, process) = origin.split_once('[')?;
        Some(LogLine {
            time,
            source: source.to_string(),
            process: process.to_string(),
            text: text.to_string(),
        })
    }
}

/// Microseconds and `+00:00`, as Heroku prints.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Which lines a reader wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// A process (`web.1`) or a process type (`web`, which matches `web.1`, `web.2`…).
    pub dyno: Option<String>,
    /// `app` or `heroku`.
    pub source: Option<String>,
}

impl Filter {
    pub fn matches(&self, line: &LogLine) -> bool {
        let dyno_ok = match self.dyno.as_deref().filter(|d| !d.is_empty()) {
            None => true,
            Some(d) if d.contains('.') => line.process == d,
            Some(d) => {
                line.process == d
                    || line
                        .process
                        .split_once('.')
                        .is_some_and(|(kind, _)| kind == d)
            }
        };
        let source_ok = self
            .source
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|s| line.source == s);
        dyno_ok && source_ok
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_render_as_heroku_and_parse_back() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let line = LogLine {
            time: t,
            source: "app".into(),
            process: "web.1".into(),
            text: "GET / [x]: 200".into(),
        };
        let text = line.render();
        assert_eq!(
            text,
            "2026-01-01T00:00:00.123456+00:00 app[web.1]: GET / [x]: 200"
        );
        let back = LogLine::parse(&text);
        assert_eq!(
            back.as_ref().map(|l| l.text.as_str()),
            Some("GET / [x]: 200")
        );
        assert_eq!(back.map(|l| l.process), Some("web.1".to_string()));
    }

    #[test]
    fn filters_by_process_type_process_and_source() {
        let l = |source: &str, process: &str| LogLine::now(source, process, "x");
        let web = Filter {
            dyno: Some("web".into()),
            source: None,
        };
        assert!(web.matches(&l("app", "web.1")));
        assert!(web.matches(&l("heroku", "web.2")));
        assert!(!web.matches(&l("app", "worker.1")));
        assert!(!web.matches(&l("app", "webby.1")));
        let one = Filter {
            dyno: Some("web.1".into()),
            source: Some("app".into()),
        };
        assert!(one.matches(&l("app", "web.1")));
        assert!(!one.matches(&l("heroku", "web.1")));
        assert!(!one.matches(&l("app", "web.11")));
        assert!(Filter::default().matches(&l("heroku", "router")));
    }
}

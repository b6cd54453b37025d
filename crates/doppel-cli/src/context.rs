//! The surroundings a command runs in: environment, credentials file, and the terminal
//! (stdout, stderr, stdin), so tests can run commands without touching the real ones.

use crate::client::Client;
use crate::config::{Config, Env};
use crate::error::CliError;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where a command reads its settings and writes its output.
pub struct Context {
    pub env: Env,
    /// The credentials file `doppel login` writes; `None` when no home folder is known.
    pub credentials_path: Option<PathBuf>,
    pub(crate) out: Box<dyn Write + Send>,
    pub(crate) err: Box<dyn Write + Send>,
    pub(crate) stdin: Box<dyn BufRead + Send>,
    pub(crate) stdin_is_terminal: bool,
}

impl Context {
    /// The real process: its environment, `~/.config/doppel/credentials.json`, the terminal.
    pub fn from_process() -> Context {
        let env = Env::from_process();
        let credentials_path = env.credentials_path();
        Context {
            env,
            credentials_path,
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            stdin: Box::new(std::io::BufReader::new(std::io::stdin())),
            stdin_is_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// A context with the given environment and credentials file whose output is captured
    /// (returned alongside) and whose standard input is empty.
    pub fn captured(env: Env, credentials_path: Option<PathBuf>) -> (Context, Captured) {
        let captured = Captured::default();
        let ctx = Context {
            env,
            credentials_path,
            out: Box::new(captured.out.clone()),
            err: Box::new(captured.err.clone()),
            stdin: Box::new(std::io::Cursor::new(Vec::new())),
            stdin_is_terminal: false,
        };
        (ctx, captured)
    }

    /// Replaces standard input with `text` (not a terminal).
    pub fn with_stdin(mut self, text: &str) -> Context {
        self.stdin = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        self.stdin_is_terminal = false;
        self
    }

    /// Settings from the environment and the credentials file.
    pub fn config(&self) -> Result<Config, CliError> {
        Config::load(&self.env, self.credentials_path.as_deref())
    }

    /// An API client from the settings; tells the user how to log in when no token is set.
    pub fn client(&self) -> Result<Client, CliError> {
        Client::from_config(&self.config()?)
    }

    /// Writes `text` to standard output.
    pub(crate) fn print(&mut self, text: &str) -> Result<(), CliError> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(CliError::Output)
    }

    /// Writes `text` to standard error (progress and notices), flushing at once.
    pub(crate) fn note(&mut self, text: &str) -> Result<(), CliError> {
        self.err
            .write_all(text.as_bytes())
            .and_then(|()| self.err.flush())
            .map_err(CliError::Output)
    }

    /// Prints a JSON value as `--json` does.
    pub(crate) fn print_json(&mut self, value: &serde_json::Value) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        self.print(&format!("{text}\n"))
    }
}

/// Output captured by [`Context::captured`].
#[derive(Clone, Default)]
pub struct Captured {
    out: SharedBuf,
    err: SharedBuf,
}

impl Captured {
    pub fn stdout(&self) -> String {
        self.out.text()
    }

    pub fn stderr(&self) -> String {
        self.err.text()
    }
}

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        match self.0.lock() {
            Ok(buf) => String::from_utf8_lossy(&buf).into_owned(),
            Err(poisoned) => String::from_utf8_lossy(&poisoned.into_inner()).into_owned(),
        }
    }
}

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut buf) => buf.extend_from_slice(data),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(data),
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

//! The surroundings a command runs in: environment, saved files, working directory (for git
//! remotes), and the terminal (stdout, stderr, stdin), so tests can run commands without
//! touching the real ones.

use crate::client::Client;
use crate::config::{Config, Env, Paths};
use crate::error::CliError;
use serde::Serialize;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where a command reads its settings and writes its output.
pub struct Context {
    pub env: Env,
    /// `~/.netrc` and `~/.config/doppel/*`.
    pub paths: Paths,
    /// The folder whose git remotes name the environment when `-a` is omitted; `None`
    /// turns that inference off.
    pub cwd: Option<PathBuf>,
    /// The `doppel` binary, for the git credential helper `git:remote` configures.
    pub exe: Option<PathBuf>,
    pub(crate) out: Box<dyn Write + Send>,
    pub(crate) err: Box<dyn Write + Send>,
    pub(crate) stdin: Box<dyn BufRead + Send>,
    pub(crate) stdin_is_terminal: bool,
    /// Bold headings: only on a terminal, and never with NO_COLOR or TERM=dumb.
    pub(crate) color: bool,
}

impl Context {
    /// The real process: its environment, home folder, working directory and terminal.
    pub fn from_process() -> Context {
        let env = Env::from_process();
        let paths = env.paths();
        let color = std::io::stdout().is_terminal()
            && env.get("NO_COLOR").is_none()
            && env.get("TERM") != Some("dumb");
        Context {
            env,
            paths,
            cwd: std::env::current_dir().ok(),
            exe: std::env::current_exe().ok(),
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            stdin: Box::new(std::io::BufReader::new(std::io::stdin())),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            color,
        }
    }

    /// A context with the given environment (its HOME decides where the saved files are)
    /// whose output is captured (returned alongside), whose standard input is empty, and
    /// which looks at no git checkout.
    pub fn captured(env: Env) -> (Context, Captured) {
        let captured = Captured::default();
        let paths = env.paths();
        let ctx = Context {
            env,
            paths,
            cwd: None,
            exe: None,
            out: Box::new(captured.out.clone()),
            err: Box::new(captured.err.clone()),
            stdin: Box::new(std::io::Cursor::new(Vec::new())),
            stdin_is_terminal: false,
            color: false,
        };
        (ctx, captured)
    }

    /// Makes `=== heading` lines bold, as on a colour terminal.
    pub fn with_color(mut self, color: bool) -> Context {
        self.color = color;
        self
    }

    /// Replaces standard input with `text` (not a terminal).
    pub fn with_stdin(mut self, text: &str) -> Context {
        self.stdin = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        self.stdin_is_terminal = false;
        self
    }

    /// Looks for git remotes in `dir` (and names `exe` as the doppel binary).
    pub fn with_cwd(mut self, dir: PathBuf, exe: Option<PathBuf>) -> Context {
        self.cwd = Some(dir);
        self.exe = exe;
        self
    }

    /// Settings from the environment and the saved files.
    pub fn config(&self) -> Result<Config, CliError> {
        Config::load(&self.env, &self.paths)
    }

    /// An API client from the settings; tells the user how to log in when no token is set.
    pub fn client(&self) -> Result<Client, CliError> {
        Client::from_config(&self.config()?)
    }

    /// Writes `text` to standard output; `=== heading` lines are bold on a colour terminal.
    pub(crate) fn print(&mut self, text: &str) -> Result<(), CliError> {
        let text = if self.color {
            bold_headings(text)
        } else {
            text.to_string()
        };
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

    /// `--json` for a command that ran on one or both environments: the value itself for
    /// one, an object keyed by environment name for both.
    pub(crate) fn print_json_per_env<T: Serialize>(
        &mut self,
        items: &[(doppel_types::EnvName, T)],
    ) -> Result<(), CliError> {
        if let [(_, only)] = items {
            return self.print_json(only);
        }
        let mut map = serde_json::Map::new();
        for (env, value) in items {
            let value = serde_json::to_value(value)
                .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
            map.insert(env.to_string(), value);
        }
        self.print_json(&map)
    }

    /// What a reading command shows for one or both environments: `--json`, or each
    /// environment's block rendered by `render`, a blank line between.
    pub(crate) fn print_per_env<T: Serialize>(
        &mut self,
        items: &[(doppel_types::EnvName, T)],
        json: bool,
        render: impl Fn(&doppel_types::EnvName, &T) -> String,
    ) -> Result<(), CliError> {
        if json {
            return self.print_json_per_env(items);
        }
        let blocks: Vec<String> = items.iter().map(|(env, v)| render(env, v)).collect();
        self.print(&blocks.join("\n"))
    }

    /// Prints a value as `--json` does: the API's JSON, pretty-printed.
    pub(crate) fn print_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        self.print(&format!("{text}\n"))
    }
}

/// `text` with each line starting `=== ` wrapped in the terminal's bold.
fn bold_headings(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(body) if body.starts_with("=== ") => format!("\x1b[1m{body}\x1b[0m\n"),
            _ if line.starts_with("=== ") => format!("\x1b[1m{line}\x1b[0m"),
            _ => line.to_string(),
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn headings_are_bold_only_with_colour() -> Result<(), CliError> {
        let (ctx, out) = Context::captured(Env::default());
        let mut ctx = ctx.with_color(true);
        ctx.print("=== myapp Config Vars\nA: 1\n")?;
        assert_eq!(out.stdout(), "\x1b[1m=== myapp Config Vars\x1b[0m\nA: 1\n");
        let (mut plain, out) = Context::captured(Env::default());
        plain.print("=== x\n")?;
        assert_eq!(out.stdout(), "=== x\n");
        Ok(())
    }
}

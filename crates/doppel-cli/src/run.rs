//! `run` and `run:detached`: one-off dynos of an environment's current release. `run` attaches
//! to the dyno over the rendezvous URL the server answers (TLS, trusting the platform CA),
//! with a terminal when standard input is one (raw mode: every key, Ctrl-C too, goes to the
//! dyno; its size goes along), and exits with the command's exit code. `run:detached` leaves
//! the output to the log stream.

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The line the server ends an attached session with (Heroku's CLI looks for the same).
const EXIT_MARKER: &[u8] = "\u{FFFF} heroku-command-exit-status: ".as_bytes();
/// What a client without a terminal sends when its standard input ends.
const EOT: u8 = 0x04;

/// Arguments of `doppel run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Dyno size (standard-1X, standard-2X, performance-M…)
    #[arg(short = 's', long)]
    pub size: Option<String>,
    /// Extra environment for the dyno: KEY=VALUE, several separated by `;`
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Option<String>,
    /// Do not allocate a terminal, even when standard input is one
    #[arg(long = "no-tty")]
    pub no_tty: bool,
    /// The command to run, e.g. `-- python manage.py migrate`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

/// Arguments of `doppel run:detached`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunDetachedArgs {
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Dyno size
    #[arg(short = 's', long)]
    pub size: Option<String>,
    /// Extra environment for the dyno: KEY=VALUE, several separated by `;`
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Option<String>,
    /// The command to run
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

/// The words as one shell command (words with spaces or shell characters single-quoted).
pub fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&b));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `KEY=VALUE;KEY2=VALUE2` as a map.
fn parse_env(text: Option<&str>) -> BTreeMap<String, String> {
    text.unwrap_or("")
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

pub(crate) async fn run(ctx: &mut Context, args: RunArgs) -> Result<(), CliError> {
    let env_name = args.app.clone().ok_or(CliError::NoApp)?;
    let env = env_segment(&env_name)?;
    let command = shell_join(&args.command);
    let tty = ctx.stdin_is_terminal && !args.no_tty;
    let mut vars = parse_env(args.env.as_deref());
    if let Ok(term) = std::env::var("TERM") {
        vars.insert("TERM".into(), term);
    }
    if tty {
        if let Some((rows, cols)) = crate::tty::size() {
            vars.insert("LINES".into(), rows.to_string());
            vars.insert("COLUMNS".into(), cols.to_string());
        }
    }
    let client = ctx.client()?;
    let body = json!({
        "command": command,
        "attach": true,
        "force_no_tty": !tty,
        "env": vars,
        "size": args.size,
    });
    let dyno: Value = client.post(&format!("/apps/{env}/dynos"), &body).await?;
    let name = dyno["name"].as_str().unwrap_or("run");
    let url = dyno["attach_url"]
        .as_str()
        .ok_or_else(|| bad(client.host(), "the server gave no attach_url"))?
        .to_string();
    ctx.note(&format!("Running {command} on {env}... up, {name}\n"))?;
    let ca = ctx.config()?.ca_cert;
    let code = attach(ctx, client.host(), &url, ca.as_deref(), tty).await?;
    if code == 0 {
        Ok(())
    } else {
        Err(CliError::Exited {
            code: u8::try_from(code).unwrap_or(1),
        })
    }
}

pub(crate) async fn run_detached(ctx: &mut Context, args: RunDetachedArgs) -> Result<(), CliError> {
    let env_name = args.app.clone().ok_or(CliError::NoApp)?;
    let env = env_segment(&env_name)?;
    let command = shell_join(&args.command);
    let client = ctx.client()?;
    let body = json!({
        "command": command,
        "attach": false,
        "env": parse_env(args.env.as_deref()),
        "size": args.size,
    });
    let dyno: Value = client.post(&format!("/apps/{env}/dynos"), &body).await?;
    let name = dyno["name"].as_str().unwrap_or("run");
    let size = dyno["size"].as_str().unwrap_or("");
    ctx.note(&format!(
        "Running {command} on {env}... done, {name} ({size})\n"
    ))?;
    ctx.print(&format!(
        "Run `doppel logs -a {env} --dyno {name}` to view the output.\n"
    ))
}

fn bad(host: &str, reason: &str) -> CliError {
    CliError::BadResponse {
        host: host.to_string(),
        status: 0,
        reason: reason.to_string(),
    }
}

/// `rendezvous://host:port/secret` → (host, port, secret).
fn parse_attach_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("rendezvous://")?;
    let (authority, secret) = rest.split_once('/')?;
    let (host, port) = authority.rsplit_once(':')?;
    Some((host.to_string(), port.parse().ok()?, secret.to_string()))
}

/// Joins the terminal to the dyno (or an add-on's client); returns the command's exit code.
pub(crate) async fn attach(
    ctx: &mut Context,
    api_host: &str,
    url: &str,
    ca: Option<&std::path::Path>,
    tty: bool,
) -> Result<i32, CliError> {
    let (host, port, secret) = parse_attach_url(url).ok_or_else(|| {
        bad(
            api_host,
            "the attach_url is not rendezvous://host:port/secret",
        )
    })?;
    let unreachable = |reason: String| CliError::Unreachable {
        host: format!("{host}:{port}"),
        reason,
    };
    let tls = Arc::new(crate::client::trust(&host, ca)?);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let name = rustls::pki_types::ServerName::try_from(host.clone())
        .map_err(|_| unreachable("not a valid host name".into()))?;
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(|e| CliError::Tls {
            host: format!("{host}:{port}"),
            reason: e.to_string(),
        })?;
    let (read, mut write) = tokio::io::split(stream);
    let mut read = BufReader::new(read);
    write
        .write_all(format!("{secret}\r\n").as_bytes())
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let mut first = String::new();
    read.read_line(&mut first)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !first.starts_with("rendezvous") {
        return Err(bad(&host, first.trim()));
    }
    let _raw = if tty {
        crate::tty::RawMode::enter()
    } else {
        None
    };
    let stdin = std::mem::replace(&mut ctx.stdin, Box::new(std::io::Cursor::new(Vec::new())));
    let mut input = forward_stdin(stdin, tty);
    let to_dyno = async move {
        while let Some(chunk) = input.recv().await {
            if write.write_all(&chunk).await.is_err() || write.flush().await.is_err() {
                break;
            }
        }
        std::future::pending::<()>().await;
    };
    let from_dyno = copy_output(&mut read, &mut ctx.out);
    tokio::select! {
        () = to_dyno => Ok(1),
        code = from_dyno => code.ok_or_else(|| unreachable(
            "the connection closed without the command's exit status".into(),
        )),
    }
}

/// Reads standard input on a thread of its own (it blocks) into a channel; without a
/// terminal, its end is sent on as EOT.
fn forward_stdin(
    mut stdin: Box<dyn std::io::BufRead + Send>,
    tty: bool,
) -> tokio::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    if !tty {
                        let _ = tx.blocking_send(vec![EOT]);
                    }
                    return;
                }
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Copies the dyno's output to `out` until the exit-status line; returns its code.
async fn copy_output<R: tokio::io::AsyncRead + Unpin>(
    read: &mut R,
    out: &mut Box<dyn Write + Send>,
) -> Option<i32> {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = read.read(&mut buf).await.ok()?;
        if n == 0 {
            let _ = out.write_all(&pending);
            let _ = out.flush();
            return None;
        }
        pending.extend_from_slice(&buf[..n]);
        let (emit, code) = scan(&pending);
        let _ = out.write_all(&pending[..emit]);
        let _ = out.flush();
        if code.is_some() {
            return code;
        }
        pending.drain(..emit);
    }
}

/// How many bytes of `buf` can be shown (everything before a possible exit-status line), and
/// the exit code once that line is complete.
fn scan(buf: &[u8]) -> (usize, Option<i32>) {
    if let Some(at) = find(buf, EXIT_MARKER) {
        let rest = &buf[at + EXIT_MARKER.len()..];
        if let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let code = std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(1);
            return (at, Some(code));
        }
        return (at, None);
    }
    // Hold back a tail that could be the start of the marker.
    let keep = (1..EXIT_MARKER.len().min(buf.len() + 1))
        .rev()
        .find(|k| buf.ends_with(&EXIT_MARKER[..*k]))
        .unwrap_or(0);
    (buf.len() - keep, None)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_joined_for_the_shell() {
        let words: Vec<String> = ["python", "-c", "print('hi there')"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(shell_join(&words), "python -c 'print('\\''hi there'\\'')'");
        assert_eq!(
            parse_env(Some("A=1;B=x=y; =z")),
            BTreeMap::from([("A".into(), "1".into()), ("B".into(), "x=y".into())])
        );
    }

    #[test]
    fn the_exit_status_line_is_found_across_chunks_and_not_shown() {
        let line = "\u{FFFF} heroku-command-exit-status: 3\n";
        let full = format!("hello\n{line}");
        let bytes = full.as_bytes();
        assert_eq!(scan(bytes), (6, Some(3)));
        // Split inside the marker: the start is held back.
        let cut = 9;
        let (emit, code) = scan(&bytes[..cut]);
        assert_eq!((emit, code), (6, None));
        assert_eq!(scan(b"plain text"), (10, None));
        assert_eq!(
            parse_attach_url("rendezvous://localhost:5000/abc"),
            Some(("localhost".into(), 5000, "abc".into()))
        );
    }
}

//! `pg:psql` and `redis:cli` as people use them, with the real engine: on a real terminal (a
//! pty the test drives through Python's `pty` module) the add-on's own client runs live in
//! its server container — a query typed gives its answer, the terminal has the client's
//! window size, Ctrl-C cancels a running query, `\q` ends the session with exit code 0; a
//! failing `-c` gives a non-zero exit code; without a terminal, piped standard input runs as
//! one batch.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use doppel_e2e::{doppel_bin, Server};

const ENV: &str = "psql-staging";

/// Runs `argv` on a fresh pty of 40 rows and 132 columns and plays `steps`: wait for the
/// text (a regular expression) to appear in the output, then (half a second later) type the
/// keys. Prints the
/// whole output, then `EXIT <code>`.
const DRIVER: &str = r#"
import json, os, pty, re, select, struct, sys, termios, fcntl, time
argv, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
    os.execvp(argv[0], argv)
out = b""
def read(deadline):
    global out
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
            return True
    return True
seen = 0
for want, keys in steps:
    deadline = time.time() + 90
    pattern = re.compile(want.encode())
    while not pattern.search(out, seen):
        if time.time() > deadline or not read(deadline):
            sys.stdout.write(out.decode(errors="replace"))
            sys.stdout.write("\nTIMEOUT waiting for %r\n" % want)
            sys.exit(2)
    seen = pattern.search(out, seen).end()
    time.sleep(0.5)
    os.write(fd, keys.encode())
deadline = time.time() + 60
while time.time() < deadline and read(deadline):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.stdout.write("\nEXIT %d\n" % os.waitstatus_to_exitcode(status))
"#;

/// The doppel CLI on a pty, playing `steps`; returns its output and exit code.
fn on_terminal(server: &Server, args: &[&str], steps: &[(&str, &str)]) -> Result<(String, i32)> {
    let mut argv = vec![doppel_bin().display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let out = Command::new("python3")
        .args(["-c", DRIVER])
        .arg(serde_json::to_string(&argv)?)
        .arg(serde_json::to_string(steps)?)
        .env("DOPPEL_HOST", server.platform_url())
        .env("DOPPEL_API_KEY", &server.token)
        .env("DOPPEL_CA_CERT", server.ca())
        .env("HOME", server.data_dir.join("cli-home"))
        .env("TERM", "xterm")
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let code = text
        .rsplit_once("\nEXIT ")
        .and_then(|(_, c)| c.trim().parse().ok())
        .with_context(|| {
            format!(
                "the pty driver failed:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    Ok((text, code))
}

/// The doppel CLI with `input` piped to it (no terminal).
fn piped(server: &Server, args: &[&str], input: &str) -> Result<(String, i32)> {
    let mut child = Command::new(doppel_bin())
        .args(args)
        .env("DOPPEL_HOST", server.platform_url())
        .env("DOPPEL_API_KEY", &server.token)
        .env("DOPPEL_CA_CERT", server.ca())
        .env("HOME", server.data_dir.join("cli-home"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("no stdin")?
        .write_all(input.as_bytes())?;
    let out = child.wait_with_output()?;
    Ok((
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        out.status.code().unwrap_or(-1),
    ))
}

#[test]
fn psql_and_redis_cli_are_live_sessions_on_a_terminal_and_batches_without() -> Result<()> {
    let server = Server::start()?;
    server.create_app("psql")?;
    for service in ["postgres", "redis"] {
        let out = server.cli(&["addons:create", service, "-a", ENV])?;
        if !out.status.success() {
            bail!("addons:create {service}: {out:?}\n{}", server.log());
        }
    }

    // Piped: one batch, its output, exit code 0.
    let (out, code) = piped(
        &server,
        &["pg:psql", "-a", ENV],
        "CREATE TABLE t (x int); INSERT INTO t VALUES (41); SELECT x + 1 AS piped FROM t;\n",
    )?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("piped") && out.contains("42"), "{out}");
    // -c with a failing command: a non-zero exit code and psql's error.
    let (out, code) = piped(&server, &["pg:psql", "-a", ENV, "-c", "SELECT nosuch"], "")?;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("nosuch"), "{out}");

    // On a terminal: the live client.
    let (out, code) = on_terminal(
        &server,
        &["pg:psql", "-a", ENV],
        &[
            ("=> ", "SELECT x * 2 AS doubled FROM t;\r"),
            ("82", "\\! stty size\r"),
            ("40 132", "SELECT pg_sleep(60);\r"),
            // The query runs (its line echoed, half a second passed): Ctrl-C cancels it.
            ("SELECT pg_sleep\\(60\\);\r\n", "\x03"),
            ("canceling statement due to user request", "\\q\r"),
        ],
    )?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("doubled"), "{out}");

    let (out, code) = on_terminal(
        &server,
        &["redis:cli", "-a", ENV],
        &[
            ("> ", "SET who terminal\r"),
            ("OK", "GET who\r"),
            ("\"terminal\"", "quit\r"),
        ],
    )?;
    assert_eq!(code, 0, "{out}");
    let (out, code) = piped(&server, &["redis:cli", "-a", ENV], "GET who\n")?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("terminal"), "{out}");
    Ok(())
}

//! The pre-receive hook process: `doppel git-hook pre-receive` runs [`main`].
//!
//! It reads git's ref lines from stdin, connects to the per-push socket named by
//! [`SOCKET_ENV`], sends the lines with the quarantine environment, copies everything the
//! server sends to stdout (receive-pack turns that into `remote:` lines) and exits with the
//! status the server sends last.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use crate::wire::{self, HookRequest};

/// Environment variable carrying the per-push socket path to the hook.
pub const SOCKET_ENV: &str = "DOPPEL_GIT_HOOK_SOCKET";

/// Variables of the hook's environment that describe where the pushed objects are.
const OBJECT_ENV: &[&str] = &[
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
];

/// Runs the hook; returns the process exit status.
pub fn main() -> i32 {
    match run() {
        Ok(code) => code,
        Err(msg) => {
            // stderr is forwarded to the client as `remote:` lines too.
            eprintln!("doppel: {msg}");
            1
        }
    }
}

fn run() -> Result<i32, String> {
    let Some(socket) = std::env::var_os(SOCKET_ENV) else {
        return Err(
            "push rejected: this repository accepts pushes only through the doppel git endpoint"
                .to_owned(),
        );
    };
    let mut stdin = String::new();
    std::io::stdin()
        .read_to_string(&mut stdin)
        .map_err(|e| format!("push rejected: cannot read ref updates: {e}"))?;
    let cwd =
        std::env::current_dir().map_err(|e| format!("push rejected: no working directory: {e}"))?;
    let env = OBJECT_ENV
        .iter()
        .filter_map(|k| {
            std::env::var(k)
                .ok()
                .map(|v| ((*k).to_owned(), absolutize(&cwd, k, &v)))
        })
        .collect();
    let request = HookRequest {
        stdin,
        cwd: cwd.to_string_lossy().into_owned(),
        env,
    };
    let payload = serde_json::to_vec(&request).map_err(|e| format!("push rejected: {e}"))?;
    let mut conn = UnixStream::connect(&socket)
        .map_err(|e| format!("push rejected: cannot reach the doppel server: {e}"))?;
    conn.write_all(&wire::encode(wire::KIND_REQUEST, &payload))
        .map_err(|e| format!("push rejected: cannot reach the doppel server: {e}"))?;
    relay(&mut conn)
}

/// Copies output frames to stdout until the exit frame.
fn relay(conn: &mut UnixStream) -> Result<i32, String> {
    let mut stdout = std::io::stdout().lock();
    loop {
        let frame = wire::read_frame(conn)
            .map_err(|e| format!("push rejected: lost the doppel server: {e}"))?;
        match frame {
            None => return Err("push rejected: the doppel server closed the connection".into()),
            Some((wire::KIND_OUTPUT, bytes)) => {
                // If the client is gone there is nobody to tell; keep draining for the verdict.
                let _ = stdout.write_all(&bytes).and_then(|()| stdout.flush());
            }
            Some((wire::KIND_EXIT, bytes)) => {
                let code = <[u8; 4]>::try_from(bytes.as_slice())
                    .map(i32::from_be_bytes)
                    .map_err(|_| "push rejected: malformed exit status".to_owned())?;
                return Ok(code);
            }
            Some((kind, _)) => return Err(format!("push rejected: unexpected frame {kind}")),
        }
    }
}

/// Makes path-valued variables absolute (colon-separated lists element by element).
fn absolutize(cwd: &std::path::Path, key: &str, value: &str) -> String {
    let one = |p: &str| -> String {
        if p.is_empty() || p.starts_with('/') {
            p.to_owned()
        } else {
            cwd.join(p).to_string_lossy().into_owned()
        }
    };
    if key == "GIT_ALTERNATE_OBJECT_DIRECTORIES" && !value.starts_with('"') {
        value.split(':').map(one).collect::<Vec<_>>().join(":")
    } else {
        one(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolutize_lists() {
        let cwd = std::path::Path::new("/r/app.git");
        assert_eq!(
            absolutize(cwd, "GIT_ALTERNATE_OBJECT_DIRECTORIES", "./objects:/abs"),
            "/r/app.git/./objects:/abs"
        );
        assert_eq!(absolutize(cwd, "GIT_OBJECT_DIRECTORY", "/q"), "/q");
    }
}

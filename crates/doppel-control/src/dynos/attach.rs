//! Attaching to a one-off dyno: Heroku's rendezvous protocol. `POST /apps/{app}/dynos` with
//! `attach` answers an `attach_url` of `rendezvous://<domain>:<port>/<secret>`; the client
//! opens TLS to that port (a certificate of the platform CA) and writes `<secret>\r\n`; the
//! server answers `rendezvous\r\n` and from then on the connection is the dyno's terminal
//! (or its stdin and stdout without one). The dyno is created when the API is called and
//! started only once its client is attached, so no output is missed. When the command ends,
//! its exit status follows as `\u{FFFF} heroku-command-exit-status: N` (the line Heroku's CLI
//! looks for); when the client goes away first, the dyno is stopped.
//!
//! The same rendezvous serves interactive add-on clients (`pg:psql`, `redis:cli`): their
//! [`Pending`] carries an `exec`, run in the add-on's running server container instead of
//! starting a dyno (see `logic::addon_sessions`).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub use super::sessions::{Pending, Sessions, ATTACH_WINDOW};
use crate::state::AppState;
use crate::supervisor::table::Phase;

/// Longest first line (the secret) read from a client.
const MAX_SECRET_LINE: usize = 512;
/// The end-of-transmission byte a client without a terminal sends when its stdin ends.
const EOT: u8 = 0x04;

/// Serves rendezvous connections on `listener` until the task is dropped.
pub async fn serve(state: AppState, listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "rendezvous accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (state, acceptor) = (state.clone(), acceptor.clone());
        tokio::spawn(async move {
            if let Err(e) = connection(&state, acceptor, tcp).await {
                tracing::debug!(%peer, error = %e, "rendezvous connection ended");
            }
        });
    }
}

async fn connection(
    state: &AppState,
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: TcpStream,
) -> std::io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let tls = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timed out"))??;
    let (read, mut write) = tokio::io::split(tls);
    let mut read = BufReader::new(read);
    let secret = read_secret(&mut read).await?;
    let Some(pending) = state.attach_sessions().take(&secret) else {
        write
            .write_all(b"error: this attach URL is unknown, used or expired\r\n")
            .await?;
        return write.shutdown().await;
    };
    if let Some(exec) = &pending.exec {
        let result = exec_session(state, &pending, exec.clone(), read, &mut write).await;
        let _ = write.shutdown().await;
        return result;
    }
    let table = &state.supervisor().table;
    table.claim(&pending.container);
    let result = session(state, &pending, read, &mut write).await;
    let _ = write.shutdown().await;
    table.release(&pending.container);
    state.supervisor().wake();
    result
}

async fn read_secret<R: AsyncRead + Unpin>(read: &mut BufReader<R>) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut limited = (&mut *read).take(MAX_SECRET_LINE as u64);
    tokio::time::timeout(
        Duration::from_secs(30),
        limited.read_until(b'\n', &mut line),
    )
    .await
    .map_err(|_| std::io::Error::other("no secret within 30 s"))??;
    Ok(String::from_utf8_lossy(&line).trim().to_string())
}

/// Starts the dyno and joins it to the client until one side ends.
async fn session<R, W>(
    state: &AppState,
    p: &Pending,
    mut client_in: BufReader<R>,
    client_out: &mut W,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let rt = state.runtime();
    let io = rt
        .attach(&p.container)
        .await
        .map_err(std::io::Error::other)?;
    client_out.write_all(b"rendezvous\r\n").await?;
    client_out.flush().await?;
    rt.start(&p.container)
        .await
        .map_err(std::io::Error::other)?;
    state.supervisor().table.set(&p.container, Phase::Up);
    state
        .logs()
        .heroku(&p.env_id, &p.dyno, "State changed from starting to up");
    if let (true, Some(rows), Some(cols)) = (p.tty, p.rows, p.cols) {
        if let Err(e) = rt.resize_tty(&p.container, rows, cols).await {
            tracing::debug!(container = %p.container, error = %e, "could not size the terminal");
        }
    }
    let (client_left, last) = pump(io, &mut client_in, client_out, p.tty).await?;
    if client_left {
        // Heroku ends a run whose client disconnected.
        state.logs().heroku(
            &p.env_id,
            &p.dyno,
            "Stopping process with SIGKILL: the client disconnected",
        );
        return rt.kill(&p.container).await.map_err(std::io::Error::other);
    }
    let code = rt.wait(&p.container).await.map_err(std::io::Error::other)?;
    exit_status(client_out, last, code).await
}

/// Runs an interactive command in a running container (an add-on's client) joined to the
/// client until one side ends. A client that goes away ends the command with its terminal.
async fn exec_session<R, W>(
    state: &AppState,
    p: &Pending,
    exec: doppel_docker::InteractiveExec,
    mut client_in: BufReader<R>,
    client_out: &mut W,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let rt = state.runtime();
    let (exec_id, io) = rt
        .exec_attach(&p.container, exec)
        .await
        .map_err(std::io::Error::other)?;
    client_out.write_all(b"rendezvous\r\n").await?;
    client_out.flush().await?;
    if let (true, Some(rows), Some(cols)) = (p.tty, p.rows, p.cols) {
        if let Err(e) = rt.resize_exec(&exec_id, rows, cols).await {
            tracing::debug!(error = %e, "could not size the session's terminal");
        }
    }
    let (client_left, last) = pump(io, &mut client_in, client_out, p.tty).await?;
    if client_left {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        match rt.exec_exit_code(&exec_id).await {
            Ok(Some(code)) => break code,
            Ok(None) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Ok(None) => break -1,
            Err(e) => return Err(std::io::Error::other(e)),
        }
    };
    exit_status(client_out, last, code).await
}

/// Copies the client's input to the command and the command's output to the client until
/// one ends. Returns whether the client left first, and the last byte the command printed.
/// Without a terminal, the client's EOT byte ends the command's input.
async fn pump<R, W>(
    io: doppel_docker::AttachIo,
    client_in: &mut BufReader<R>,
    client_out: &mut W,
    tty: bool,
) -> std::io::Result<(bool, u8)>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut output = io.output;
    let mut input = Some(io.input);
    let to_dyno = async {
        let mut buf = vec![0u8; 8192];
        loop {
            let n = client_in.read(&mut buf).await?;
            if n == 0 {
                return Ok::<bool, std::io::Error>(true);
            }
            let Some(stdin) = input.as_mut() else {
                continue;
            };
            let chunk = &buf[..n];
            match chunk.iter().position(|b| *b == EOT).filter(|_| !tty) {
                Some(end) => {
                    stdin.write_all(&chunk[..end]).await?;
                    stdin.shutdown().await?;
                    input = None;
                }
                None => {
                    stdin.write_all(chunk).await?;
                    stdin.flush().await?;
                }
            }
        }
    };
    let mut last = b'\n';
    let from_dyno = async {
        while let Some(chunk) = output.next().await {
            let chunk = chunk.map_err(std::io::Error::other)?;
            if let Some(b) = chunk.last() {
                last = *b;
            }
            client_out.write_all(&chunk).await?;
            client_out.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    };
    let client_left = tokio::select! {
        left = to_dyno => left.unwrap_or(true),
        ended = from_dyno => { ended?; false }
    };
    Ok((client_left, last))
}

/// The line that ends a session with the command's exit code.
async fn exit_status<W: AsyncWrite + Unpin>(
    client_out: &mut W,
    last: u8,
    code: i64,
) -> std::io::Result<()> {
    let mut status = String::new();
    if last != b'\n' {
        status.push_str("\r\n");
    }
    // A bare `\n`: Heroku's CLI strips the line with a pattern that ends at `$`.
    status.push_str(&format!("\u{FFFF} heroku-command-exit-status: {code}\n"));
    client_out.write_all(status.as_bytes()).await?;
    client_out.flush().await
}

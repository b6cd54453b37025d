//! `doppel router`: the router as its own process. It serves from the last table it was given
//! (kept in `<data-dir>/router/state.json`, so a restart serves at once, with or without the
//! control plane), takes new tables and answers operators on its control socket, and hands its
//! listening sockets to a successor on `SIGUSR2`/`SIGHUP` or `POST /v1/upgrade` (zero-downtime
//! restart or upgrade), draining itself afterwards. `SIGTERM`/`SIGINT` stop it (drained).

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, oneshot, watch};

use crate::ca::PlatformCa;
use crate::control::{self, Command, ControlClient, ControlState, LogFeed, RouterStatus};
use crate::error::RouterError;
use crate::handover::{self, Sockets};
pub use crate::paths::{control_socket, pid_file, router_dir, state_file};
use crate::server::{Router, RouterOptions};
use crate::table::RouteTable;

/// How `doppel router` runs.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// The platform's data directory: the CA is `<data-dir>/ca.pem`, the router's own files
    /// are under `<data-dir>/router/`.
    pub data_dir: PathBuf,
    pub domain: String,
    pub bind: IpAddr,
    pub http_port: u16,
    pub https_port: u16,
    pub options: RouterOptions,
    /// Internal: take the sockets of the router listening for a successor at this path.
    pub takeover: Option<PathBuf>,
    /// The command line that starts a successor (the binary's path and this process's
    /// arguments, without `--takeover`).
    pub successor: Vec<OsString>,
}

/// How long a successor has to load its state and start serving.
const SUCCESSOR_DEADLINE: Duration = Duration::from_secs(60);
/// How long a stopping router lets its control connections finish.
const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// Runs the router process until it is stopped or has handed over and drained.
pub async fn run(cfg: ProcessConfig) -> Result<(), RouterError> {
    crate::install_crypto_provider();
    let dir = router_dir(&cfg.data_dir);
    create_private_dir(&dir)?;
    let (handover_stream, listeners) = match &cfg.takeover {
        Some(path) => {
            let path = path.clone();
            let (stream, sockets) = tokio::task::spawn_blocking(move || handover::receive(&path))
                .await
                .map_err(|e| RouterError::Handover(e.to_string()))??;
            (Some(stream), Listeners::from_sockets(sockets)?)
        }
        None => (None, Listeners::bind(&cfg).await?),
    };
    let ca = Arc::new(PlatformCa::load_or_create(&cfg.data_dir, &cfg.domain)?);
    let feed = LogFeed::new();
    let https_addr = listeners
        .https
        .local_addr()
        .map_err(RouterError::Listener)?;
    let router = Router::new(
        &cfg.domain,
        cfg.https_port,
        ca,
        &[https_addr.ip()],
        cfg.options.clone(),
        Arc::new(feed.clone()),
    )?;
    load_state(&router, &state_file(&cfg.data_dir));
    let (commands, mut command_rx) = mpsc::channel(4);
    let status = initial_status(&cfg, &listeners)?;
    let answering = tokio_util::task::TaskTracker::new();
    let control_task = tokio::spawn(control::serve(
        listeners.control.clone(),
        Arc::new(ControlState {
            router: router.clone(),
            logs: feed,
            commands,
            status,
            persist: persister(state_file(&cfg.data_dir)),
            answering: answering.clone(),
        }),
    ));
    let (stop_accepting, accept_stop) = oneshot::channel::<()>();
    let accept_task = {
        let (router, l) = (router.clone(), listeners.clone());
        tokio::spawn(async move {
            router
                .accept_until(&l.https, l.http.as_deref(), async {
                    let _ = accept_stop.await;
                })
                .await;
        })
    };
    write_pid(&cfg.data_dir)?;
    if let Some(stream) = handover_stream {
        tokio::task::spawn_blocking(move || handover::ready(&stream))
            .await
            .map_err(|e| RouterError::Handover(e.to_string()))??;
    }
    sd_notify(&format!("MAINPID={}\nREADY=1", std::process::id()));
    tracing::info!(https = %https_addr, http = ?listeners.http.as_ref().and_then(|l| l.local_addr().ok()), pid = std::process::id(), "router serving");

    let handed_over = main_loop(&cfg, &listeners, &mut command_rx).await;
    let _ = stop_accepting.send(());
    let _ = accept_task.await;
    control_task.abort();
    drop(listeners);
    if !handed_over {
        remove_if_ours(&cfg.data_dir);
    }
    tracing::info!(handed_over, "router draining");
    let cut = router.drain().await;
    // Control connections already taken (the upgrade's own answer) finish before this process
    // goes; a streaming one (the control plane following log lines) is cut after a moment.
    answering.close();
    let _ = tokio::time::timeout(ANSWER_GRACE, answering.wait()).await;
    tracing::info!(cut, "router stopped");
    Ok(())
}

/// Waits for a stop or a successful hand-over; true when a successor took over.
async fn main_loop(
    cfg: &ProcessConfig,
    listeners: &Listeners,
    commands: &mut mpsc::Receiver<Command>,
) -> bool {
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch signals; stopping");
            return false;
        }
    };
    let dir = router_dir(&cfg.data_dir);
    let mut dir_check = tokio::time::interval(Duration::from_secs(10));
    loop {
        let upgrade_reply = tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Upgrade(reply)) => Some(reply),
                Some(Command::Stop) | None => return false,
            },
            what = signals.next() => match what {
                SignalKind::Stop => return false,
                SignalKind::Upgrade => None,
            },
            _ = dir_check.tick() => {
                if !dir.exists() {
                    tracing::warn!(dir = %dir.display(), "the router's directory is gone; stopping");
                    return false;
                }
                continue;
            }
        };
        match hand_over(cfg, listeners).await {
            Ok(pid) => {
                tracing::info!(
                    successor = pid,
                    "a new router process serves; this one drains"
                );
                if let Some(reply) = upgrade_reply {
                    let _ = reply.send(Ok(pid));
                }
                return true;
            }
            Err(e) => {
                tracing::error!(error = %e, "upgrade failed; this router keeps serving");
                if let Some(reply) = upgrade_reply {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// Starts a successor and passes it the sockets; returns its pid once it serves.
async fn hand_over(cfg: &ProcessConfig, listeners: &Listeners) -> Result<u32, RouterError> {
    let path = router_dir(&cfg.data_dir).join(format!("handover-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| RouterError::Handover(format!("listening on {}: {e}", path.display())))?;
    let result = hand_over_on(cfg, listeners, &listener, &path).await;
    let _ = std::fs::remove_file(&path);
    result
}

async fn hand_over_on(
    cfg: &ProcessConfig,
    listeners: &Listeners,
    listener: &UnixListener,
    path: &Path,
) -> Result<u32, RouterError> {
    let (program, args) = cfg
        .successor
        .split_first()
        .ok_or_else(|| RouterError::Handover("no command line to start a successor".into()))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .arg("--takeover")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            RouterError::Handover(format!("starting {}: {e}", program.to_string_lossy()))
        })?;
    let pid = child.id().unwrap_or(0);
    let stream = tokio::select! {
        accepted = listener.accept() => accepted.map_err(|e| RouterError::Handover(e.to_string()))?.0,
        exited = child.wait() => {
            return Err(RouterError::Handover(format!("the new router exited before taking over ({})", exited.map_or_else(|e| e.to_string(), |s| s.to_string()))));
        }
        () = tokio::time::sleep(SUCCESSOR_DEADLINE) => {
            let _ = child.start_kill();
            return Err(RouterError::Handover("the new router did not connect in time".into()));
        }
    };
    let stream = stream
        .into_std()
        .map_err(|e| RouterError::Handover(e.to_string()))?;
    stream
        .set_nonblocking(false)
        .map_err(|e| RouterError::Handover(e.to_string()))?;
    let sockets = listeners.dup()?;
    let confirmed = tokio::task::spawn_blocking(move || {
        handover::send(&stream, &sockets)?;
        handover::wait_ready(&stream, SUCCESSOR_DEADLINE)
    })
    .await
    .map_err(|e| RouterError::Handover(e.to_string()))?;
    if let Err(e) = confirmed {
        let _ = child.start_kill();
        return Err(e);
    }
    Ok(pid)
}

/// The three sockets a router serves on.
#[derive(Clone)]
struct Listeners {
    https: Arc<TcpListener>,
    http: Option<Arc<TcpListener>>,
    control: Arc<UnixListener>,
}

impl Listeners {
    async fn bind(cfg: &ProcessConfig) -> Result<Listeners, RouterError> {
        let socket = control_socket(&cfg.data_dir);
        if let Ok(status) = ControlClient::new(&socket).status().await {
            return Err(RouterError::AlreadyRunning {
                pid: status.pid,
                socket,
            });
        }
        let bind = |port: u16| {
            let addr = SocketAddr::new(cfg.bind, port);
            async move {
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| RouterError::Bind { addr, source })
            }
        };
        let https = bind(cfg.https_port).await?;
        let http = bind(cfg.http_port).await?;
        let _ = std::fs::remove_file(&socket);
        let control = UnixListener::bind(&socket).map_err(|source| RouterError::Write {
            path: socket.clone(),
            source,
        })?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| RouterError::Write {
                path: socket.clone(),
                source,
            },
        )?;
        Ok(Listeners {
            https: Arc::new(https),
            http: Some(Arc::new(http)),
            control: Arc::new(control),
        })
    }

    fn from_sockets(s: Sockets) -> Result<Listeners, RouterError> {
        let tcp = |fd: OwnedFd| {
            let l = std::net::TcpListener::from(fd);
            l.set_nonblocking(true).map_err(RouterError::Listener)?;
            TcpListener::from_std(l).map_err(RouterError::Listener)
        };
        let control = std::os::unix::net::UnixListener::from(s.control);
        control
            .set_nonblocking(true)
            .map_err(RouterError::Listener)?;
        Ok(Listeners {
            https: Arc::new(tcp(s.https)?),
            http: s.http.map(tcp).transpose()?.map(Arc::new),
            control: Arc::new(UnixListener::from_std(control).map_err(RouterError::Listener)?),
        })
    }

    /// Duplicates of the sockets, for a successor.
    fn dup(&self) -> Result<Sockets, RouterError> {
        let dup = |fd: std::os::fd::BorrowedFd<'_>| {
            fd.try_clone_to_owned()
                .map_err(|e| RouterError::Handover(format!("duplicating a socket: {e}")))
        };
        Ok(Sockets {
            https: dup(self.https.as_fd())?,
            http: self.http.as_ref().map(|l| dup(l.as_fd())).transpose()?,
            control: dup(self.control.as_fd())?,
        })
    }
}

fn initial_status(cfg: &ProcessConfig, l: &Listeners) -> Result<RouterStatus, RouterError> {
    let exe = cfg.successor.first().map(PathBuf::from).unwrap_or_default();
    let exe_mtime = std::fs::metadata(&exe).map_or(0, |m| u64::try_from(m.mtime()).unwrap_or(0));
    Ok(RouterStatus {
        pid: std::process::id(),
        exe: exe.display().to_string(),
        exe_mtime,
        started_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0)),
        table_digest: String::new(),
        routes: 0,
        https: l
            .https
            .local_addr()
            .map_err(RouterError::Listener)?
            .to_string(),
        http: l
            .http
            .as_ref()
            .and_then(|h| h.local_addr().ok())
            .map(|a| a.to_string()),
        open_connections: 0,
    })
}

/// Serves the last persisted table, if any (a damaged file is logged and ignored).
fn load_state(router: &Router, path: &Path) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read the saved route table; starting empty");
            return;
        }
    };
    match serde_json::from_slice::<RouteTable>(&bytes) {
        Ok(table) => {
            let routes = table.routes.len();
            router.apply(Arc::new(table), control::table_digest(&bytes));
            tracing::info!(routes, "serving the saved route table");
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "the saved route table is unreadable; starting empty")
        }
    }
}

/// A function that saves the latest table in the background (writes coalesce).
fn persister(path: PathBuf) -> Arc<dyn Fn(Bytes) + Send + Sync> {
    let (tx, mut rx) = watch::channel::<Option<Bytes>>(None);
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let Some(bytes) = rx.borrow_and_update().clone() else {
                continue;
            };
            let path = path.clone();
            let written = tokio::task::spawn_blocking(move || write_atomic(&path, &bytes)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "could not save the route table; a restart would serve an older one")
                }
                Err(e) => tracing::error!(error = %e, "saving the route table panicked"),
            }
        }
    });
    Arc::new(move |bytes| {
        let _ = tx.send(Some(bytes));
    })
}

/// Writes a private (0600) file: temporary file, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RouterError> {
    use std::io::Write;
    let err = |source| RouterError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

fn create_private_dir(dir: &Path) -> Result<(), RouterError> {
    let err = |source| RouterError::Write {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)
}

fn write_pid(data_dir: &Path) -> Result<(), RouterError> {
    write_atomic(
        &pid_file(data_dir),
        format!("{}\n", std::process::id()).as_bytes(),
    )
}

/// Removes the pid file and the control socket if they are still this process's.
fn remove_if_ours(data_dir: &Path) {
    let pid = std::fs::read_to_string(pid_file(data_dir)).unwrap_or_default();
    if pid.trim() == std::process::id().to_string() {
        let _ = std::fs::remove_file(pid_file(data_dir));
        let _ = std::fs::remove_file(control_socket(data_dir));
    }
}

/// Tells systemd (when it started us with `Type=notify`) about our state.
fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    let sent = if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
    } else {
        socket.send_to(state.as_bytes(), &path)
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "could not notify systemd");
    }
}

enum SignalKind {
    Stop,
    Upgrade,
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind as K};
        Ok(Signals {
            term: signal(K::terminate())?,
            int: signal(K::interrupt())?,
            hup: signal(K::hangup())?,
            usr2: signal(K::user_defined2())?,
        })
    }

    async fn next(&mut self) -> SignalKind {
        tokio::select! {
            _ = self.term.recv() => SignalKind::Stop,
            _ = self.int.recv() => SignalKind::Stop,
            _ = self.hup.recv() => SignalKind::Upgrade,
            _ = self.usr2.recv() => SignalKind::Upgrade,
        }
    }
}

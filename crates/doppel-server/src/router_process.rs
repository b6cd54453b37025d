//! The router process as the server sees it: found on the data directory's control socket, or
//! started (`doppel router`, in its own process group so it outlives the server), and upgraded
//! without downtime when it runs an older binary than the server.

use anyhow::{bail, Context};
use doppel_control::ServerConfig;
use doppel_router::{ControlClient, RouterStatus};
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long a starting router has to answer.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Makes sure a router serves `config`'s data directory on its ports.
pub async fn ensure(config: &ServerConfig, client: &ControlClient) -> anyhow::Result<()> {
    match client.status().await {
        Ok(status) => {
            check_listeners(config, &status)?;
            if outdated(&status) {
                tracing::info!(
                    pid = status.pid,
                    "the router runs an older doppel binary; upgrading it without downtime"
                );
                match client.upgrade().await {
                    Ok(up) => tracing::info!(pid = up.pid, "router upgraded"),
                    Err(e) => {
                        tracing::warn!(error = %e, "router upgrade failed; the running one keeps serving")
                    }
                }
            } else {
                tracing::info!(pid = status.pid, "using the running router");
            }
            Ok(())
        }
        Err(_) if !config.spawn_router => {
            tracing::info!("waiting for the router (doppel-router.service) to answer");
            wait_ready(client, None).await
        }
        Err(_) => {
            let child = spawn(config)?;
            wait_ready(client, Some(child)).await
        }
    }
}

fn check_listeners(config: &ServerConfig, status: &RouterStatus) -> anyhow::Result<()> {
    let port = |addr: &str| {
        addr.rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
    };
    if port(&status.https) != Some(config.https_port)
        || status.http.as_deref().and_then(port) != Some(config.http_port)
    {
        bail!(
            "a router (pid {}) serves this data directory on {} and {:?}, not on ports {} and {}: \
             stop it with `doppel router --stop --data-dir {}` or start the server with its ports",
            status.pid,
            status.https,
            status.http,
            config.https_port,
            config.http_port,
            config.data_dir.display()
        );
    }
    Ok(())
}

/// True when this server's binary is newer than the one the router runs.
fn outdated(status: &RouterStatus) -> bool {
    let Ok(exe) = std::env::current_exe() else {
        return false;
    };
    let mtime = std::fs::metadata(&exe).map_or(0, |m| m.mtime());
    exe.display().to_string() == status.exe && u64::try_from(mtime).unwrap_or(0) > status.exe_mtime
}

/// Starts `doppel router` for `config`, logging to `<data-dir>/router/router.log`.
fn spawn(config: &ServerConfig) -> anyhow::Result<tokio::process::Child> {
    let exe = std::env::current_exe().context("finding the doppel binary to start the router")?;
    let dir = doppel_router::process::router_dir(&config.data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let log_path = dir.join("router.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let child = tokio::process::Command::new(&exe)
        .arg("router")
        // Every setting the router needs is given here; it must agree with the server.
        .args(["--config", "/dev/null"])
        .arg("--data-dir")
        .arg(&config.data_dir)
        .args(["--domain", &config.domain])
        .args(["--bind", &config.bind_addr.to_string()])
        .args(["--http-port", &config.http_port.to_string()])
        .args(["--https-port", &config.https_port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C to the server's terminal does not stop it.
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
        .with_context(|| format!("starting {} router", exe.display()))?;
    tracing::info!(pid = ?child.id(), log = %log_path.display(), "started the router");
    Ok(child)
}

async fn wait_ready(
    client: &ControlClient,
    mut child: Option<tokio::process::Child>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if client.status().await.is_ok() {
            if let Some(mut child) = child {
                // Reap it whenever it exits, so it leaves no zombie while the server runs.
                tokio::spawn(async move {
                    let _ = child.wait().await;
                });
            }
            return Ok(());
        }
        if let Some(c) = child.as_mut() {
            if let Some(status) = c.try_wait()? {
                bail!(
                    "the router exited at start ({status}); see {}",
                    client.socket().with_file_name("router.log").display()
                );
            }
        }
        if start.elapsed() > START_DEADLINE {
            bail!(
                "no router answered on {} within {START_DEADLINE:?}",
                client.socket().display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

//! `doppel router`: runs the router process (the TLS edge, see `doppel_router::process`), or
//! talks to the running one on its control socket (`--status`, `--upgrade`, `--stop`,
//! `--logs`). It reads the server's keys of the config file (data dir, domain, ports, bind),
//! so both agree on where they serve.

use crate::config_file::ConfigFlags;
use anyhow::Context as _;
use clap::Args;
use doppel_router::process::ProcessConfig;
use doppel_router::{ControlClient, RouterOptions};
use std::ffi::OsString;
use std::path::PathBuf;

/// Each long flag is also a key of the config file (the server's keys apply).
#[derive(Args)]
pub struct RouterArgs {
    #[command(flatten)]
    pub config: ConfigFlags,
    /// Where the platform keeps its state; the router's own files are under `<data-dir>/router`.
    #[arg(long, env = "DOPPEL_DATA_DIR", default_value = "/var/lib/doppel")]
    pub data_dir: PathBuf,
    /// Platform domain: the API at https://<domain>, environments at https://<env>.<domain>.
    #[arg(long, env = "DOPPEL_DOMAIN", default_value = "localhost")]
    pub domain: String,
    #[arg(long, env = "DOPPEL_HTTP_PORT", default_value_t = 80)]
    pub http_port: u16,
    #[arg(long, env = "DOPPEL_HTTPS_PORT", default_value_t = 443)]
    pub https_port: u16,
    /// Address to listen on.
    #[arg(long, env = "DOPPEL_BIND", default_value = "0.0.0.0")]
    pub bind: std::net::IpAddr,
    /// Print the running router's status (JSON) and exit.
    #[arg(long, conflicts_with_all = ["upgrade", "stop", "logs"])]
    pub status: bool,
    /// Replace the running router with a new process of the binary at its path, without
    /// refusing a connection (it hands its sockets over, then drains); prints the new pid.
    #[arg(long, conflicts_with_all = ["stop", "logs"])]
    pub upgrade: bool,
    /// Stop the running router (it drains first).
    #[arg(long, conflicts_with = "logs")]
    pub stop: bool,
    /// Print the running router's log lines (Heroku format, one JSON object a line) as they come.
    #[arg(long)]
    pub logs: bool,
    /// Internal: take over the sockets of the router listening for a successor at this path.
    #[arg(long, hide = true, value_name = "SOCKET")]
    pub takeover: Option<PathBuf>,
}

/// Runs `doppel router` with its settings resolved.
pub async fn run(args: RouterArgs) -> anyhow::Result<()> {
    let client = ControlClient::for_data_dir(&args.data_dir);
    if args.status {
        let status = client.status().await?;
        return print_line(&serde_json::to_string_pretty(&status)?);
    }
    if args.upgrade {
        let up = client.upgrade().await?;
        return print_line(&format!("router upgraded: pid {} serves now", up.pid));
    }
    if args.stop {
        client.stop().await?;
        return print_line("router stopping (draining in-flight requests)");
    }
    if args.logs {
        return follow_logs(&client).await;
    }
    let cfg = ProcessConfig {
        data_dir: args.data_dir,
        domain: args.domain.to_ascii_lowercase(),
        bind: args.bind,
        http_port: args.http_port,
        https_port: args.https_port,
        options: RouterOptions::default(),
        takeover: args.takeover,
        successor: successor_command()?,
    };
    doppel_router::process::run(cfg)
        .await
        .context("running the router")
}

/// Prints the router's log lines until interrupted, following it across upgrades.
async fn follow_logs(client: &ControlClient) -> anyhow::Result<()> {
    let mut lines = client.logs().await?;
    loop {
        while let Some(line) = lines.next().await {
            print_line(&serde_json::to_string(&line)?)?;
        }
        // The router stopped or handed over: the next one answers on the same socket.
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if let Ok(next) = client.logs().await {
                lines = next;
                break;
            }
        }
    }
}

/// Prints a line; a closed pipe (`| head`) ends quietly.
fn print_line(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// This process's command line for a successor: the binary's path (resolved now, so an
/// upgraded file at the same path is what runs next) and the arguments, without `--takeover`.
fn successor_command() -> anyhow::Result<Vec<OsString>> {
    let exe = std::env::current_exe().context("finding the doppel binary")?;
    let mut argv = vec![exe.into_os_string()];
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--takeover" {
            args.next();
            continue;
        }
        if arg.to_string_lossy().starts_with("--takeover=") {
            continue;
        }
        argv.push(arg);
    }
    Ok(argv)
}

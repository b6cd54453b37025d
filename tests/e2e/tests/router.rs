//! The router as its own process, end to end: apps keep serving while the control plane is
//! stopped and after the router itself restarts from its state file, and a router upgrade
//! under load (new connections, HTTP/1.1 keep-alive, HTTP/2) fails no request.

use anyhow::{bail, Result};
use doppel_e2e::{doppel_bin, AppRepo, Server};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const ENV: &str = "routed-staging";
const NEEDLE: &str = "hello from static";

/// A server with `routed` created and its staging environment serving the static fixture.
fn serving_server() -> Result<Server> {
    let server = Server::start()?;
    server.create_app("routed")?;
    let repo = AppRepo::from_fixture("static")?;
    let (ok, transcript) = repo.push(&server, ENV, "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert!(
        server.wait_serves(ENV, NEEDLE, 60)?,
        "staging never served:\n{}",
        server.log()
    );
    Ok(server)
}

/// `doppel router <args> --data-dir <dir>` (talking to the running router).
fn router_ctl(data_dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(doppel_bin())
        .arg("router")
        .args(args)
        .args(["--config", "/dev/null", "--data-dir"])
        .arg(data_dir)
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("doppel router {args:?} failed: {text}");
    }
    Ok(text)
}

/// Starts `doppel router` by hand on the server's data directory and ports.
fn start_router(server: &Server) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(server.data_dir.join("router-by-hand.log"))?;
    let child = Command::new(doppel_bin())
        .arg("router")
        .args(["--config", "/dev/null", "--data-dir"])
        .arg(&server.data_dir)
        .args(["--bind", "127.0.0.1"])
        .args(["--https-port", &server.https_port.to_string()])
        .args(["--http-port", &server.http_port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let start = Instant::now();
    while router_ctl(&server.data_dir, &["--status"]).is_err() {
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the router started by hand never answered");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(child)
}

#[test]
fn apps_serve_while_the_control_plane_is_stopped_and_after_a_router_restart() -> Result<()> {
    let mut server = serving_server()?;
    let router_before = server.router_pid();
    assert!(router_before.is_some(), "the server started no router");
    server.stop();

    // The control plane is gone; the router serves with the last table it was given.
    let (status, body) = server.get(&server.env_url(ENV), Some(&server.token))?;
    assert_eq!(status, 200, "app down with the control plane: {body}");
    assert!(body.contains(NEEDLE), "{body}");
    let (status, _) = server.get(&server.env_url(ENV), None)?;
    assert_eq!(
        status, 401,
        "staging must stay private without the control plane"
    );
    let (status, body) = server.get(&format!("{}/account", server.platform_url()), None)?;
    assert_eq!(
        status, 503,
        "the platform host should say it is away: {body}"
    );
    assert_eq!(
        server.router_pid(),
        router_before,
        "the router was restarted"
    );

    // The router itself restarts, still without the control plane: the table and the
    // staging credentials come back from its state file.
    server.stop_router();
    let (status, _) = server.get(&server.env_url(ENV), Some(&server.token))?;
    assert_eq!(status, 0, "something still answers on the router's port");
    let mut router = start_router(&server)?;
    let (status, body) = server.get(&server.env_url(ENV), Some(&server.token))?;
    let (anonymous, _) = server.get(&server.env_url(ENV), None)?;
    let _ = Command::new("kill")
        .args(["-TERM", &router.id().to_string()])
        .status();
    let _ = router.wait();
    assert_eq!(status, 200, "the restarted router lost its routes: {body}");
    assert!(body.contains(NEEDLE), "{body}");
    assert_eq!(
        anonymous, 401,
        "the restarted router lost staging's privacy"
    );
    Ok(())
}

/// Requests `url` in a loop until `stop`; returns (answered 200, failed, failures seen).
fn load(
    server: &Server,
    flavour: &'static [&'static str],
    per_call: usize,
    stop: Arc<AtomicBool>,
) -> JoinHandle<(usize, usize, Vec<String>)> {
    let url = server.env_url(ENV);
    let ca = server.ca();
    let auth = format!("user:{}", server.token);
    std::thread::spawn(move || {
        let (mut ok, mut failed, mut seen) = (0, 0, Vec::new());
        while !stop.load(Ordering::Relaxed) {
            let mut cmd = Command::new("curl");
            cmd.args(["-sS", "--max-time", "30", "-w", "%{http_code}\\n"])
                .args(flavour)
                .arg("--cacert")
                .arg(&ca)
                .args(["-u", &auth]);
            for _ in 0..per_call {
                cmd.args(["-o", "/dev/null", &url]);
            }
            let Ok(out) = cmd.output() else {
                failed += per_call;
                continue;
            };
            let codes = String::from_utf8_lossy(&out.stdout).to_string();
            let good = codes.lines().filter(|c| *c == "200").count();
            ok += good;
            if good < per_call {
                failed += per_call - good;
                seen.push(format!(
                    "{flavour:?}: codes {codes:?}, {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        (ok, failed, seen)
    })
}

#[test]
fn a_router_upgrade_under_load_fails_no_request() -> Result<()> {
    let server = serving_server()?;
    let stop = Arc::new(AtomicBool::new(false));
    let loads = vec![
        // A new connection (and TLS handshake) for every request.
        load(&server, &["--http1.1"], 1, stop.clone()),
        // Keep-alive: many requests on one connection.
        load(&server, &["--http1.1"], 40, stop.clone()),
        load(&server, &["--http2"], 40, stop.clone()),
    ];
    std::thread::sleep(Duration::from_secs(1));
    let mut pids = vec![server.router_pid()];
    for _ in 0..2 {
        let said = router_ctl(&server.data_dir, &["--upgrade"])?;
        assert!(said.contains("router upgraded"), "{said}");
        std::thread::sleep(Duration::from_secs(2));
        pids.push(server.router_pid());
    }
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut failed, mut seen) = (0, 0, Vec::new());
    for handle in loads {
        let Ok((o, f, s)) = handle.join() else {
            bail!("a load thread panicked");
        };
        ok += o;
        failed += f;
        seen.extend(s);
    }
    assert!(
        pids.windows(2).all(|w| w[0] != w[1]) && pids.iter().all(Option::is_some),
        "each upgrade should start a new router process: {pids:?}"
    );
    eprintln!("{ok} requests answered 200 across the upgrades {pids:?}, {failed} failed");
    assert!(ok > 100, "too little load to prove anything: {ok} requests");
    assert_eq!(failed, 0, "requests failed during the upgrades: {seen:#?}");
    // And the last router serves.
    assert!(server.wait_serves(ENV, NEEDLE, 5)?);
    Ok(())
}

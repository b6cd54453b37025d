//! The control plane restarting (what a package upgrade does after handing the router over)
//! under load: the router keeps every app's route until the restarted server has built its
//! first table from the store, so no request gets a 404 or any answer but 200 meanwhile.
//! (The package-level check, wrk under systemd, is deploy/check-upgrade.sh.)

use anyhow::{bail, Result};
use doppel_e2e::{AppRepo, Server};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const ENV: &str = "restarts-staging";
const NEEDLE: &str = "GREETING=";
/// Requests per curl call, on one keep-alive connection.
const PER_CALL: usize = 20;

/// Requests the app until `stop`, counting 200s in `ok`; returns the other answers seen.
fn load(server: &Server, ok: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> JoinHandle<Vec<String>> {
    let url = server.env_url(ENV);
    let ca = server.ca();
    let auth = format!("user:{}", server.token);
    std::thread::spawn(move || {
        let mut failures = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let mut cmd = Command::new("curl");
            cmd.args(["-sS", "--max-time", "30", "-w", "%{http_code}\\n"])
                .arg("--cacert")
                .arg(&ca)
                .args(["-u", &auth]);
            for _ in 0..PER_CALL {
                cmd.args(["-o", "/dev/null", &url]);
            }
            let out = match cmd.output() {
                Ok(out) => out,
                Err(e) => {
                    failures.push(format!("curl did not run: {e}"));
                    continue;
                }
            };
            let codes = String::from_utf8_lossy(&out.stdout).to_string();
            let good = codes.lines().filter(|c| *c == "200").count();
            ok.fetch_add(good, Ordering::Relaxed);
            if good < PER_CALL {
                failures.push(format!(
                    "codes {:?}: {}",
                    codes.lines().filter(|c| *c != "200").collect::<Vec<_>>(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        failures
    })
}

#[test]
fn apps_answer_200_throughout_a_restart_of_the_control_plane() -> Result<()> {
    let mut first = Server::start()?;
    first.create_app("restarts")?;
    let repo = AppRepo::from_fixture("env-echo")?;
    let (pushed, transcript) = repo.push(&first, ENV, "main")?;
    assert!(pushed, "push failed:\n{transcript}\n{}", first.log());
    assert!(
        first.wait_serves(ENV, NEEDLE, 120)?,
        "staging never served:\n{}",
        first.log()
    );
    let router = first.router_pid();

    let ok = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let loads: Vec<_> = (0..2)
        .map(|_| load(&first, ok.clone(), stop.clone()))
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let before = ok.load(Ordering::Relaxed);
    first.stop();
    // The same data directory: the new server finds the running router and its ports.
    let second = Server::start_in(&first.data_dir)?;
    let during = ok.load(Ordering::Relaxed) - before;
    // Past the new server's first supervisor pass and route table.
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for handle in loads {
        let Ok(seen) = handle.join() else {
            bail!("a load thread panicked");
        };
        failures.extend(seen);
    }
    let total = ok.load(Ordering::Relaxed);
    eprintln!("{total} requests answered 200, {during} of them while the control plane restarted");
    assert!(
        failures.is_empty(),
        "requests failed across the restart: {failures:?}\n{}",
        second.log()
    );
    assert!(
        during > 0,
        "no request was made while the control plane restarted"
    );
    assert_eq!(
        second.router_pid(),
        router,
        "the router should have kept running"
    );
    drop(second);
    Ok(())
}

//! The Docker engine restarted under a running doppel (issue 8): a web app on staging and
//! production, each with a worker; `deploy/restart-docker.sh` restarts the engine, which
//! stops every container; every dyno comes back (one container each: no duplicate, no
//! orphan), both environments serve through the router again, and the log says what
//! happened.
//!
//! This restarts the machine's one Docker engine and so stops every container on it, other
//! users' too: on a machine shared with people running tests, set
//! `DOPPEL_TEST_SKIP_ENGINE_RESTART=1` (it then prints that it skipped).

use anyhow::{bail, Result};
use doppel_e2e::{docker, repo_root, wait_for, AppRepo, Server};
use std::collections::BTreeMap;
use std::process::Command;

const PROCFILE: &str = "web: python3 /srv/server.py\n\
                        worker: sh -c 'while true; do echo worker tick; sleep 2; done'\n";

fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("doppel {args:?} failed: {text}\n{}", server.log());
    }
    Ok(text)
}

/// Containers by ("env (role)", dyno): (id, running) of each.
type Dynos = BTreeMap<(String, String), Vec<(String, bool)>>;

/// Every container of this installation, running or not.
fn dynos(server: &Server) -> Result<Dynos> {
    let (ok, out) = docker(&[
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        &format!("label=doppel.instance={}", server.instance_id()?),
        "--format",
        "{{.ID}}|{{.State}}|{{.Label \"doppel.env\"}}|{{.Label \"doppel.role\"}}|{{.Label \"doppel.dyno\"}}",
    ])?;
    if !ok {
        bail!("docker ps: {out}");
    }
    let mut all = Dynos::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let [id, state, env, role, dyno] = f[..] else {
            bail!("unexpected docker ps line: {line}");
        };
        all.entry((format!("{env} ({role})"), dyno.to_string()))
            .or_default()
            .push((id.to_string(), state == "running"));
    }
    Ok(all)
}

/// Both environments answer through the router.
fn serves(server: &Server) -> Result<bool> {
    let (staging, body) = server.get(&server.env_url("engine-staging"), Some(&server.token))?;
    let (production, body2) = server.get(&server.env_url("engine"), None)?;
    Ok(staging == 200
        && body.contains("hello from dockerfile")
        && production == 200
        && body2.contains("hello from dockerfile"))
}

#[test]
fn every_dyno_comes_back_routed_after_the_engine_restarts() -> Result<()> {
    if std::env::var_os("DOPPEL_TEST_SKIP_ENGINE_RESTART").is_some() {
        eprintln!("skipped: DOPPEL_TEST_SKIP_ENGINE_RESTART is set");
        return Ok(());
    }
    let server = Server::start()?;
    server.create_app("engine")?;
    let app = AppRepo::from_fixture("dockerfile")?;
    std::fs::write(app.path().join("Procfile"), PROCFILE)?;
    app.commit_all("a web and a worker process")?;
    let (ok, out) = app.push(&server, "engine-staging", "main")?;
    assert!(ok, "{out}\n{}", server.log());
    cli_ok(&server, &["ps:scale", "worker=1", "-a", "engine-staging"])?;
    cli_ok(&server, &["promote", "-p", "engine"])?;
    cli_ok(&server, &["ps:scale", "worker=1", "-a", "engine"])?;
    assert!(wait_for(60, || serves(&server))?, "{}", server.log());
    let four = |all: &Dynos| all.len() == 4 && all.values().all(|c| c.len() == 1 && c[0].1);
    assert!(wait_for(60, || Ok(four(&dynos(&server)?)))?);
    let before = dynos(&server)?;

    let restart = Command::new("bash")
        .arg(repo_root().join("deploy/restart-docker.sh"))
        .output()?;
    assert!(
        restart.status.success(),
        "restart-docker.sh failed: {}{}",
        String::from_utf8_lossy(&restart.stdout),
        String::from_utf8_lossy(&restart.stderr)
    );

    // Every dyno is back in a new container; the stopped ones are removed.
    let back = wait_for(180, || {
        let Ok(now) = dynos(&server) else {
            return Ok(false);
        };
        let renewed = |(k, c): (&(String, String), &Vec<(String, bool)>)| {
            before.get(k).is_some_and(|b| b[0].0 != c[0].0)
        };
        Ok(four(&now) && now.iter().all(renewed))
    })?;
    assert!(
        back,
        "dynos before: {before:?}\nnow: {:?}\n{}",
        dynos(&server)?,
        server.log()
    );
    assert!(wait_for(60, || serves(&server))?, "{}", server.log());
    // Still so a little later: nothing started twice, nothing left behind.
    std::thread::sleep(std::time::Duration::from_secs(5));
    let after = dynos(&server)?;
    assert!(four(&after), "{after:?}");
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );

    for env in ["engine-staging", "engine"] {
        let logs = cli_ok(&server, &["logs", "-a", env, "-n", "500"])?;
        for dyno in ["web.1", "worker.1"] {
            for line in [
                format!("heroku[{dyno}]: State changed from up to crashed"),
                format!("heroku[{dyno}]: State changed from crashed to starting"),
            ] {
                assert!(logs.contains(&line), "{env}: no `{line}` in\n{logs}");
            }
        }
        let ps = cli_ok(&server, &["ps", "-a", env])?;
        assert!(ps.contains("web.1: up"), "{ps}");
        assert!(ps.contains("worker.1: up"), "{ps}");
    }
    Ok(())
}

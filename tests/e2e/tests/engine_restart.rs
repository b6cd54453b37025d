//! The Docker engine restarted under a running doppel (issues 8 and 11): a web app on
//! staging and production, each with a worker, and a second app whose staging has a Postgres
//! and a Redis add-on holding a row and a key the app wrote; `deploy/restart-docker.sh`
//! restarts the engine, which stops every container; every dyno comes back (one container
//! each: no duplicate, no orphan), both environments serve through the router again, the log
//! says what happened, the add-on servers come back by themselves (supervised), and the app
//! reads its row and key again through `DATABASE_URL` and `REDIS_URL`.
//!
//! This restarts the machine's one Docker engine and so stops every container on it, other
//! users' too: on a machine shared with people running tests, set
//! `DOPPEL_TEST_SKIP_ENGINE_RESTART=1` (it then prints that it skipped).

use anyhow::{bail, Result};
use doppel_e2e::notes_app::notes_app;
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
        if !["engine", "engine-staging"].contains(&env) {
            continue; // the add-on app's containers are checked on their own
        }
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

/// The add-on app's environment.
const DATA_ENV: &str = "enginedata-staging";

/// GET `path` on the add-on app until it answers 200 with `needle` (up to `secs`).
fn data_until(server: &Server, path: &str, needle: &str, secs: u64) -> Result<bool> {
    let url = format!("{}{path}", server.env_url(DATA_ENV).trim_end_matches('/'));
    wait_for(secs, || {
        let (status, body) = server.get(&url, Some(&server.token))?;
        Ok(status == 200 && body.contains(needle))
    })
}

/// The add-on app's add-on server containers: (id, running).
fn addon_servers(server: &Server) -> Result<Vec<(String, bool)>> {
    let (ok, out) = docker(&[
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        &format!("label=doppel.instance={}", server.instance_id()?),
        "--filter",
        "label=doppel.role=addon",
        "--format",
        "{{.ID}}|{{.State}}",
    ])?;
    if !ok {
        bail!("docker ps: {out}");
    }
    Ok(out
        .lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(id, state)| (id.to_string(), state == "running"))
        .collect())
}

/// A Postgres and a Redis add-on on the add-on app's staging, a row and a key written by
/// the app through them.
fn app_with_addons(server: &Server) -> Result<()> {
    server.create_app("enginedata")?;
    for service in ["postgres", "redis"] {
        cli_ok(server, &["addons:create", service, "-a", DATA_ENV])?;
    }
    let repo = notes_app("v1")?;
    let (ok, out) = repo.push(server, DATA_ENV, "main")?;
    assert!(ok, "{out}\n{}", server.log());
    assert!(
        data_until(server, "/", "notes v1", 120)?,
        "{}",
        server.log()
    );
    assert!(data_until(server, "/pg/add?v=before", "", 30)?);
    assert!(data_until(server, "/redis/set?k=who&v=before", "OK", 30)?);
    assert!(data_until(server, "/pg/rows", "rows=[before]", 30)?);
    Ok(())
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
    app_with_addons(&server)?;
    let servers_before = addon_servers(&server)?;
    assert_eq!(servers_before.len(), 2, "{servers_before:?}");

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

    // The add-on servers run again (one each), and the app reads what it wrote.
    let servers_back = wait_for(180, || {
        let now = addon_servers(&server)?;
        Ok(now.len() == 2 && now.iter().all(|(_, running)| *running))
    })?;
    assert!(
        servers_back,
        "add-on servers: {:?}\n{}",
        addon_servers(&server)?,
        server.log()
    );
    assert!(
        data_until(&server, "/pg/rows", "rows=[before]", 180)?,
        "the row written before the engine restart is not read back\n{}",
        server.log()
    );
    assert!(
        data_until(&server, "/redis/get?k=who", "value=[before]", 60)?,
        "the key written before the engine restart is not read back\n{}",
        server.log()
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

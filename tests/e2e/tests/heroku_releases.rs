//! The clients teams already have, against a live doppel on the real engine, through a team's
//! daily release work: config (set, get, list, unset: each a new release the app then runs
//! with), releases and their info, a rollback that restores the earlier config (and the app
//! serves it), scaling web to two dynos and back (checked against Docker), resizing (the
//! container's memory limit, from `docker inspect`), builds and their output. Driven with the
//! official Heroku CLI v10 and v11 and with heroku3; the app (`env-echo`) answers with the
//! config it runs with.

use anyhow::{bail, Result};
use doppel_e2e::{docker_inspect, AppRepo, HerokuCli, Ran, Server};
use std::time::{Duration, Instant};

const GIB: i64 = 1024 * 1024 * 1024;

/// Pushes the `env-echo` fixture to `env` and waits until it serves.
fn deploy_echo(server: &Server, env: &str) -> Result<()> {
    let repo = AppRepo::from_fixture("env-echo")?;
    let (ok, transcript) = repo.push(server, env, "main")?;
    if !ok || !transcript.contains("Released v1") {
        bail!("push to {env} failed:\n{transcript}\n{}", server.log());
    }
    expect_serves(server, env, "GREETING=(unset)")
}

/// Fails unless `env` serves a body containing `needle` within 60 s.
fn expect_serves(server: &Server, env: &str, needle: &str) -> Result<()> {
    if !server.wait_serves(env, needle, 60)? {
        let (status, body) = server.get(&server.env_url(env), Some(&server.token))?;
        bail!("{env} does not serve {needle:?}: {status} {body}");
    }
    Ok(())
}

/// Polls `what` every half second for up to 60 s until it holds.
fn eventually(description: &str, mut what: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if what()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    bail!("not within 60 s: {description}")
}

/// The memory limits (bytes) of `env`'s running dyno containers. A container listed and then
/// removed before it is inspected (an old dyno that finished draining) is left out.
fn memory_limits(server: &Server, env: &str) -> Result<Vec<i64>> {
    Ok(server
        .dyno_ids(env)?
        .iter()
        .filter_map(|id| docker_inspect(id).ok())
        .map(|c| c["HostConfig"]["Memory"].as_i64().unwrap_or(0))
        .collect())
}

fn assert_has(ran: &Ran, needles: &[&str], what: &str) {
    let text = ran.text();
    for needle in needles {
        assert!(text.contains(needle), "{what}: no {needle:?} in:\n{text}");
    }
}

/// Runs the official CLI `cli` with `args` on app `env` (`-a env`).
fn heroku_on(server: &Server, cli: HerokuCli, env: &str, args: &[&str]) -> Result<Ran> {
    let mut all = args.to_vec();
    all.extend(["-a", env]);
    server.heroku(cli, &all)
}

/// Config, releases and rollback with the official CLI `cli` on `env` (released at v1).
fn cli_config_releases_rollback(server: &Server, cli: HerokuCli, env: &str) -> Result<()> {
    let heroku = |args: &[&str]| heroku_on(server, cli, env, args);
    let what = format!("{cli:?} {env}");
    let ran = heroku(&["config:set", "GREETING=hello there", "OTHER=1"])?.ok()?;
    assert_has(&ran, &["done, v2", "hello there"], &what);
    expect_serves(server, env, "GREETING=hello there")?;
    let ran = heroku(&["config"])?.ok()?;
    assert_has(&ran, &["GREETING", "hello there", "OTHER"], &what);
    let ran = heroku(&["config:get", "GREETING"])?.ok()?;
    assert_eq!(ran.stdout.trim(), "hello there", "{what}");
    let ran = heroku(&["config:unset", "GREETING"])?.ok()?;
    assert_has(&ran, &["done, v3"], &what);
    expect_serves(server, env, "GREETING=(unset)")?;
    let ran = heroku(&["releases"])?.ok()?;
    assert_has(
        &ran,
        &[
            "v3",
            "Remove GREETING config vars",
            "v2",
            "Set GREETING, OTHER config vars",
            "v1",
            "Deploy",
        ],
        &what,
    );
    let ran = heroku(&["releases:info", "v2"])?.ok()?;
    assert_has(
        &ran,
        &["Set GREETING, OTHER config vars", "GREETING", "hello there"],
        &what,
    );
    let ran = heroku(&["releases:info"])?.ok()?;
    assert_has(&ran, &["Release v3", "Remove GREETING config vars"], &what);
    // Back to v2: its image and its config; the app serves the old greeting again.
    let ran = heroku(&["rollback", "v2"])?.ok()?;
    assert_has(&ran, &["done, v4"], &what);
    expect_serves(server, env, "GREETING=hello there")?;
    let ran = heroku(&["config:get", "GREETING"])?.ok()?;
    assert_eq!(ran.stdout.trim(), "hello there", "{what}");
    let ran = heroku(&["releases"])?.ok()?;
    assert_has(&ran, &["v4", "Rollback to v2"], &what);
    // Bad input: a clear error, nothing changed.
    let ran = heroku(&["config:set", "PORT=80"])?;
    assert!(!ran.success, "{what}: PORT must be refused");
    assert_has(&ran, &["PORT cannot be set"], &what);
    let ran = heroku(&["rollback", "v99"])?;
    assert!(!ran.success, "{what}: rollback to v99 must fail");
    assert_has(&ran, &["Couldn't find that release"], &what);
    let ran = heroku(&["releases"])?.ok()?;
    assert!(!ran.text().contains("v5"), "{what}: {}", ran.text());
    Ok(())
}

/// Scaling and resizing with the official CLI `cli` on `env`, checked against Docker.
fn cli_scale_and_resize(server: &Server, cli: HerokuCli, env: &str) -> Result<()> {
    let heroku = |args: &[&str]| heroku_on(server, cli, env, args);
    let what = format!("{cli:?} {env}");
    let ran = heroku(&["ps:scale", "web=2"])?.ok()?;
    assert_has(&ran, &["web at 2:standard-1X"], &what);
    eventually(&format!("{env} runs two web containers"), || {
        Ok(server.dyno_ids(env)?.len() == 2)
    })?;
    let ran = heroku(&["ps:scale"])?.ok()?;
    assert_has(&ran, &["web=2:standard-1X"], &what);
    let ran = heroku(&["ps:scale", "web-1"])?.ok()?;
    assert_has(&ran, &["web at 1:standard-1X"], &what);
    eventually(&format!("{env} is back to one web container"), || {
        Ok(server.dyno_ids(env)?.len() == 1)
    })?;
    let ran = heroku(&["ps:scale", "worker=1"])?;
    assert!(!ran.success, "{what}: the release has no worker");
    assert_has(&ran, &["Couldn't find that process type"], &what);
    let ran = heroku(&["ps:scale", "web=101"])?;
    assert!(!ran.success, "{what}: over the limit");
    assert_has(&ran, &["from 0 to 100"], &what);
    assert_eq!(memory_limits(server, env)?, [GIB / 2], "{what}");
    // v10 resizes one type by name, v11 every type with one size (`ps:type SIZE`).
    let resize: &[&str] = match cli {
        HerokuCli::V10 => &["ps:resize", "web=standard-2X"],
        HerokuCli::V11 => &["ps:type", "standard-2x"],
    };
    let ran = heroku(resize)?.ok()?;
    assert_has(&ran, &["standard-2X"], &what);
    eventually(&format!("{env}'s web dyno has 1 GiB"), || {
        Ok(memory_limits(server, env)? == [GIB])
    })?;
    expect_serves(server, env, "GREETING=hello there")?;
    let ran = heroku(&["ps:type"])?.ok()?;
    assert_has(&ran, &["web", "standard-2X"], &what);
    Ok(())
}

/// `ps`, `ps:restart` and `ps:stop` with the official CLI `cli` on `env` (one web dyno).
fn cli_dynos(server: &Server, cli: HerokuCli, env: &str) -> Result<()> {
    let heroku = |args: &[&str]| heroku_on(server, cli, env, args);
    let what = format!("{cli:?} {env}");
    eventually(&format!("{env}'s web.1 is up"), || {
        Ok(heroku(&["ps"])?.ok()?.text().contains("web.1: up"))
    })?;
    let before = server.dyno_ids(env)?;
    heroku(&["ps:restart", "web"])?.ok()?;
    eventually(
        &format!("{env}'s web dyno is replaced by ps:restart"),
        || {
            let now = server.dyno_ids(env)?;
            Ok(now.len() == 1 && now != before)
        },
    )?;
    expect_serves(server, env, "GREETING=hello there")?;
    let before = server.dyno_ids(env)?;
    heroku(&["ps:stop", "web.1"])?.ok()?;
    // The formation still wants one web dyno: a fresh one takes its place.
    eventually(&format!("{env}'s stopped web.1 comes back"), || {
        let now = server.dyno_ids(env)?;
        Ok(now.len() == 1 && now != before)
    })?;
    expect_serves(server, env, "GREETING=hello there")?;
    let ran = heroku(&["ps:restart", "web.9"])?;
    assert!(!ran.success, "{what}: there is no web.9");
    Ok(())
}

/// The whole daily round with one version of the official CLI on a server of its own.
fn official_cli_round(cli: HerokuCli, app: &str) -> Result<Server> {
    let server = Server::start()?;
    server.create_app(app)?;
    let env = format!("{app}-staging");
    deploy_echo(&server, &env)?;
    cli_config_releases_rollback(&server, cli, &env)?;
    cli_scale_and_resize(&server, cli, &env)?;
    cli_dynos(&server, cli, &env)?;
    // Production was never touched by any of it.
    assert!(server.dyno_ids(app)?.is_empty(), "{cli:?}");
    Ok(server)
}

#[test]
fn heroku_cli_v10_config_releases_rollback_scaling_and_builds() -> Result<()> {
    let server = official_cli_round(HerokuCli::V10, "relten")?;
    // `builds` and `builds:output` come from Heroku's builds plugin, which the v10 CLI loads.
    let env = "relten-staging";
    let ran = heroku_on(&server, HerokuCli::V10, env, &["builds"])?.ok()?;
    assert_has(&ran, &["succeeded", "admin@localhost"], "builds");
    let ran = heroku_on(&server, HerokuCli::V10, env, &["builds:output"])?.ok()?;
    assert_has(
        &ran,
        &["Building with the app's Dockerfile"],
        "builds:output",
    );
    // The URL it read needs no token, and a guessed one finds nothing.
    let (_, builds) = server.api("GET", &format!("/apps/{env}/builds"), None)?;
    let url = builds[0]["output_stream_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, log) = server.get(&url, None)?;
    assert_eq!(status, 200, "{log}");
    assert!(log.contains("Building with the app's Dockerfile"), "{log}");
    let (status, _) = server.get(&format!("{}0", &url[..url.len() - 2]), None)?;
    assert_eq!(status, 404);
    Ok(())
}

#[test]
fn heroku_cli_v11_config_releases_rollback_scaling() -> Result<()> {
    official_cli_round(HerokuCli::V11, "releleven")?;
    Ok(())
}

#[test]
fn heroku3_config_releases_rollback_scaling_and_builds() -> Result<()> {
    let server = Server::start()?;
    server.create_app("hthree")?;
    let env = "hthree-staging";
    deploy_echo(&server, env)?;
    let py = |script: &str| -> Result<Ran> {
        server
            .heroku3(&format!("app = h.app('{env}')\n{script}"))?
            .ok()
    };
    let ran = py("c = app.config()\n\
         c['GREETING'] = 'from heroku3'\n\
         print('CONFIG', app.config().to_dict())\n\
         c2 = app.config()\n\
         c2['EXTRA'] = '1'\n\
         del c2['EXTRA']\n\
         print('RELEASES', [(r.version, r.description, r.status) for r in app.releases()])\n")?;
    assert_has(
        &ran,
        &["CONFIG {'GREETING': 'from heroku3'}"],
        "heroku3 config",
    );
    assert_has(
        &ran,
        &[
            "(2, 'Set GREETING config vars', 'succeeded')",
            "(3, 'Set EXTRA config vars', 'succeeded')",
            "(4, 'Remove EXTRA config vars', 'succeeded')",
        ],
        "heroku3 releases",
    );
    expect_serves(&server, env, "GREETING=from heroku3")?;
    // Rollback to v1 (by id): its config had no GREETING.
    let ran = py("v1 = [r for r in app.releases() if r.version == 1][0]\n\
         latest = app.rollback(v1.id)\n\
         print('LATEST', latest.version, latest.description)\n\
         print('CONFIG', app.config().to_dict())\n")?;
    assert_has(
        &ran,
        &["LATEST 5 Rollback to v1", "CONFIG {}"],
        "heroku3 rollback",
    );
    expect_serves(&server, env, "GREETING=(unset)")?;
    // Bad input is refused with Heroku's error body.
    let ran = py("import requests\n\
         for bad in ({'1BAD': 'x'}, {'DYNO': 'x'}):\n\
         \x20   try:\n\
         \x20       app.update_config(bad)\n\
         \x20   except requests.HTTPError as e:\n\
         \x20       print('REFUSED', e.response.status_code, e.response.json()['id'])\n\
         try:\n\
         \x20   app.rollback('no-such-release')\n\
         except requests.HTTPError as e:\n\
         \x20   print('REFUSED', e.response.status_code, e.response.json()['id'])\n\
         print('COUNT', len(app.releases()))\n")?;
    assert_has(
        &ran,
        &[
            "REFUSED 422 invalid_params",
            "REFUSED 404 not_found",
            "COUNT 5",
        ],
        "heroku3 bad input",
    );
    assert_eq!(
        ran.text().matches("REFUSED 422").count(),
        2,
        "{}",
        ran.text()
    );

    // Scaling: two web containers, then one; resizing: 1 GiB.
    let ran = py(
        "print('SCALED', [(f.type, f.quantity) for f in app.batch_scale_formation_processes({'web': 2})])\n",
    )?;
    assert_has(&ran, &["SCALED [('web', 2)]"], "heroku3 scale");
    eventually(
        "two web containers",
        || Ok(server.dyno_ids(env)?.len() == 2),
    )?;
    let ran = py(
        "f = [f for f in app.process_formation() if f.type == 'web'][0]\n\
         print('SCALED', f.scale(1).quantity)\n",
    )?;
    assert_has(&ran, &["SCALED 1"], "heroku3 scale back");
    eventually("one web container", || Ok(server.dyno_ids(env)?.len() == 1))?;
    let ran = py(
        "print('RESIZED', [(f.type, f.size) for f in app.batch_resize_formation_processes({'web': 'standard-2x'})])\n",
    )?;
    assert_has(
        &ran,
        &["RESIZED [('web', 'standard-2X')]"],
        "heroku3 resize",
    );
    eventually("a 1 GiB web dyno", || {
        Ok(memory_limits(&server, env)? == [GIB])
    })?;
    expect_serves(&server, env, "GREETING=(unset)")?;

    // Builds and the build's output, through the stream URL heroku3 reads.
    let ran = py("b = app.builds()[0]\n\
         print('BUILD', b.status)\n\
         print(b.get())\n")?;
    assert_has(
        &ran,
        &["BUILD succeeded", "Building with the app's Dockerfile"],
        "heroku3 builds",
    );
    Ok(())
}

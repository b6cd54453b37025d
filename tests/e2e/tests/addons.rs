//! Add-ons end to end, with the real engine, git, the doppel CLI and the official Heroku CLI:
//! a real app writes rows through `DATABASE_URL` and keys through `REDIS_URL` (it shells out
//! to `psql` and `redis-cli`, installed from Debian's archive); staging's and production's
//! databases are separate; the data survives a redeploy, a rollback, a killed add-on
//! container, a restart of `doppel server`, every container stopped at once (as a Docker
//! engine restart leaves them) and a promotion; a backup of production restored
//! into staging gives production's rows with the masking script applied; a corrupted backup is
//! refused and leaves the database unchanged; a credential rotation gives the app a new URL
//! and the old password stops working; Redis is backed up and restored the same way; and the
//! Heroku CLI's `addons:create heroku-postgresql` sets `DATABASE_URL`.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use doppel_e2e::notes_app::notes_app;
use doppel_e2e::{docker, docker_ids, AppRepo, HerokuCli, Server};

/// Runs the doppel CLI; fails with its output unless it succeeds.
fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    if !out.status.success() {
        bail!(
            "doppel {args:?} failed:\n{}\n{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&server.log())
        );
    }
    Ok(text(&out))
}

/// Runs the doppel CLI; fails unless it is refused; returns its output.
fn cli_refused(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    if out.status.success() {
        bail!(
            "doppel {args:?} succeeded but should not have:\n{}",
            text(&out)
        );
    }
    Ok(text(&out))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// GET `path` on `env` (with the token); the status and body.
fn app_get(server: &Server, env: &str, path: &str) -> Result<(u16, String)> {
    let url = format!("{}{path}", server.env_url(env).trim_end_matches('/'));
    server.get(&url, Some(&server.token))
}

/// GET `path` on `env` until it answers 200 with `needle` (for up to `secs`); the last body.
fn app_until(server: &Server, env: &str, path: &str, needle: &str, secs: u64) -> Result<String> {
    let mut last = (0, String::new());
    for _ in 0..secs {
        last = app_get(server, env, path)?;
        if last.0 == 200 && last.1.contains(needle) {
            return Ok(last.1);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    bail!(
        "{env}{path} never answered 200 with {needle:?}; last: {} {}\n--- server log ---\n{}",
        last.0,
        last.1,
        tail(&server.log())
    )
}

/// Inserts a row through the app of `env`.
fn add_row(server: &Server, env: &str, v: &str) -> Result<()> {
    let (status, body) = app_get(server, env, &format!("/pg/add?v={v}"))?;
    if status != 200 {
        bail!("inserting {v} into {env}: {status} {body}");
    }
    Ok(())
}

/// Asserts the rows `env`'s app reads (sorted, comma-separated), waiting up to a minute for
/// the app (and its database) to be back after an event.
fn assert_rows(server: &Server, env: &str, rows: &str, after: &str) -> Result<()> {
    let want = format!("rows=[{rows}]");
    let body = app_until(server, env, "/pg/rows", "rows=[", 90)
        .with_context(|| format!("reading {env}'s rows after {after}"))?;
    if !body.contains(&want) {
        bail!("after {after}, {env} reads {body:?}, expected {want:?}");
    }
    Ok(())
}

/// Asserts the value of Redis key `k` that `env`'s app reads.
fn assert_key(server: &Server, env: &str, k: &str, v: &str, after: &str) -> Result<()> {
    let want = format!("value=[{v}]");
    let body = app_until(server, env, &format!("/redis/get?k={k}"), "value=[", 90)
        .with_context(|| format!("reading {env}'s key {k} after {after}"))?;
    if !body.contains(&want) {
        bail!("after {after}, {env} reads {body:?} for {k}, expected {want:?}");
    }
    Ok(())
}

fn config_var(server: &Server, env: &str, key: &str) -> Result<String> {
    let (status, vars) = server.api("GET", &format!("/apps/{env}/config-vars"), None)?;
    if status != 200 {
        bail!("config of {env}: {status} {vars}");
    }
    vars[key]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("{env} has no {key}: {vars}"))
}

/// The running add-on server containers of `env` for `service` ("postgres" or "redis").
fn addon_containers(server: &Server, env: &str, service: &str) -> Result<Vec<String>> {
    let ids = docker_ids(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=doppel.instance={}", server.instance_id()?),
        "--filter",
        "label=doppel.role=addon",
        "--filter",
        &format!("label=doppel.env={env}"),
    ])?;
    let mut out = Vec::new();
    for id in ids {
        let (_, image) = docker(&["inspect", "-f", "{{.Config.Image}}", &id])?;
        if image.contains(&format!("addon-{service}")) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The newest backup file of the environment directory under `<data>/backups`.
fn newest_backup_file(server: &Server) -> Result<PathBuf> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for env_dir in std::fs::read_dir(server.data_dir.join("backups"))? {
        for f in std::fs::read_dir(env_dir?.path())? {
            let f = f?;
            let modified = f.metadata()?.modified()?;
            if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                newest = Some((modified, f.path()));
            }
        }
    }
    newest.map(|(_, p)| p).context("no backup files")
}

/// Deploys `version` to staging and waits until it serves.
fn deploy_staging(server: &Server, repo: &AppRepo, app: &str) -> Result<()> {
    let (ok, out) = repo.push(server, &format!("{app}-staging"), "main")?;
    if !ok {
        bail!("push failed:\n{out}\n{}", tail(&server.log()));
    }
    Ok(())
}

/// Promotes `app`'s staging, waiting while staging's old dynos still drain behind the last
/// deploy's answer (parity counts them as drift until they are gone).
fn promote(server: &Server, app: &str) -> Result<()> {
    for _ in 0..120 {
        let out = server.cli(&["promote", "-p", app])?;
        if out.status.success() {
            return Ok(());
        }
        let said = text(&out);
        if !said.contains("but its current release is") {
            bail!("promote -p {app} failed:\n{said}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    bail!(
        "staging's old dynos never drained:\n{}",
        tail(&server.log())
    )
}

#[test]
fn an_apps_data_lives_in_its_addons_through_every_event() -> Result<()> {
    let mut server = Server::start()?;
    server.create_app("notes")?;

    // One Postgres and one Redis per environment, same service, plan and version.
    let out = cli_ok(&server, &["addons:create", "postgres", "-p", "notes"])?;
    assert!(out.contains("DATABASE_URL"), "{out}");
    let out = cli_ok(&server, &["addons:create", "redis", "-p", "notes"])?;
    assert!(out.contains("REDIS_URL"), "{out}");
    let staging_url = config_var(&server, "notes-staging", "DATABASE_URL")?;
    let production_url = config_var(&server, "notes", "DATABASE_URL")?;
    assert!(staging_url.starts_with("postgres://"), "{staging_url}");
    assert_ne!(
        staging_url, production_url,
        "the environments share a database"
    );
    let listed = cli_ok(&server, &["addons", "-p", "notes"])?;
    assert!(
        listed.contains("postgres") && listed.contains("redis"),
        "{listed}"
    );

    // The app, in staging then (promoted) in production.
    let repo = notes_app("v1")?;
    deploy_staging(&server, &repo, "notes")?;
    app_until(&server, "notes-staging", "/", "notes v1", 120)?;
    promote(&server, "notes")?;
    app_until(&server, "notes", "/", "notes v1", 120)?;

    // Rows and keys through the URLs; each environment sees only its own.
    add_row(&server, "notes-staging", "s1")?;
    for v in ["p1", "p2", "p3"] {
        add_row(&server, "notes", v)?;
    }
    app_until(
        &server,
        "notes-staging",
        "/redis/set?k=who&v=staging",
        "OK",
        10,
    )?;
    app_until(&server, "notes", "/redis/set?k=who&v=production", "OK", 10)?;
    assert_rows(&server, "notes-staging", "s1", "writing")?;
    assert_rows(&server, "notes", "p1,p2,p3", "writing")?;
    assert_key(&server, "notes-staging", "who", "staging", "writing")?;
    assert_key(&server, "notes", "who", "production", "writing")?;

    // A redeploy, then a rollback.
    std::fs::write(repo.path().join("VERSION"), "v2")?;
    repo.commit_all("v2")?;
    deploy_staging(&server, &repo, "notes")?;
    app_until(&server, "notes-staging", "/", "notes v2", 120)?;
    assert_rows(&server, "notes-staging", "s1", "a redeploy")?;
    assert_key(&server, "notes-staging", "who", "staging", "a redeploy")?;
    cli_ok(&server, &["rollback", "-a", "notes-staging"])?;
    app_until(&server, "notes-staging", "/", "notes v1", 120)?;
    assert_rows(&server, "notes-staging", "s1", "a rollback")?;

    // The add-on servers killed: the supervisor brings them back with their data.
    for service in ["postgres", "redis"] {
        let killed = addon_containers(&server, "notes-staging", service)?;
        assert_eq!(killed.len(), 1, "one {service} server for staging");
        docker(&["kill", &killed[0]])?;
    }
    assert_rows(
        &server,
        "notes-staging",
        "s1",
        "killing the database server",
    )?;
    assert_key(&server, "notes-staging", "who", "staging", "killing Redis")?;

    // doppel server restarted.
    server.stop();
    let restarted = Server::start_in(&server.data_dir.clone())?;
    assert_rows(&restarted, "notes-staging", "s1", "a server restart")?;
    assert_rows(&restarted, "notes", "p1,p2,p3", "a server restart")?;
    assert_key(&restarted, "notes", "who", "production", "a server restart")?;
    let server = restarted;

    // Every container of the installation stopped at once, dynos and add-on servers, which is
    // what a Docker engine restart leaves (engine_restart.rs restarts the engine itself, on a
    // machine nobody else uses): all come back by themselves with the data.
    let all = docker_ids(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=doppel.instance={}", server.instance_id()?),
    ])?;
    assert!(all.len() >= 6, "dynos and add-on servers: {all:?}");
    let mut stop = vec!["stop", "-t", "5"];
    stop.extend(all.iter().map(String::as_str));
    let (ok, out) = docker(&stop)?;
    assert!(ok, "docker stop: {out}");
    assert_rows(&server, "notes-staging", "s1", "every container stopped")?;
    assert_rows(&server, "notes", "p1,p2,p3", "every container stopped")?;
    assert_key(
        &server,
        "notes",
        "who",
        "production",
        "every container stopped",
    )?;
    assert_key(
        &server,
        "notes-staging",
        "who",
        "staging",
        "every container stopped",
    )?;

    // A promotion replaces production's code, never its data.
    std::fs::write(repo.path().join("VERSION"), "v3")?;
    repo.commit_all("v3")?;
    deploy_staging(&server, &repo, "notes")?;
    app_until(&server, "notes-staging", "/", "notes v3", 120)?;
    promote(&server, "notes")?;
    app_until(&server, "notes", "/", "notes v3", 120)?;
    assert_rows(&server, "notes", "p1,p2,p3", "a promotion")?;
    assert_key(&server, "notes", "who", "production", "a promotion")?;
    assert_rows(&server, "notes-staging", "s1", "a promotion")?;

    backups_and_rotation(&server)
}

/// Production's backup into staging with a masking script; a corrupted backup refused;
/// Redis backed up and restored; a rotation of staging's password.
fn backups_and_rotation(server: &Server) -> Result<()> {
    let out = cli_ok(server, &["pg:backups:capture", "-a", "notes"])?;
    assert!(out.contains("b001"), "{out}");
    let listed = cli_ok(server, &["pg:backups", "-a", "notes"])?;
    assert!(
        listed.contains("b001") && listed.contains("verified"),
        "{listed}"
    );
    // The download arrives whole (the CLI checks it against the recorded checksum).
    let dump = server.data_dir.join("b001.dump");
    let dump_arg = dump.to_string_lossy().to_string();
    let out = cli_ok(
        server,
        &[
            "pg:backups:download",
            "b001",
            "-a",
            "notes",
            "-o",
            &dump_arg,
        ],
    )?;
    assert!(out.contains("blake3:"), "{out}");
    assert!(std::fs::metadata(&dump)?.len() > 0, "an empty download");
    let mask = server.data_dir.join("mask.sql");
    std::fs::write(&mask, "UPDATE notes SET v = 'masked-' || v;\n")?;
    let mask_arg = mask.to_string_lossy().to_string();
    let out = cli_ok(
        server,
        &[
            "pg:backups:restore",
            "notes::b001",
            "-a",
            "notes-staging",
            "--confirm",
            "notes-staging",
            "--mask-script",
            &mask_arg,
        ],
    )?;
    assert!(out.contains("masking script"), "{out}");
    assert_rows(
        server,
        "notes-staging",
        "masked-p1,masked-p2,masked-p3",
        "restoring production's backup into staging",
    )?;
    assert_rows(server, "notes", "p1,p2,p3", "restoring into staging")?;

    // A corrupted backup of staging is refused; staging keeps its rows.
    cli_ok(server, &["pg:backups:capture", "-a", "notes-staging"])?;
    let file = newest_backup_file(server)?;
    let mut bytes = std::fs::read(&file)?;
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&file, &bytes)?;
    add_row(server, "notes-staging", "after-backup")?;
    let refused = cli_refused(
        server,
        &[
            "pg:backups:restore",
            "-a",
            "notes-staging",
            "--confirm",
            "notes-staging",
        ],
    )?;
    assert!(
        refused.contains("cannot be used") && refused.contains("checksum"),
        "{refused}"
    );
    assert_rows(
        server,
        "notes-staging",
        "after-backup,masked-p1,masked-p2,masked-p3",
        "a refused restore",
    )?;

    // Redis: captured, changed, restored.
    cli_ok(server, &["redis:backups:capture", "-a", "notes-staging"])?;
    app_until(
        server,
        "notes-staging",
        "/redis/set?k=who&v=changed",
        "OK",
        10,
    )?;
    assert_key(server, "notes-staging", "who", "changed", "a change")?;
    cli_ok(
        server,
        &[
            "redis:backups:restore",
            "-a",
            "notes-staging",
            "--confirm",
            "notes-staging",
        ],
    )?;
    assert_key(server, "notes-staging", "who", "staging", "a Redis restore")?;

    rotation(server)
}

/// A rotation: a new URL reaches the app through a release; the old password is refused.
fn rotation(server: &Server) -> Result<()> {
    let old = config_var(server, "notes-staging", "DATABASE_URL")?;
    cli_ok(
        server,
        &[
            "pg:credentials:rotate",
            "-a",
            "notes-staging",
            "--confirm",
            "notes-staging",
        ],
    )?;
    let new = config_var(server, "notes-staging", "DATABASE_URL")?;
    assert_ne!(old, new, "the URL did not change");
    add_row(server, "notes-staging", "rotated")
        .or_else(|_| {
            std::thread::sleep(Duration::from_secs(20));
            add_row(server, "notes-staging", "rotated")
        })
        .context("the app could not write with the new credentials")?;
    // From a dyno, on the environment's network: the old password is refused, the new one
    // works.
    let dyno = server
        .dyno_ids("notes-staging")?
        .into_iter()
        .next()
        .context("no staging dyno")?;
    let (ok, out) = docker(&["exec", &dyno, "psql", &old, "-X", "-c", "SELECT 1"])?;
    assert!(!ok, "the old password still works: {out}");
    assert!(out.contains("password authentication failed"), "{out}");
    let (ok, out) = docker(&["exec", &dyno, "psql", &new, "-X", "-c", "SELECT 1"])?;
    assert!(ok, "the new password does not work: {out}");
    // Neither password is in the server's log.
    let log = server.log();
    let password = |url: &str| -> Result<String> {
        let p = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .map(|(_, p)| p.to_string())
            .context("no password in the URL")?;
        assert!(p.len() >= 16, "a short password");
        Ok(p)
    };
    let passwords = [password(&old)?, password(&new)?];
    for p in &passwords {
        assert!(!log.contains(p.as_str()), "a password is in the server log");
    }
    // Nor in what `docker inspect` shows of the add-on servers (their environment, command,
    // labels), before and after the server is recreated (it reads the rotated password from
    // its volume).
    assert_no_password_inspected(server, "notes-staging", &passwords)?;
    let killed = addon_containers(server, "notes-staging", "postgres")?;
    docker(&["rm", "-f", &killed[0]])?;
    app_until(server, "notes-staging", "/pg/rows", "rows=[", 120)
        .context("the app could not read after its database server was recreated")?;
    let (ok, out) = docker(&["exec", &dyno, "psql", &new, "-X", "-c", "SELECT 1"])?;
    assert!(
        ok,
        "the new password stopped working on a new server: {out}"
    );
    assert_no_password_inspected(server, "notes-staging", &passwords)?;
    Ok(())
}

/// `docker inspect` of every add-on container of `env` holds none of `passwords`.
fn assert_no_password_inspected(server: &Server, env: &str, passwords: &[String]) -> Result<()> {
    let ids = [
        addon_containers(server, env, "postgres")?,
        addon_containers(server, env, "redis")?,
    ]
    .concat();
    assert_eq!(ids.len(), 2, "{env} has a postgres and a redis server");
    let redis_url = config_var(server, env, "REDIS_URL")?;
    let redis_password = redis_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p.to_string())
        .context("no password in REDIS_URL")?;
    for id in &ids {
        let (ok, inspected) = docker(&["inspect", id])?;
        assert!(ok, "docker inspect {id}: {inspected}");
        let (_, env) = docker(&["inspect", "-f", "{{json .Config.Env}}", id])?;
        assert!(
            !env.contains("DOPPEL_ADDON_PASSWORD="),
            "the add-on's environment holds a password variable"
        );
        for p in passwords.iter().chain([&redis_password]) {
            assert!(
                !inspected.contains(p.as_str()),
                "docker inspect shows an add-on password"
            );
        }
    }
    Ok(())
}

#[test]
fn heroku_cli_addons_create_heroku_postgresql_sets_database_url() -> Result<()> {
    let server = Server::start()?;
    server.create_app("hkpg")?;
    let ran = server
        .heroku(
            HerokuCli::V11,
            &[
                "addons:create",
                "heroku-postgresql:essential-0",
                "-a",
                "hkpg-staging",
            ],
        )?
        .ok()?;
    let said = ran.text();
    assert!(said.contains("heroku-postgresql:essential-0"), "{said}");
    // The CLI returns while it provisions; the URL is set when the server is ready.
    let mut url = None;
    for _ in 0..600 {
        if let Ok(u) = config_var(&server, "hkpg-staging", "DATABASE_URL") {
            url = Some(u);
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let url = url.with_context(|| format!("DATABASE_URL never set\n{}", tail(&server.log())))?;
    assert!(url.starts_with("postgres://"), "{url}");
    assert!(
        config_var(&server, "hkpg", "DATABASE_URL").is_err(),
        "-a provisions one environment only"
    );
    // Parity reports the add-on production lacks, and how to add it.
    let parity = server.cli(&["parity", "-p", "hkpg"])?;
    let parity = text(&parity);
    assert!(
        parity.contains("hkpg has no postgres add-on")
            && parity.contains("doppel addons:create postgres:essential-0 --as DATABASE -a hkpg"),
        "{parity}"
    );
    let listed = server
        .heroku(HerokuCli::V11, &["addons", "-a", "hkpg-staging"])?
        .ok()?
        .text();
    assert!(
        listed.contains("heroku-postgresql") || listed.contains("postgres"),
        "{listed}"
    );
    let info = server
        .heroku(
            HerokuCli::V11,
            &["addons:info", "DATABASE", "-a", "hkpg-staging"],
        )?
        .ok()?
        .text();
    assert!(info.contains("essential-0"), "{info}");
    server
        .heroku(
            HerokuCli::V11,
            &[
                "addons:destroy",
                "DATABASE",
                "-a",
                "hkpg-staging",
                "--confirm",
                "hkpg-staging",
            ],
        )?
        .ok()?;
    for _ in 0..120 {
        if config_var(&server, "hkpg-staging", "DATABASE_URL").is_err() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    bail!("DATABASE_URL still set after addons:destroy")
}

//! `doppel admin:backup` while a server with two deployed apps runs, then `doppel
//! admin:restore` into a fresh data directory: with the apps' containers, networks and images
//! gone from the engine (only this test's installation's), a server started on the restored
//! directory rebuilds the images from the saved repositories, and both apps serve again with
//! their config, their releases listed as before. Once with the store in SQLite (the data
//! directory's doppel.db), once in PostgreSQL (a fresh database on the cluster that
//! `DOPPEL_TEST_DATABASE_URL` names, restored into another fresh one; skipped without it).

use anyhow::{bail, Result};
use doppel_e2e::{doppel_bin, AppRepo, Server};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    if !out.status.success() {
        bail!("doppel {args:?} failed:\n{}\n{}", text(&out), server.log());
    }
    Ok(text(&out))
}

/// `doppel admin:<command> FILE --data-dir DIR [--database-url URL]`, with no config file.
fn admin(command: &str, file: &Path, data_dir: &Path, database: Option<&str>) -> Result<Output> {
    Ok(admin_command(command, file, data_dir, database).output()?)
}

fn admin_command(
    command: &str,
    file: &Path,
    data_dir: &Path,
    database: Option<&str>,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(doppel_bin());
    cmd.arg(format!("admin:{command}"))
        .arg(file)
        .args(["--config", "/dev/null", "--data-dir"])
        .arg(data_dir)
        .env("DOPPEL_LOG", "info");
    if let Some(url) = database {
        cmd.args(["--database-url", url]);
    }
    cmd
}

/// A fresh database on the test PostgreSQL cluster, dropped (with its connections) on drop.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// None when `DOPPEL_TEST_DATABASE_URL` (a superuser URL) is not set.
    fn create(purpose: &str) -> Result<Option<PgDatabase>> {
        let Ok(admin_url) = std::env::var("DOPPEL_TEST_DATABASE_URL") else {
            return Ok(None);
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .subsec_nanos();
        let name = format!("doppel_e2e_{purpose}_{}_{nanos}", std::process::id());
        psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
        let url = with_database(&admin_url, &name);
        Ok(Some(PgDatabase {
            admin_url,
            name,
            url,
        }))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = psql(&self.admin_url, &drop) {
            eprintln!("could not drop {}: {e:#}", self.name);
        }
    }
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let out = std::process::Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()?;
    if !out.status.success() {
        bail!("psql {sql:?}: {}", text(&out));
    }
    Ok(())
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    match query {
        "" => format!("{}/{db}", &base[..host_end]),
        q => format!("{}/{db}?{q}", &base[..host_end]),
    }
}

fn serves(server: &Server, env: &str, needle: &str, secs: u64) -> Result<()> {
    if !server.wait_serves(env, needle, secs)? {
        let (status, body) = server.get(&server.env_url(env), Some(&server.token))?;
        bail!(
            "{env} does not serve {needle:?} (got {status} {body})\n{}",
            server.log()
        );
    }
    Ok(())
}

/// The image ids (`docker inspect .Image`) of `env`'s running dynos.
fn running_images(server: &Server, env: &str) -> Result<Vec<String>> {
    let mut images = Vec::new();
    for id in server.dyno_ids(env)? {
        let inspected = doppel_e2e::docker_inspect(&id)?;
        images.push(inspected["Image"].as_str().unwrap_or_default().to_string());
    }
    images.sort();
    images.dedup();
    assert!(!images.is_empty(), "{env} runs no dyno");
    Ok(images)
}

/// Each environment's releases as (version, description, status), and its config.
fn state_of(server: &Server, envs: &[&str]) -> Result<Vec<String>> {
    let mut seen = Vec::new();
    for env in envs {
        let (status, releases) = server.api("GET", &format!("/apps/{env}/releases"), None)?;
        assert_eq!(status, 200, "{releases}");
        for r in releases.as_array().into_iter().flatten() {
            seen.push(format!(
                "{env} v{} {} {}",
                r["version"], r["description"], r["status"]
            ));
        }
        let (status, config) = server.api("GET", &format!("/apps/{env}/config-vars"), None)?;
        assert_eq!(status, 200, "{config}");
        seen.push(format!("{env} config {config}"));
    }
    Ok(seen)
}

#[test]
fn a_backup_taken_while_serving_restores_two_apps_that_serve_again() -> Result<()> {
    backup_and_restore(None, None)
}

#[test]
fn a_postgresql_store_backs_up_and_restores_into_a_fresh_database() -> Result<()> {
    let (Some(live), Some(fresh)) = (PgDatabase::create("live")?, PgDatabase::create("fresh")?)
    else {
        eprintln!("skipping: DOPPEL_TEST_DATABASE_URL is not set");
        return Ok(());
    };
    backup_and_restore(Some(&live.url), Some(&fresh.url))
}

/// Two apps deployed on a server whose store is SQLite (`None`) or the PostgreSQL database
/// `live_db`, backed up while it serves, restored into a fresh data directory (and the empty
/// database `fresh_db`), serving again as before.
fn backup_and_restore(live_db: Option<&str>, fresh_db: Option<&str>) -> Result<()> {
    let envs = ["bkone-staging", "bkone", "bktwo-staging"];
    let mut live = match live_db {
        Some(url) => Server::start_with(&["--database-url", url])?,
        None => Server::start()?,
    };
    let backups = tempfile::tempdir()?;
    let file = backups.path().join("doppel-backup.tar.gz");
    deploy_two_apps(&live)?;
    let before = state_of(&live, &envs)?;

    // The backup, while the server serves.
    if let Some(url) = live_db {
        backup_without_pg_dump_says_what_to_install(&live, url, &file)?;
    }
    let out = admin("backup", &file, &live.data_dir, live_db)?;
    assert!(out.status.success(), "admin:backup failed: {}", text(&out));
    assert!(text(&out).contains("Backed up"), "{}", text(&out));
    let backend = if live_db.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert!(
        text(&out).contains(&format!("({backend} store, schema")),
        "{}",
        text(&out)
    );
    let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the archive must be private");
    serves(&live, "bkone", "GREETING=in production", 10)?;
    let key = std::fs::read_to_string(live.data_dir.join("master.key"))?;
    assert!(!text(&out).contains(key.trim()), "the key was printed");

    // A non-empty data directory is refused and left as it was.
    let out = admin("restore", &file, &live.data_dir, live_db)?;
    assert!(!out.status.success());
    assert!(text(&out).contains("is not empty"), "{}", text(&out));
    if let Some(url) = live_db {
        restore_over_a_database_in_use_is_refused(&file, backups.path(), url)?;
    }
    assert_eq!(
        std::fs::read_to_string(live.data_dir.join("master.key"))?,
        key
    );

    // The installation is lost: its dynos, networks and images go with the old server
    // (only this installation's, by its instance label and image names).
    let instance = live.instance_id()?;
    live.stop();
    live.remove_all();
    drop(live);
    let (_, images) = doppel_e2e::docker(&[
        "images",
        "-q",
        "--filter",
        &format!("reference=doppel/app-{instance}-*"),
    ])?;
    assert!(images.trim().is_empty(), "images left: {images}");

    let fresh = tempfile::Builder::new().prefix("doppel-e2e-").tempdir()?;
    let out = admin("restore", &file, fresh.path(), fresh_db)?;
    assert!(out.status.success(), "admin:restore failed: {}", text(&out));
    let restored = match fresh_db {
        Some(url) => Server::start_in_owned(fresh, &["--database-url", url])?,
        None => Server::start_in_owned(fresh, &[])?,
    };
    assert_eq!(restored.instance_id()?, instance);
    serves(&restored, "bkone-staging", "GREETING=from one", 600)?;
    serves(&restored, "bktwo-staging", "GREETING=from two", 600)?;
    serves(&restored, "bkone", "GREETING=in production", 600)?;
    assert_eq!(state_of(&restored, &envs)?, before);
    // Production still runs the very image staging runs: one rebuild, shared.
    assert_eq!(
        running_images(&restored, "bkone")?,
        running_images(&restored, "bkone-staging")?
    );
    assert!(
        restored.log().contains("image rebuilt"),
        "the images should have been rebuilt:\n{}",
        restored.log()
    );
    Ok(())
}

/// Two apps with config, deployed to staging; the first promoted with its own production config.
fn deploy_two_apps(live: &Server) -> Result<()> {
    for (app, greeting) in [("bkone", "from one"), ("bktwo", "from two")] {
        cli_ok(live, &["apps:create", app])?;
        let staging = format!("{app}-staging");
        cli_ok(
            live,
            &[
                "config:set",
                &format!("GREETING={greeting}"),
                "-a",
                &staging,
            ],
        )?;
        let repo = AppRepo::from_fixture("env-echo")?;
        let (ok, out) = repo.push(live, &staging, "main")?;
        assert!(ok, "push to {staging} failed:\n{out}\n{}", live.log());
        serves(live, &staging, &format!("GREETING={greeting}"), 120)?;
    }
    cli_ok(
        live,
        &["config:set", "GREETING=in production", "-a", "bkone"],
    )?;
    cli_ok(live, &["promote", "-p", "bkone"])?;
    serves(live, "bkone", "GREETING=in production", 120)
}

/// Without pg_dump on PATH, a backup of a PostgreSQL store says what to install, and writes
/// nothing.
fn backup_without_pg_dump_says_what_to_install(
    live: &Server,
    url: &str,
    file: &Path,
) -> Result<()> {
    let empty = tempfile::tempdir()?;
    let out = admin_command("backup", file, &live.data_dir, Some(url))
        .env("PATH", empty.path())
        .output()?;
    assert!(!out.status.success(), "a backup without pg_dump succeeded");
    assert!(
        text(&out).contains("apt install postgresql-client"),
        "{}",
        text(&out)
    );
    assert!(!file.exists(), "a failed backup left {}", file.display());
    Ok(())
}

/// A restore over a PostgreSQL database in use (not empty) is refused, the new data
/// directory left missing.
fn restore_over_a_database_in_use_is_refused(file: &Path, scratch: &Path, url: &str) -> Result<()> {
    let refused = scratch.join("refused");
    let out = admin("restore", file, &refused, Some(url))?;
    assert!(!out.status.success(), "restored over a database in use");
    assert!(
        text(&out).contains("restore into an empty database"),
        "{}",
        text(&out)
    );
    assert!(
        !refused.exists(),
        "a refused restore left {}",
        refused.display()
    );
    Ok(())
}

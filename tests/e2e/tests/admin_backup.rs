//! `doppel admin:backup` while a server with two deployed apps runs, then `doppel
//! admin:restore` into a fresh data directory: with the apps' containers, networks and images
//! gone from the engine (only this test's installation's), a server started on the restored
//! directory rebuilds the images from the saved repositories, and both apps serve again with
//! their config, their releases listed as before.

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

/// `doppel admin:<command> FILE --data-dir DIR`, with no config file.
fn admin(command: &str, file: &Path, data_dir: &Path) -> Result<Output> {
    Ok(std::process::Command::new(doppel_bin())
        .arg(format!("admin:{command}"))
        .arg(file)
        .args(["--config", "/dev/null", "--data-dir"])
        .arg(data_dir)
        .env("DOPPEL_LOG", "info")
        .output()?)
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
    let envs = ["bkone-staging", "bkone", "bktwo-staging"];
    let mut live = Server::start()?;
    let backups = tempfile::tempdir()?;
    let file = backups.path().join("doppel-backup.tar.gz");
    for (app, greeting) in [("bkone", "from one"), ("bktwo", "from two")] {
        cli_ok(&live, &["apps:create", app])?;
        let staging = format!("{app}-staging");
        cli_ok(
            &live,
            &[
                "config:set",
                &format!("GREETING={greeting}"),
                "-a",
                &staging,
            ],
        )?;
        let repo = AppRepo::from_fixture("env-echo")?;
        let (ok, out) = repo.push(&live, &staging, "main")?;
        assert!(ok, "push to {staging} failed:\n{out}\n{}", live.log());
        serves(&live, &staging, &format!("GREETING={greeting}"), 120)?;
    }
    cli_ok(
        &live,
        &["config:set", "GREETING=in production", "-a", "bkone"],
    )?;
    cli_ok(&live, &["promote", "-p", "bkone"])?;
    serves(&live, "bkone", "GREETING=in production", 120)?;
    let before = state_of(&live, &envs)?;

    // The backup, while the server serves.
    let out = admin("backup", &file, &live.data_dir)?;
    assert!(out.status.success(), "admin:backup failed: {}", text(&out));
    assert!(text(&out).contains("Backed up"), "{}", text(&out));
    let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the archive must be private");
    serves(&live, "bkone", "GREETING=in production", 10)?;
    let key = std::fs::read_to_string(live.data_dir.join("master.key"))?;
    assert!(!text(&out).contains(key.trim()), "the key was printed");

    // A non-empty data directory is refused and left as it was.
    let out = admin("restore", &file, &live.data_dir)?;
    assert!(!out.status.success());
    assert!(text(&out).contains("is not empty"), "{}", text(&out));
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
    let out = admin("restore", &file, fresh.path())?;
    assert!(out.status.success(), "admin:restore failed: {}", text(&out));
    let restored = Server::start_in_owned(fresh, &[])?;
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

//! `pg:backups:schedule` with a live server and a real Postgres add-on: a daily schedule
//! (Heroku's syntax, `--at '00:00 Europe/Paris'`) keeping 2 takes one verified backup per day and deletes the oldest beyond 2 (row and
//! file). Days pass through the server's hidden `--backup-schedule-clock-offset` (the
//! scheduler checks at start and every minute): each restart moves its clock a day on, so
//! no test waits for a real day or minute.

use anyhow::{bail, Context, Result};
use doppel_e2e::{wait_for, Server};

const ENV: &str = "sched-staging";
const DAY: u64 = 24 * 60 * 60;

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

/// The scheduled backups `pg:backups --json` lists: (name, verified).
fn scheduled(server: &Server) -> Result<Vec<(String, Option<bool>)>> {
    let out = server.cli(&["pg:backups", "-a", ENV, "--json"])?;
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "pg:backups --json: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let mut found: Vec<_> = list
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| {
            let name = b["name"].as_str()?.to_string();
            name.starts_with('a')
                .then(|| (name, b["verified"].as_bool()))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// The backup files kept under `<data-dir>/backups`.
fn backup_files(server: &Server) -> Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(server.data_dir.join("backups"))? {
        for f in std::fs::read_dir(dir?.path())? {
            files.push(f?.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Restarts the server with its scheduler's clock `days` days on, and waits until the
/// scheduled backups are exactly `want`, all verified.
fn next_day(server: &mut Server, days: u64, want: &[&str]) -> Result<()> {
    let offset = (days * DAY).to_string();
    server.restart_with(&["--backup-schedule-clock-offset", &offset])?;
    let done = wait_for(240, || {
        let now = scheduled(server)?;
        let names: Vec<&str> = now.iter().map(|(n, _)| n.as_str()).collect();
        Ok(names == want && now.iter().all(|(_, v)| *v == Some(true)))
    })?;
    if !done {
        bail!(
            "day {days}: expected verified {want:?}, have {:?}\n{}",
            scheduled(server)?,
            server.log()
        );
    }
    Ok(())
}

#[test]
fn a_daily_schedule_takes_verified_backups_and_keeps_the_newest_n() -> Result<()> {
    let mut server = Server::start()?;
    server.create_app("sched")?;
    let out = cli_ok(&server, &["addons:create", "postgres", "-a", ENV])?;
    assert!(out.contains("DATABASE_URL"), "{out}");
    cli_ok(
        &server,
        &[
            "pg:psql",
            "-a",
            ENV,
            "-c",
            "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3);",
        ],
    )?;
    let out = cli_ok(
        &server,
        &[
            "pg:backups:schedule",
            "DATABASE_URL",
            "--at",
            "00:00 Europe/Paris",
            "--keep",
            "2",
            "-a",
            ENV,
        ],
    )?;
    assert!(out.contains("keeping 2"), "{out}");
    let listed = cli_ok(&server, &["pg:backups:schedules", "-a", ENV])?;
    assert!(
        listed.contains("daily at 00:00 Europe/Paris, keeping 2"),
        "{listed}"
    );
    // A zone the system does not know is refused with a clear message.
    let out = server.cli(&[
        "pg:backups:schedule",
        "DATABASE_URL",
        "--at",
        "02:00 Mars/Olympus",
        "-a",
        ENV,
    ])?;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a time zone"),
        "{out:?}"
    );

    next_day(&mut server, 1, &["a001"])?;
    let day1 = backup_files(&server)?;
    assert_eq!(day1.len(), 1, "{day1:?}");
    next_day(&mut server, 2, &["a001", "a002"])?;
    next_day(&mut server, 3, &["a002", "a003"])?;
    let day3 = backup_files(&server)?;
    assert_eq!(day3.len(), 2, "only the two kept backups' files: {day3:?}");
    assert!(
        !day3.contains(&day1[0]),
        "the pruned backup's file is still there"
    );
    let shown = cli_ok(&server, &["pg:backups", "-a", ENV])?;
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("a003") && l.contains(" verified")),
        "{shown}"
    );

    // Unscheduled: a later day takes nothing.
    cli_ok(
        &server,
        &["pg:backups:unschedule", "DATABASE_URL", "-a", ENV],
    )?;
    let listed = cli_ok(&server, &["pg:backups:schedules", "-a", ENV])?;
    assert!(!listed.contains("daily at"), "{listed}");
    let offset = (4 * DAY).to_string();
    server.restart_with(&["--backup-schedule-clock-offset", &offset])?;
    std::thread::sleep(std::time::Duration::from_secs(10));
    let names: Vec<String> = scheduled(&server)?.into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["a002", "a003"],
        "a backup was taken without a schedule"
    );
    Ok(())
}

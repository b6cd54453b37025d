//! `pg:*` (and the same commands as `redis:*`): info, psql / redis-cli, credential rotation,
//! and backups with Heroku's syntax (`pg:backups`, `:capture`, `:info`, `:download`,
//! `:restore [myapp::b001] DATABASE_URL --confirm ENV --mask-script FILE`, `:delete`,
//! `:schedule --at '02:00 Europe/Paris'`, `:unschedule`, `:schedules`).

use std::io::Read;
use std::time::Duration;

use doppel_api_types::addons::{AddonSession, AddonSessionCreate};
use serde_json::{json, Value};

use crate::addons::{confirm, env_of};
use crate::context::Context;
use crate::error::CliError;

/// Which service a command family is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postgres,
    Redis,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Redis => "redis",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Service::Postgres => "pg",
            Service::Redis => "redis",
        }
    }
}

/// An optional add-on (DATABASE_URL, an add-on name) and the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The add-on: an attachment such as DATABASE_URL, or its name (default: the main one)
    pub database: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `pg:psql` / `redis:cli`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShellArgs {
    pub database: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// A command to run instead of reading standard input
    #[arg(short = 'c', long = "command")]
    pub command: Option<String>,
    /// A file of commands to run
    #[arg(short = 'f', long = "file", conflicts_with = "command")]
    pub file: Option<std::path::PathBuf>,
}

/// Arguments of commands that need `--confirm ENV`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfirmArgs {
    pub database: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    #[arg(long, short = 'c', value_name = "ENV")]
    pub confirm: Option<String>,
}

/// Arguments of `pg:backups:capture`.
#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {
    pub database: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Return at once; `pg:backups` shows when it is done
    #[arg(long)]
    pub no_wait: bool,
    #[arg(long)]
    pub json: bool,
}

/// Arguments naming one backup (`b001`; the latest when absent).
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    pub backup: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Where to write the download (default: latest.dump or b001.dump)
    #[arg(short = 'o', long = "output")]
    pub output: Option<std::path::PathBuf>,
    #[arg(long, short = 'c', value_name = "ENV")]
    pub confirm: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `pg:backups:restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// `b001`, `myapp::b001` (another environment's backup), or latest
    pub backup: Option<String>,
    /// The target add-on (default: the main one)
    pub database: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    #[arg(long, short = 'c', value_name = "ENV")]
    pub confirm: Option<String>,
    /// SQL (or redis-cli commands) run on the restored data before it goes live
    #[arg(long, value_name = "FILE")]
    pub mask_script: Option<std::path::PathBuf>,
}

/// Arguments of `pg:backups:schedule`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    pub database: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// The hour and its time zone: '02:00 Europe/Paris', '02:00 UTC'
    #[arg(long)]
    pub at: String,
    /// Scheduled backups kept
    #[arg(long, default_value_t = 7)]
    pub keep: u32,
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn target(service: Service, database: &Option<String>) -> Value {
    json!({"addon": database, "service": service.name()})
}

fn query(service: Service, database: &Option<String>) -> String {
    match database {
        Some(d) => format!("?service={}&addon={d}", service.name()),
        None => format!("?service={}", service.name()),
    }
}

pub(crate) async fn info(
    ctx: &mut Context,
    service: Service,
    args: DbArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let info: Value = client
        .get(&format!(
            "/apps/{env}/addon-info{}",
            query(service, &args.database)
        ))
        .await?;
    if args.json {
        return ctx.print_json(&info);
    }
    let addon = info.get("addon").cloned().unwrap_or(Value::Null);
    let vars = addon
        .get("config_vars")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let d = addon.get("doppel").cloned().unwrap_or(Value::Null);
    let mut rows = vec![
        ("Plan".to_string(), s(&d, "plan").to_string()),
        (
            "Status".to_string(),
            if s(&addon, "state") == "provisioned" {
                "Available".to_string()
            } else {
                s(&addon, "state").to_string()
            },
        ),
        ("Version".to_string(), s(&d, "version").to_string()),
        ("Created".to_string(), s(&addon, "created_at").to_string()),
        ("Add-on".to_string(), s(&addon, "name").to_string()),
    ];
    for line in info
        .get("info")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        rows.push((s(&line, "key").to_string(), s(&line, "value").to_string()));
    }
    let width = rows.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    let mut out = format!("=== {vars}\n");
    for (k, v) in rows.into_iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("{:<width$} {v}\n", format!("{k}:")));
    }
    ctx.print(&out)
}

pub(crate) async fn shell(
    ctx: &mut Context,
    service: Service,
    args: ShellArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let input = match (&args.command, &args.file) {
        (Some(c), _) => c.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).map_err(CliError::Stdin)?,
        (None, None) if ctx.stdin_is_terminal => {
            return interactive(ctx, service, &env, &args.database).await
        }
        (None, None) => {
            let mut text = String::new();
            ctx.stdin
                .read_to_string(&mut text)
                .map_err(CliError::Stdin)?;
            text
        }
    };
    let client = ctx.client()?;
    let mut body = target(service, &args.database);
    body["input"] = json!(input);
    let out: Value = client
        .post(&format!("/apps/{env}/addon-commands"), &body)
        .await?;
    ctx.print(s(&out, "stdout"))?;
    ctx.note(s(&out, "stderr"))?;
    match out.get("exit_code").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        code => Err(CliError::Exited {
            code: code.and_then(|c| u8::try_from(c).ok()).unwrap_or(1),
        }),
    }
}

/// `pg:psql` / `redis:cli` on a terminal: the add-on's own client, live (raw mode, the
/// terminal's size, Ctrl-C), attached over the rendezvous like `run`; exits with its code.
async fn interactive(
    ctx: &mut Context,
    service: Service,
    env: &str,
    database: &Option<String>,
) -> Result<(), CliError> {
    let client = ctx.client()?;
    let size = crate::tty::size();
    let req = AddonSessionCreate {
        addon: database.clone(),
        service: Some(service.name().to_string()),
        tty: true,
        rows: size.map(|(rows, _)| rows),
        cols: size.map(|(_, cols)| cols),
        term: std::env::var("TERM").ok(),
    };
    let session: AddonSession = client
        .post(&format!("/apps/{env}/addon-sessions"), &req)
        .await?;
    ctx.note(&format!("--> Connecting to {}\n", session.addon))?;
    let ca = ctx.config()?.ca_cert;
    let host = client.host().to_string();
    let code = crate::run::attach(ctx, &host, &session.attach_url, ca.as_deref(), true).await?;
    if code == 0 {
        Ok(())
    } else {
        Err(CliError::Exited {
            code: u8::try_from(code).unwrap_or(1),
        })
    }
}

pub(crate) async fn rotate(
    ctx: &mut Context,
    service: Service,
    args: ConfirmArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    confirm(
        ctx,
        &env,
        args.confirm.as_deref(),
        "This changes the password; the old one stops working and the dynos restart with the new URL.",
        &format!("{}:credentials:rotate -a {env}", service.prefix()),
    )?;
    let client = ctx.client()?;
    ctx.note(&format!("Rotating credentials on {env}... "))?;
    let out: Value = client
        .post(
            &format!("/apps/{env}/addon-credentials/rotate"),
            &target(service, &args.database),
        )
        .await?;
    ctx.note("done\n")?;
    if let Some(reason) = out.get("release_failed").and_then(Value::as_str) {
        ctx.note(&format!(
            " !    The release with the new URL failed: {reason}\n"
        ))?;
    }
    let addon = out.get("addon").cloned().unwrap_or(Value::Null);
    ctx.print(&format!("Rotated the password of {}\n", s(&addon, "name")))
}

/// The `pg:backups` table.
pub fn render_backups(env: &str, list: &[Value]) -> String {
    let mut out = format!("=== {env} backups\n");
    let backups: Vec<&Value> = list.iter().filter(|b| s(b, "kind") != "restore").collect();
    let restores: Vec<&Value> = list.iter().filter(|b| s(b, "kind") == "restore").collect();
    if backups.is_empty() {
        out.push_str("No backups. Capture one with `doppel pg:backups:capture`.\n");
    }
    for b in backups.iter().rev() {
        let size = b
            .get("size_bytes")
            .and_then(Value::as_i64)
            .map(human_size)
            .unwrap_or_default();
        let verified = match b.get("verified").and_then(Value::as_bool) {
            Some(true) => "verified",
            Some(false) => "NOT verified",
            None if s(b, "status") == "running" => "",
            None => "not verified",
        };
        let status = match s(b, "status") {
            "succeeded" => format!("Completed {}", s(b, "finished_at")),
            "running" => "Running".to_string(),
            other => format!("{other}: {}", s(b, "error")),
        };
        let addon = b.get("addon").map(|a| s(a, "name")).unwrap_or("");
        let line = format!(
            "{:<5} {status:<31} {size:<9} {verified:<13} {addon}",
            s(b, "name")
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !restores.is_empty() {
        out.push_str(&format!("\n=== {env} restores\n"));
        for r in restores.iter().rev() {
            let status = match s(r, "status") {
                "succeeded" => format!("Finished {}", s(r, "finished_at")),
                "running" => "Running".to_string(),
                other => format!("{other}: {}", s(r, "error")),
            };
            out.push_str(&format!(
                "{:<5} from {}  {status}\n",
                s(r, "name"),
                s(r, "source")
            ));
        }
    }
    out
}

fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} kB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GB", b / 1024.0 / 1024.0 / 1024.0)
    }
}

pub(crate) async fn backups(ctx: &mut Context, args: DbArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let list: Value = client.get(&format!("/apps/{env}/backups")).await?;
    if args.json {
        return ctx.print_json(&list);
    }
    ctx.print(&render_backups(
        &env,
        list.as_array().map(Vec::as_slice).unwrap_or(&[]),
    ))
}

/// Polls a backup (or restore) until it has ended (and, for a capture, been verified).
async fn wait_backup(ctx: &mut Context, env: &str, name: &str) -> Result<Value, CliError> {
    let client = ctx.client()?;
    loop {
        let b: Value = client.get(&format!("/apps/{env}/backups/{name}")).await?;
        let running = s(&b, "status") == "running";
        let unverified = s(&b, "kind") != "restore"
            && s(&b, "status") == "succeeded"
            && b.get("verified").is_none_or(Value::is_null);
        if !running && !unverified {
            return Ok(b);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn backup_summary(b: &Value) -> String {
    let size = b
        .get("size_bytes")
        .and_then(Value::as_i64)
        .map(human_size)
        .unwrap_or_default();
    let verified = match b.get("verified").and_then(Value::as_bool) {
        Some(true) => format!("verified: {}", s(b, "verify_message")),
        Some(false) => format!("NOT verified: {}", s(b, "verify_message")),
        None => "not verified yet".to_string(),
    };
    format!(
        "{} of {}: {size}, {verified}\n",
        s(b, "name"),
        b.get("addon").map(|a| s(a, "name")).unwrap_or("")
    )
}

pub(crate) async fn capture(
    ctx: &mut Context,
    service: Service,
    args: CaptureArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    ctx.note(&format!("Starting backup of {env}... "))?;
    let started: Value = client
        .post(
            &format!("/apps/{env}/backups"),
            &target(service, &args.database),
        )
        .await?;
    ctx.note(&format!("{}\n", s(&started, "name")))?;
    if args.no_wait {
        return ctx.print(&format!(
            "Backing up as {} in the background; `doppel pg:backups -a {env}` shows when it is done.\n",
            s(&started, "name")
        ));
    }
    ctx.note("Capturing and verifying (restoring into a scratch database)... ")?;
    let done = wait_backup(ctx, &env, s(&started, "name")).await?;
    if args.json {
        ctx.note("\n")?;
        return ctx.print_json(&done);
    }
    if s(&done, "status") != "succeeded" {
        ctx.note("!\n")?;
        return Err(CliError::Api {
            status: 0,
            id: "backup_failed".to_string(),
            message: format!("Backup {} failed: {}", s(&done, "name"), s(&done, "error")),
        });
    }
    ctx.note("done\n")?;
    ctx.print(&backup_summary(&done))?;
    if done.get("verified").and_then(Value::as_bool) != Some(true) {
        return Err(CliError::Api {
            status: 0,
            id: "backup_unverified".to_string(),
            message: format!(
                "Backup {} was captured but did not verify",
                s(&done, "name")
            ),
        });
    }
    Ok(())
}

pub(crate) async fn backup_info(ctx: &mut Context, args: BackupArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let name = args.backup.clone().unwrap_or_else(|| "latest".to_string());
    let client = ctx.client()?;
    let b: Value = client.get(&format!("/apps/{env}/backups/{name}")).await?;
    if args.json {
        return ctx.print_json(&b);
    }
    let mut out = format!("=== Backup {}\n", s(&b, "name"));
    out.push_str(&backup_summary(&b));
    for (k, v) in [
        ("Status", s(&b, "status")),
        ("Started", s(&b, "created_at")),
        ("Finished", s(&b, "finished_at")),
        ("Version", s(&b, "version")),
        ("Checksum", s(&b, "checksum")),
        ("Note", s(&b, "note")),
        ("Error", s(&b, "error")),
    ] {
        if !v.is_empty() {
            out.push_str(&format!("{:<10} {v}\n", format!("{k}:")));
        }
    }
    if let Some(counts) = b.get("counts").and_then(Value::as_object) {
        for (table, n) in counts {
            out.push_str(&format!("  {table}: {n}\n"));
        }
    }
    ctx.print(&out)
}

pub(crate) async fn download(ctx: &mut Context, args: BackupArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let name = args.backup.clone().unwrap_or_else(|| "latest".to_string());
    let client = ctx.client()?;
    let b: Value = client.get(&format!("/apps/{env}/backups/{name}")).await?;
    let ext = if s(&b, "service") == "redis" {
        "rdb"
    } else {
        "dump"
    };
    let dest = args
        .output
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(format!("{name}.{ext}")));
    ctx.note(&format!(
        "Downloading {} to {}... ",
        s(&b, "name"),
        dest.display()
    ))?;
    let (size, checksum) = client
        .download(
            &format!("/apps/{env}/backups/{}/download", s(&b, "name")),
            &dest,
        )
        .await?;
    ctx.note("done\n")?;
    ctx.print(&format!(
        "{} bytes, {}\n",
        size,
        checksum.unwrap_or_else(|| "no checksum".to_string())
    ))
}

pub(crate) async fn delete(ctx: &mut Context, args: BackupArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let name = args.backup.clone().ok_or_else(|| CliError::Api {
        status: 0,
        id: "missing_backup".to_string(),
        message: "Name the backup to delete, e.g. b001".to_string(),
    })?;
    confirm(
        ctx,
        &env,
        args.confirm.as_deref(),
        &format!("This deletes backup {name} of {env} for good."),
        &format!("pg:backups:delete {name} -a {env}"),
    )?;
    let client = ctx.client()?;
    let _: Value = client
        .delete(&format!("/apps/{env}/backups/{name}"))
        .await?;
    ctx.print(&format!("Deleted {name}\n"))
}

pub(crate) async fn restore(
    ctx: &mut Context,
    service: Service,
    args: RestoreArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let script = match &args.mask_script {
        Some(path) => Some(std::fs::read_to_string(path).map_err(CliError::Stdin)?),
        None => None,
    };
    let source = args.backup.clone().unwrap_or_else(|| "latest".to_string());
    confirm(
        ctx,
        &env,
        args.confirm.as_deref(),
        &format!(
            "This replaces the data of {env}'s {} with {source}.",
            service.name()
        ),
        &format!("{}:backups:restore {source} -a {env}", service.prefix()),
    )?;
    let client = ctx.client()?;
    let body = json!({
        "source": source,
        "addon": args.database,
        "service": service.name(),
        "mask_script": script,
    });
    ctx.note(&format!("Restoring {source} into {env}... "))?;
    let started: Value = match client
        .post(&format!("/apps/{env}/backup-restores"), &body)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    let done = wait_backup(ctx, &env, s(&started, "name")).await?;
    if s(&done, "status") != "succeeded" {
        ctx.note("!\n")?;
        return Err(CliError::Api {
            status: 0,
            id: "restore_failed".to_string(),
            message: format!("Restore {} failed: {}", s(&done, "name"), s(&done, "error")),
        });
    }
    ctx.note("done\n")?;
    ctx.print(&format!(
        "Restored {} as {}{}\n",
        s(&done, "source"),
        s(&done, "name"),
        if script.is_some() {
            ", with the masking script applied"
        } else {
            ""
        }
    ))
}

pub(crate) async fn schedule(
    ctx: &mut Context,
    service: Service,
    args: ScheduleArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let body = json!({"addon": args.database, "service": service.name(), "at": args.at, "keep": args.keep});
    let a: Value = client
        .put(&format!("/apps/{env}/backup-schedules"), &body)
        .await?;
    ctx.print(&format!(
        "Scheduled daily backups of {} at {} keeping {}\n",
        s(&a, "name"),
        args.at,
        args.keep
    ))
}

pub(crate) async fn unschedule(
    ctx: &mut Context,
    service: Service,
    args: DbArgs,
) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let a: Value = client
        .delete(&format!(
            "/apps/{env}/backup-schedules{}",
            query(service, &args.database)
        ))
        .await?;
    ctx.print(&format!("Stopped the daily backups of {}\n", s(&a, "name")))
}

pub(crate) async fn schedules(ctx: &mut Context, args: DbArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let list: Value = client.get(&format!("/apps/{env}/backup-schedules")).await?;
    if args.json {
        return ctx.print_json(&list);
    }
    let mut out = format!("=== {env} backup schedules\n");
    for a in list.as_array().cloned().unwrap_or_default() {
        let sched = a
            .get("doppel")
            .and_then(|d| d.get("backup_schedule"))
            .cloned()
            .unwrap_or(Value::Null);
        out.push_str(&format!(
            "{}: daily at {:02}:00 {}, keeping {}\n",
            s(&a, "name"),
            sched.get("hour").and_then(Value::as_u64).unwrap_or(0),
            sched.get("zone").and_then(Value::as_str).unwrap_or("UTC"),
            sched.get("keep").and_then(Value::as_u64).unwrap_or(0)
        ));
    }
    ctx.print(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_render_newest_first_with_verification() {
        let list = vec![
            json!({"name": "b001", "kind": "backup", "status": "succeeded", "size_bytes": 2048,
                   "verified": true, "finished_at": "2026-01-01T00:00:00Z", "addon": {"name": "pg-a"}}),
            json!({"name": "b002", "kind": "backup", "status": "failed", "error": "boom", "addon": {"name": "pg-a"}}),
            json!({"name": "r001", "kind": "restore", "status": "succeeded", "source": "shop::b001",
                   "finished_at": "2026-01-02T00:00:00Z"}),
        ];
        let text = render_backups("shop-staging", &list);
        let b1 = text.find("b001").unwrap_or(0);
        let b2 = text.find("b002").unwrap_or(0);
        assert!(b2 < b1, "{text}");
        assert!(
            text.contains("2.0 kB") && text.contains("verified"),
            "{text}"
        );
        assert!(text.contains("r001  from shop::b001"), "{text}");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
    }
}

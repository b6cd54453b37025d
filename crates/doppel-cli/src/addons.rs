//! `addons`, `addons:create`, `addons:info`, `addons:attach`, `addons:detach`,
//! `addons:destroy`, `addons:services`, `addons:plans`: add-ons of an environment (`-a`) or
//! of both environments of an app (`-p`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;

/// `-a ENV` or `-p APP`.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The environment, e.g. myapp-staging or myapp
    #[arg(
        short = 'a',
        long = "app",
        value_name = "ENV",
        conflicts_with = "pipeline"
    )]
    pub app: Option<String>,
    /// The app: both its environments
    #[arg(short = 'p', long = "pipeline", value_name = "APP")]
    pub pipeline: Option<String>,
}

/// Arguments of `doppel addons`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print the server's JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel addons:create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// SERVICE[:PLAN], e.g. postgres, redis, heroku-postgresql:essential-0
    pub service: String,
    #[command(flatten)]
    pub target: Target,
    /// The attachment's name (its config var is NAME_URL)
    #[arg(long = "as", value_name = "NAME")]
    pub attachment: Option<String>,
    /// The add-on's own name instead of a generated one
    #[arg(long)]
    pub name: Option<String>,
    /// Return at once instead of waiting until it is provisioned
    #[arg(long)]
    pub no_wait: bool,
    /// Print the server's JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments naming one add-on.
#[derive(Debug, Clone, clap::Args)]
pub struct AddonArgs {
    /// The add-on's name, or an attachment name such as DATABASE_URL
    pub addon: String,
    /// The environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Print the server's JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel addons:attach`.
#[derive(Debug, Clone, clap::Args)]
pub struct AttachArgs {
    pub addon: String,
    /// The environment to attach it to (its own)
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// The attachment's name (its config var is NAME_URL)
    #[arg(long = "as", value_name = "NAME")]
    pub attachment: Option<String>,
}

/// Arguments of `doppel addons:detach`.
#[derive(Debug, Clone, clap::Args)]
pub struct DetachArgs {
    /// The attachment's name (DATABASE) or id
    pub attachment: String,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
}

/// Arguments of `doppel addons:destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DestroyArgs {
    pub addon: String,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// The environment's name again, to confirm
    #[arg(long, short = 'c', value_name = "ENV")]
    pub confirm: Option<String>,
    /// Destroy even when the final backup fails
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// Arguments of `doppel addons:plans`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlansArgs {
    pub service: String,
    #[arg(long)]
    pub json: bool,
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn config_vars(addon: &Value) -> Vec<String> {
    addon
        .get("config_vars")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The `addons` table.
pub fn render_list(addons: &[Value]) -> String {
    if addons.is_empty() {
        return "No add-ons. Create one with `doppel addons:create postgres -p APP`.\n".to_string();
    }
    let rows: Vec<[String; 6]> = addons
        .iter()
        .map(|a| {
            let d = a.get("doppel").cloned().unwrap_or(Value::Null);
            [
                a.get("app")
                    .map(|x| s(x, "name").to_string())
                    .unwrap_or_default(),
                s(a, "name").to_string(),
                a.get("plan")
                    .map(|x| s(x, "name").to_string())
                    .unwrap_or_default(),
                s(&d, "version").to_string(),
                s(a, "state").to_string(),
                config_vars(a).join(", "),
            ]
        })
        .collect();
    let header = [
        "Environment",
        "Add-on",
        "Plan",
        "Version",
        "State",
        "Config vars",
    ];
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 6]| {
        let text = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        format!("{}\n", text.trim_end())
    };
    let mut out = line(header);
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    out
}

/// `addons:info`.
pub fn render_info(a: &Value) -> String {
    let d = a.get("doppel").cloned().unwrap_or(Value::Null);
    let mut rows = vec![
        (
            "Environment",
            a.get("app")
                .map(|x| s(x, "name").to_string())
                .unwrap_or_default(),
        ),
        ("Service", s(&d, "human_name").to_string()),
        (
            "Plan",
            a.get("plan")
                .map(|x| s(x, "name").to_string())
                .unwrap_or_default(),
        ),
        ("Version", s(&d, "version").to_string()),
        ("State", s(a, "state").to_string()),
        ("Attachments", config_vars(a).join(", ")),
        ("Created", s(a, "created_at").to_string()),
    ];
    if let Some(f) = d.get("failure").and_then(Value::as_str) {
        rows.push(("Failure", f.to_string()));
    }
    if let Some(sched) = d.get("backup_schedule").filter(|v| !v.is_null()) {
        rows.push((
            "Backups",
            format!(
                "daily at {:02}:00 {}, keeping {}",
                sched.get("hour").and_then(Value::as_u64).unwrap_or(0),
                sched.get("zone").and_then(Value::as_str).unwrap_or("UTC"),
                sched.get("keep").and_then(Value::as_u64).unwrap_or(0)
            ),
        ));
    }
    let mut out = format!("=== {}\n", s(a, "name"));
    for (k, v) in rows.into_iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("{:<13} {v}\n", format!("{k}:")));
    }
    out
}

/// The environment (`-a`) a command needs.
pub(crate) fn env_of(app: &Option<String>) -> Result<String, CliError> {
    let env = app.clone().ok_or(CliError::NoApp)?;
    Ok(env_segment(&env)?.to_string())
}

/// Polls `GET /addons/{id}` until it is no longer provisioning (at most 15 minutes: the first
/// add-on of a service builds its image from Debian's archive).
pub(crate) async fn wait_provisioned(ctx: &mut Context, id: &str) -> Result<Value, CliError> {
    let client = ctx.client()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(900);
    loop {
        let addon: Value = client.get(&format!("/addons/{id}")).await?;
        if s(&addon, "state") != "provisioning" || std::time::Instant::now() > deadline {
            return Ok(addon);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

pub(crate) async fn list(ctx: &mut Context, args: ListArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut all = Vec::new();
    match (&args.target.app, &args.target.pipeline) {
        (Some(env), _) => {
            let list: Value = client
                .get(&format!("/apps/{}/addons", env_segment(env)?))
                .await?;
            all.extend(list.as_array().cloned().unwrap_or_default());
        }
        (None, Some(app)) => {
            for env in [format!("{app}-staging"), app.clone()] {
                let list: Value = client
                    .get(&format!("/apps/{}/addons", env_segment(&env)?))
                    .await?;
                all.extend(list.as_array().cloned().unwrap_or_default());
            }
        }
        (None, None) => {
            let list: Value = client.get("/addons").await?;
            all.extend(list.as_array().cloned().unwrap_or_default());
        }
    }
    if args.json {
        return ctx.print_json(&Value::Array(all));
    }
    ctx.print(&render_list(&all))
}

pub(crate) async fn create(ctx: &mut Context, args: CreateArgs) -> Result<(), CliError> {
    let (path_env, whole_app, label) = match (&args.target.app, &args.target.pipeline) {
        (Some(env), _) => (env_segment(env)?.to_string(), false, env.clone()),
        (None, Some(app)) => (
            env_segment(app)?.to_string(),
            true,
            format!("{app}-staging and {app}"),
        ),
        (None, None) => return Err(CliError::NoApp),
    };
    let client = ctx.client()?;
    let mut body = json!({
        "plan": {"name": args.service},
        "doppel": {"whole_app": whole_app},
    });
    if let Some(name) = &args.attachment {
        body["attachment"] = json!({ "name": name });
    }
    if let Some(name) = &args.name {
        body["name"] = json!(name);
    }
    ctx.note(&format!("Creating {} for {label}... ", args.service))?;
    let created: Value = match client
        .post(&format!("/apps/{path_env}/addons"), &body)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    let mut ids = vec![s(&created, "id").to_string()];
    if let Some(twins) = created
        .get("doppel")
        .and_then(|d| d.get("twins"))
        .and_then(Value::as_array)
    {
        ids.extend(twins.iter().map(|t| s(t, "id").to_string()));
    }
    let mut results = Vec::new();
    for id in &ids {
        results.push(if args.no_wait {
            client.get(&format!("/addons/{id}")).await?
        } else {
            wait_provisioned(ctx, id).await?
        });
    }
    ctx.note(if args.no_wait { "started\n" } else { "done\n" })?;
    if args.json {
        return ctx.print_json(&Value::Array(results));
    }
    let mut out = String::new();
    let mut failed = None;
    for a in &results {
        let env = a
            .get("app")
            .map(|x| s(x, "name").to_string())
            .unwrap_or_default();
        match s(a, "state") {
            "provisioned" => out.push_str(&format!(
                "Created {} ({env}) as {}\n",
                s(a, "name"),
                config_vars(a).join(", ")
            )),
            "provisioning" => out.push_str(&format!(
                "{} ({env}) is being created in the background; {} will be set when it is ready\n",
                s(a, "name"),
                config_vars(a).join(", ")
            )),
            other => {
                let why = a
                    .get("doppel")
                    .and_then(|d| d.get("failure"))
                    .and_then(Value::as_str)
                    .unwrap_or("unknown reason");
                failed = Some(format!("{} ({env}) is {other}: {why}", s(a, "name")));
            }
        }
    }
    ctx.print(&out)?;
    match failed {
        Some(message) => Err(CliError::Api {
            status: 422,
            id: "provision_failed".to_string(),
            message,
        }),
        None => Ok(()),
    }
}

pub(crate) async fn info(ctx: &mut Context, args: AddonArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let path = match &args.app {
        Some(env) => format!("/apps/{}/addons/{}", env_segment(env)?, args.addon),
        None => format!("/addons/{}", args.addon),
    };
    let addon: Value = client.get(&path).await?;
    if args.json {
        return ctx.print_json(&addon);
    }
    ctx.print(&render_info(&addon))
}

pub(crate) async fn attach(ctx: &mut Context, args: AttachArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let mut body = json!({"addon": args.addon, "app": env});
    if let Some(name) = &args.attachment {
        body["name"] = json!(name);
    }
    ctx.note(&format!("Attaching {} to {env}... ", args.addon))?;
    let att: Value = client.post("/addon-attachments", &body).await?;
    ctx.note("done\n")?;
    ctx.print(&format!(
        "Setting {}_URL and restarting {env}... done\n",
        s(&att, "name")
    ))
}

pub(crate) async fn detach(ctx: &mut Context, args: DetachArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    let client = ctx.client()?;
    let att: Value = client
        .get(&format!(
            "/apps/{env}/addon-attachments/{}",
            args.attachment
        ))
        .await?;
    ctx.note(&format!("Detaching {} from {env}... ", s(&att, "name")))?;
    let _: Value = client
        .delete(&format!("/addon-attachments/{}", s(&att, "id")))
        .await?;
    ctx.note("done\n")?;
    ctx.print(&format!(
        "Unsetting {}_URL and restarting {env}... done\n",
        s(&att, "name")
    ))
}

/// Checks `--confirm` against the environment's name, asking on a terminal.
pub(crate) fn confirm(
    ctx: &mut Context,
    env: &str,
    given: Option<&str>,
    what: &str,
    command: &str,
) -> Result<(), CliError> {
    let answer = match given {
        Some(g) => g.to_string(),
        None if ctx.stdin_is_terminal => {
            ctx.note(&format!(
                " !    WARNING: {what}\n !    To proceed, type {env} or re-run this command with --confirm {env}\n\n> "
            ))?;
            let mut line = String::new();
            ctx.stdin.read_line(&mut line).map_err(CliError::Stdin)?;
            line.trim().to_string()
        }
        None => {
            return Err(CliError::Api {
                status: 0,
                id: "confirmation_required".to_string(),
                message: format!("{what} To proceed, run `doppel {command} --confirm {env}`."),
            })
        }
    };
    if answer != env {
        return Err(CliError::Api {
            status: 0,
            id: "confirmation_mismatch".to_string(),
            message: format!("Confirmation {answer:?} did not match {env}. Nothing was done."),
        });
    }
    Ok(())
}

pub(crate) async fn destroy(ctx: &mut Context, args: DestroyArgs) -> Result<(), CliError> {
    let env = env_of(&args.app)?;
    confirm(
        ctx,
        &env,
        args.confirm.as_deref(),
        &format!(
            "This destroys {} of {env} and its data (a final backup is kept).",
            args.addon
        ),
        &format!("addons:destroy {} -a {env}", args.addon),
    )?;
    let client = ctx.client()?;
    ctx.note(&format!("Destroying {} on {env}... ", args.addon))?;
    let gone: Value = match client
        .delete_with(
            &format!("/apps/{env}/addons/{}", args.addon),
            &json!({"force": args.force}),
        )
        .await
    {
        Ok(v) => v,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    ctx.note("done\n")?;
    if let Some(msg) = gone.get("provision_message").and_then(Value::as_str) {
        ctx.print(&format!(
            "{} destroyed; {msg} (see `doppel pg:backups -a {env}`)\n",
            s(&gone, "name")
        ))?;
    }
    Ok(())
}

pub(crate) async fn services(ctx: &mut Context, json_out: bool) -> Result<(), CliError> {
    let client = ctx.client()?;
    let list: Value = client.get("/addon-services").await?;
    if json_out {
        return ctx.print_json(&list);
    }
    let mut out = String::from("=== Add-on services\n");
    for svc in list.as_array().cloned().unwrap_or_default() {
        let aliases = svc
            .get("doppel")
            .and_then(|d| d.get("aliases"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<10} {:<10} also: {aliases}\n",
            s(&svc, "name"),
            s(&svc, "human_name")
        ));
    }
    ctx.print(&out)
}

pub(crate) async fn plans(ctx: &mut Context, args: PlansArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let list: Value = client
        .get(&format!("/addon-services/{}/plans", args.service))
        .await?;
    if args.json {
        return ctx.print_json(&list);
    }
    let mut out = String::new();
    for p in list.as_array().cloned().unwrap_or_default() {
        let default = if p.get("default").and_then(Value::as_bool) == Some(true) {
            " (default)"
        } else {
            ""
        };
        let memory = p
            .get("doppel")
            .and_then(|d| d.get("memory_mb"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        out.push_str(&format!("{:<28} {memory} MB{default}\n", s(&p, "name")));
    }
    ctx.print(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_table_and_info() {
        let a = json!({
            "name": "postgresql-curly-12345", "state": "provisioned",
            "app": {"name": "shop-staging"}, "plan": {"name": "postgres:essential-0"},
            "config_vars": ["DATABASE_URL", "HEROKU_POSTGRESQL_AMBER_URL"],
            "created_at": "2026-01-01T00:00:00Z",
            "doppel": {"version": "PostgreSQL 17.6", "human_name": "Postgres",
                       "backup_schedule": {"hour": 2, "keep": 7}}
        });
        let table = render_list(std::slice::from_ref(&a));
        assert!(table.starts_with("Environment   Add-on"), "{table}");
        assert!(table.contains("shop-staging  postgresql-curly-12345  postgres:essential-0  PostgreSQL 17.6  provisioned  DATABASE_URL, HEROKU_POSTGRESQL_AMBER_URL"), "{table}");
        let info = render_info(&a);
        assert!(
            info.contains("Backups:      daily at 02:00 UTC, keeping 7"),
            "{info}"
        );
        assert!(render_list(&[]).contains("addons:create"));
    }
}

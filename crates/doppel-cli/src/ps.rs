//! `ps`, `ps:scale`, `ps:restart`, `ps:stop`: an environment's dynos (state, age, size,
//! release) and formation. Scaling and restarting wait until the dynos they concern are up
//! (or one crashes).

use crate::client::ROLLOUT_TIMEOUT;
use crate::context::Context;
use crate::error::CliError;
use crate::progress::{wait_for_dynos, wait_until_replaced};
use crate::target::{self, TargetArgs};
use doppel_api_types::dynos::Dyno;
use doppel_api_types::formation::{Formation, FormationBatch, FormationUpdate, Quantity, SizeRef};
use doppel_types::EnvName;
use std::collections::BTreeMap;

/// Arguments of `doppel ps`.
#[derive(Debug, Clone, clap::Args)]
pub struct PsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel ps:scale`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// TYPE=N, TYPE+N or TYPE-N, each optionally :SIZE (web=2 worker+1:standard-2x); none shows the formation
    #[arg(value_name = "TYPE=N[:SIZE]")]
    pub changes: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Return once the formation is changed, without waiting for the dynos
    #[arg(long)]
    pub no_wait: bool,
    /// Print the resulting formation as the API's JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel ps:restart`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestartArgs {
    /// A dyno (web.1) or a process type (web); none restarts every dyno
    #[arg(value_name = "DYNO|TYPE")]
    pub which: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Return once the restart is asked for, without waiting for the dynos
    #[arg(long)]
    pub no_wait: bool,
    /// Print nothing but the API's answer (`{}`) as JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel ps:stop`.
#[derive(Debug, Clone, clap::Args)]
pub struct StopArgs {
    /// A dyno (web.1) or a process type (web)
    #[arg(value_name = "DYNO|TYPE")]
    pub which: String,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Checks a process type or dyno name before it goes into a URL path.
fn check_process_name(name: &str) -> Result<(), CliError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{name:?} is not a process type (web) or dyno name (web.1)."
        )))
    }
}

/// Parses `web=2`, `worker+1:standard-2x`, `web-1`, `web=standard-2x` / `web=:Basic`
/// (a size alone). A process type may contain dashes: `my-worker=2`, `my-worker+1`.
pub fn parse_scale(arg: &str) -> Result<FormationUpdate, CliError> {
    let usage = || {
        CliError::Usage(format!(
            "`{arg}` is not TYPE=N[:SIZE], TYPE+N or TYPE-N. Example: doppel ps:scale web=2 worker+1:standard-2x -a myapp-staging"
        ))
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let size_ok = |s: &str| {
        digits(s) || (!s.is_empty() && check_process_name(s).is_ok() && !s.starts_with(['+', '-']))
    };
    let (kind, quantity, size) = if let Some((kind, rest)) = arg.split_once('=') {
        let (amount, size) = match rest.split_once(':') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        match (amount, size) {
            ("", Some(size)) => (kind, None, Some(size)),
            (n, size) if digits(n) => {
                let n = n.parse::<i64>().map_err(|_| usage())?;
                (kind, Some(Quantity::Absolute(n)), size)
            }
            (size, None) => (kind, None, Some(size)),
            _ => return Err(usage()),
        }
    } else {
        let (main, size) = match arg.split_once(':') {
            Some((m, s)) => (m, Some(s)),
            None => (arg, None),
        };
        let at = main.rfind(['+', '-']).ok_or_else(usage)?;
        let (kind, amount) = main.split_at(at);
        if !digits(&amount[1..]) {
            return Err(usage());
        }
        let q = Quantity::parse(amount).map_err(|_| usage())?;
        (kind, Some(q), size)
    };
    check_process_name(kind).map_err(|_| usage())?;
    if kind.contains('.') || size.is_some_and(|s| !size_ok(s)) {
        return Err(usage());
    }
    Ok(FormationUpdate {
        process_type: Some(kind.to_string()),
        quantity,
        size: size.map(|s| SizeRef::Name(s.to_string())),
        dyno_size: None,
    })
}

/// `web at 2:Basic, worker at 0:Basic`.
fn describe_formation(list: &[Formation]) -> String {
    list.iter()
        .map(|f| format!("{} at {}:{}", f.process_type, f.quantity, f.size))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2026/01/01 12:00:00 +0000 (~ 5m ago)` for an API timestamp.
fn since(timestamp: &str, now: time::OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(timestamp, &Rfc3339) else {
        return timestamp.to_string();
    };
    let secs = (now - t).whole_seconds().max(0);
    let ago = match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    };
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02} +0000 (~ {ago} ago)",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The `ps` listing: one block per process type, then one-off dynos, each dyno with its
/// state, since when (and how long ago), its size for one-offs and its release.
pub fn render_ps(
    env: &EnvName,
    dynos: &[Dyno],
    formation: &[Formation],
    now: time::OffsetDateTime,
) -> String {
    if dynos.is_empty() {
        let scaled: Vec<&Formation> = formation.iter().filter(|f| f.quantity > 0).collect();
        return if scaled.is_empty() {
            format!("No dynos on {env}. `doppel ps:scale web=1 -a {env}` starts one (after a release).\n")
        } else {
            format!(
                "No dynos on {env} yet ({}).\n",
                describe_formation(formation)
            )
        };
    }
    let mut by_type: BTreeMap<&str, Vec<&Dyno>> = BTreeMap::new();
    for d in dynos {
        by_type.entry(d.process_type.as_str()).or_default().push(d);
    }
    let mut blocks = Vec::new();
    for (kind, mut list) in by_type {
        list.sort_by_key(|d| {
            let n: u64 = d
                .name
                .rsplit('.')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            n
        });
        let form = formation.iter().find(|f| f.process_type == kind);
        let heading = match form {
            Some(f) => format!("=== {kind} ({}): {} ({})", f.size, f.command, list.len()),
            None => format!("=== {kind}: one-off processes ({})", list.len()),
        };
        let mut block = format!("{heading}\n");
        for d in list {
            let (size, command) = if form.is_none() {
                (format!(" ({})", d.size), format!(": {}", d.command))
            } else {
                (String::new(), String::new())
            };
            block.push_str(&format!(
                "{}{size}: {} {} (release v{}){command}\n",
                d.name,
                d.state,
                since(&d.updated_at, now),
                d.release.version
            ));
        }
        blocks.push(block);
    }
    blocks.join("\n")
}

pub(crate) async fn list(ctx: &mut Context, args: PsArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let mut shown: Vec<(EnvName, Vec<Dyno>, Vec<Formation>)> = Vec::new();
    for env in target.envs() {
        let dynos: Vec<Dyno> = client.get(&format!("/apps/{env}/dynos")).await?;
        let formation: Vec<Formation> = client.get(&format!("/apps/{env}/formation")).await?;
        shown.push((env, dynos, formation));
    }
    if args.json {
        let per_env: Vec<(EnvName, Vec<Dyno>)> =
            shown.into_iter().map(|(e, d, _)| (e, d)).collect();
        return ctx.print_json_per_env(&per_env);
    }
    let several = shown.len() > 1;
    let mut blocks = Vec::new();
    for (env, dynos, formation) in &shown {
        let text = render_ps(env, dynos, formation, time::OffsetDateTime::now_utc());
        blocks.push(if several {
            format!("--- {env}\n{text}")
        } else {
            text
        });
    }
    ctx.print(&blocks.join("\n"))
}

pub(crate) async fn scale(ctx: &mut Context, args: ScaleArgs) -> Result<(), CliError> {
    let updates: Vec<FormationUpdate> = args
        .changes
        .iter()
        .map(|c| parse_scale(c))
        .collect::<Result<_, _>>()?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let mut results: Vec<(EnvName, Vec<Formation>)> = Vec::new();
    for env in target.envs() {
        if updates.is_empty() {
            let formation: Vec<Formation> = client.get(&format!("/apps/{env}/formation")).await?;
            results.push((env, formation));
            continue;
        }
        ctx.note(&format!("Scaling dynos on {env}... "))?;
        let body = FormationBatch {
            updates: updates.clone(),
        };
        let slow = client.with_timeout(ROLLOUT_TIMEOUT);
        let formation: Vec<Formation> =
            match slow.patch(&format!("/apps/{env}/formation"), &body).await {
                Ok(f) => f,
                Err(e) => {
                    ctx.note("!\n")?;
                    return Err(e);
                }
            };
        let changed: Vec<Formation> = formation
            .iter()
            .filter(|f| {
                updates
                    .iter()
                    .any(|u| u.process_type.as_deref() == Some(&f.process_type))
            })
            .cloned()
            .collect();
        ctx.note(&format!(
            "done, now running {}\n",
            describe_formation(&changed)
        ))?;
        if !args.no_wait {
            let expected = changed
                .iter()
                .map(|f| (f.process_type.clone(), f.quantity))
                .collect();
            wait_for_dynos(ctx, &client, &env, &expected).await?;
        }
        results.push((env, formation));
    }
    if args.json {
        return ctx.print_json_per_env(&results);
    }
    if updates.is_empty() {
        for (env, formation) in &results {
            let line: Vec<String> = formation
                .iter()
                .map(|f| format!("{}={}:{}", f.process_type, f.quantity, f.size))
                .collect();
            let text = if line.is_empty() {
                format!("{env}: no process types yet (push a release first)\n")
            } else if results.len() > 1 {
                format!("{env}: {}\n", line.join(" "))
            } else {
                format!("{}\n", line.join(" "))
            };
            ctx.print(&text)?;
        }
    }
    Ok(())
}

/// What a restart concerns: its API path, its words, and which process types to watch.
fn restart_plan(
    env: &EnvName,
    which: Option<&str>,
) -> Result<(String, String, Option<String>), CliError> {
    match which {
        None => Ok((format!("/apps/{env}/dynos"), "all dynos".into(), None)),
        Some(name) => {
            check_process_name(name)?;
            if let Some((kind, _)) = name.split_once('.') {
                Ok((
                    format!("/apps/{env}/dynos/{name}"),
                    format!("dyno {name}"),
                    Some(kind.to_string()),
                ))
            } else {
                Ok((
                    format!("/apps/{env}/formations/{name}"),
                    format!("{name} dynos"),
                    Some(name.to_string()),
                ))
            }
        }
    }
}

pub(crate) async fn restart(ctx: &mut Context, args: RestartArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    for env in target.envs() {
        let (path, what, kind) = restart_plan(&env, args.which.as_deref())?;
        let before: Vec<Dyno> = client.get(&format!("/apps/{env}/dynos")).await?;
        let chosen: Vec<String> = before
            .into_iter()
            .filter(|d| match args.which.as_deref() {
                None => d.process_type != "run",
                Some(name) if name.contains('.') => d.name == name,
                Some(kind) => d.process_type == kind,
            })
            .map(|d| d.id)
            .collect();
        ctx.note(&format!("Restarting {what} of {env}... "))?;
        let slow = client.with_timeout(ROLLOUT_TIMEOUT);
        if let Err(e) = slow.delete_ignoring_body(&path).await {
            ctx.note("!\n")?;
            return Err(e);
        }
        ctx.note("done\n")?;
        if args.no_wait {
            continue;
        }
        wait_until_replaced(ctx, &client, &env, &chosen).await?;
        let formation: Vec<Formation> = client.get(&format!("/apps/{env}/formation")).await?;
        let expected: BTreeMap<String, i64> = formation
            .into_iter()
            .filter(|f| f.quantity > 0 && kind.as_ref().is_none_or(|k| *k == f.process_type))
            .map(|f| (f.process_type, f.quantity))
            .collect();
        wait_for_dynos(ctx, &client, &env, &expected).await?;
    }
    if args.json {
        ctx.print_json(&serde_json::Map::new())?;
    }
    Ok(())
}

pub(crate) async fn stop(ctx: &mut Context, args: StopArgs) -> Result<(), CliError> {
    check_process_name(&args.which)?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let which = &args.which;
    for env in target.envs() {
        let path = if which.contains('.') {
            format!("/apps/{env}/dynos/{which}/actions/stop")
        } else {
            format!("/apps/{env}/formations/{which}/actions/stop")
        };
        ctx.note(&format!("Stopping {which} on {env}... "))?;
        let answer: Result<serde_json::Value, _> = client.post(&path, &serde_json::json!({})).await;
        if let Err(e) = answer {
            ctx.note("!\n")?;
            return Err(e);
        }
        ctx.note("done (the formation starts it again; `doppel ps:scale` changes that)\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(arg: &str) -> Option<(String, Option<Quantity>, Option<String>)> {
        parse_scale(arg).ok().map(|u| {
            let size = u.size_key().map(str::to_string);
            (u.process_type.unwrap_or_default(), u.quantity, size)
        })
    }

    #[test]
    fn scale_arguments_as_heroku_takes_them() {
        assert_eq!(
            parsed("web=2"),
            Some(("web".into(), Some(Quantity::Absolute(2)), None))
        );
        assert_eq!(
            parsed("worker+1:standard-2x"),
            Some((
                "worker".into(),
                Some(Quantity::Relative(1)),
                Some("standard-2x".into())
            ))
        );
        assert_eq!(
            parsed("web-1"),
            Some(("web".into(), Some(Quantity::Relative(-1)), None))
        );
        assert_eq!(
            parsed("my-worker=3"),
            Some(("my-worker".into(), Some(Quantity::Absolute(3)), None))
        );
        assert_eq!(
            parsed("web=standard-2x"),
            Some(("web".into(), None, Some("standard-2x".into())))
        );
        assert_eq!(
            parsed("web=:Basic"),
            Some(("web".into(), None, Some("Basic".into())))
        );
        for bad in ["web", "web=", "=2", "web=two:", "w/b=1", "web=-2"] {
            assert!(parse_scale(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ps_groups_by_type_with_state_age_and_release() -> Result<(), CliError> {
        use doppel_api_types::common::NamedRef;
        use doppel_api_types::dynos::DynoRelease;
        let at = |s: &str| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        };
        let now = at("2026-01-01T12:05:00Z").unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let dyno = |name: &str, kind: &str, state: &str, updated: &str| Dyno {
            id: name.into(),
            name: name.into(),
            process_type: kind.into(),
            command: "bash".into(),
            state: state.into(),
            size: "standard-2X".into(),
            attach_url: None,
            release: DynoRelease {
                id: "r".into(),
                version: 3,
            },
            app: NamedRef {
                id: "a".into(),
                name: "myapp".into(),
            },
            created_at: updated.into(),
            updated_at: updated.into(),
        };
        let dynos = [
            dyno("web.1", "web", "up", "2026-01-01T12:00:00Z"),
            dyno("web.2", "web", "crashed", "2026-01-01T12:04:30Z"),
            dyno("run.1234", "run", "up", "2026-01-01T12:04:00Z"),
        ];
        let formation: Vec<Formation> =
            serde_json::from_value(serde_json::json!([{"app": {"id": "a", "name": "myapp"},
                "command": "serve", "created_at": "", "id": "f", "quantity": 2,
                "size": "standard-1X", "type": "web", "updated_at": "",
                "dyno_size": {"id": "s", "name": "standard-1X"}}]))
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let env = EnvName::parse("myapp")?;
        let text = render_ps(&env, &dynos, &formation, now);
        assert!(text.contains("=== web (standard-1X): serve (2)"), "{text}");
        assert!(
            text.contains("web.1: up 2026/01/01 12:00:00 +0000 (~ 5m ago) (release v3)"),
            "{text}"
        );
        assert!(
            text.contains("web.2: crashed 2026/01/01 12:04:30 +0000 (~ 30s ago)"),
            "{text}"
        );
        assert!(text.contains("=== run: one-off processes (1)"), "{text}");
        assert!(text.contains("run.1234 (standard-2X): up"), "{text}");
        Ok(())
    }

    #[test]
    fn restart_paths() -> Result<(), CliError> {
        let env = EnvName::parse("myapp")?;
        assert_eq!(restart_plan(&env, None)?.0, "/apps/myapp/dynos");
        assert_eq!(
            restart_plan(&env, Some("web.1"))?.0,
            "/apps/myapp/dynos/web.1"
        );
        assert_eq!(
            restart_plan(&env, Some("web"))?.0,
            "/apps/myapp/formations/web"
        );
        assert!(restart_plan(&env, Some("../x")).is_err());
        Ok(())
    }
}

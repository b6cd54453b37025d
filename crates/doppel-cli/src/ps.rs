//! `ps`, `ps:restart`, `ps:stop`: an environment's dynos with their state, age, size and
//! release; rolling restarts; stopping a dyno or a process type.

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;
use serde_json::Value;
use std::collections::BTreeMap;

/// Arguments of `doppel ps`.
#[derive(Debug, Clone, clap::Args)]
pub struct PsArgs {
    /// The environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Print the server's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel ps:restart` and `doppel ps:stop`.
#[derive(Debug, Clone, clap::Args)]
pub struct PsTargetArgs {
    /// A dyno (`web.1`) or a process type (`web`); `ps:restart` without one restarts all
    pub target: Option<String>,
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
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

/// The `ps` listing, grouped by process type as the Heroku CLI shows it.
pub fn render_ps(env: &str, dynos: &[Value], now: time::OffsetDateTime) -> String {
    if dynos.is_empty() {
        return format!("No dynos on {env}\n");
    }
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut groups: BTreeMap<(bool, String), Vec<&Value>> = BTreeMap::new();
    for d in dynos {
        let kind = text(d, "type");
        groups.entry((kind == "run", kind)).or_default().push(d);
    }
    let mut out = String::new();
    for ((one_off, kind), list) in groups {
        if one_off {
            out.push_str(&format!("=== run: one-off processes ({})\n", list.len()));
        } else {
            let first = list[0];
            out.push_str(&format!(
                "=== {kind} ({}): {} ({})\n",
                text(first, "size"),
                text(first, "command"),
                list.len()
            ));
        }
        for d in list {
            let version = d["release"]["version"].as_i64().unwrap_or_default();
            let stamp = since(&text(d, "updated_at"), now);
            if one_off {
                out.push_str(&format!(
                    "{} ({}): {} {stamp}: {}  v{version}\n",
                    text(d, "name"),
                    text(d, "size"),
                    text(d, "state"),
                    text(d, "command")
                ));
            } else {
                out.push_str(&format!(
                    "{}: {} {stamp}  v{version}\n",
                    text(d, "name"),
                    text(d, "state")
                ));
            }
        }
        out.push('\n');
    }
    out
}

pub(crate) async fn ps(ctx: &mut Context, args: PsArgs) -> Result<(), CliError> {
    let env_name = args.app.clone().ok_or(CliError::NoApp)?;
    let env = env_segment(&env_name)?;
    let client = ctx.client()?;
    let dynos: Value = client.get(&format!("/apps/{env}/dynos")).await?;
    if args.json {
        return ctx.print_json(&dynos);
    }
    let list = dynos.as_array().cloned().unwrap_or_default();
    ctx.print(&render_ps(env, &list, time::OffsetDateTime::now_utc()))
}

/// Whether `target` names one dyno (`web.1`) rather than a process type.
fn is_dyno(target: &str) -> bool {
    target.contains('.')
}

fn segment(target: &str) -> Result<&str, CliError> {
    let ok = !target.is_empty()
        && target
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    if ok {
        Ok(target)
    } else {
        Err(CliError::Api {
            status: 0,
            id: "invalid_params".into(),
            message: format!("{target:?} is not a dyno (web.1) or process type (web)"),
        })
    }
}

pub(crate) async fn restart(ctx: &mut Context, args: PsTargetArgs) -> Result<(), CliError> {
    let env_name = args.app.clone().ok_or(CliError::NoApp)?;
    let env = env_segment(&env_name)?;
    let client = ctx.client()?;
    let (path, what) = match args.target.as_deref() {
        None => (format!("/apps/{env}/dynos"), "all dynos".to_string()),
        Some(t) if is_dyno(t) => (format!("/apps/{env}/dynos/{}", segment(t)?), t.to_string()),
        Some(t) => (
            format!("/apps/{env}/formations/{}", segment(t)?),
            format!("{t} dynos"),
        ),
    };
    let _: Value = client.delete(&path).await?;
    ctx.note(&format!(
        "Restarting {what} on {env}... done (web dynos one at a time; see `doppel ps -a {env}`)\n"
    ))
}

pub(crate) async fn stop(ctx: &mut Context, args: PsTargetArgs) -> Result<(), CliError> {
    let env_name = args.app.clone().ok_or(CliError::NoApp)?;
    let env = env_segment(&env_name)?;
    let target = args.target.clone().ok_or_else(|| CliError::Api {
        status: 0,
        id: "invalid_params".into(),
        message: "Name a dyno (web.1) or a process type (web) to stop.".into(),
    })?;
    let client = ctx.client()?;
    let path = if is_dyno(&target) {
        format!("/apps/{env}/dynos/{}/actions/stop", segment(&target)?)
    } else {
        format!("/apps/{env}/formations/{}/actions/stop", segment(&target)?)
    };
    let _: Value = client.post(&path, &serde_json::json!({})).await?;
    ctx.note(&format!("Stopping {target} on {env}... done\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ps_groups_by_type_with_state_age_and_release() {
        let now = time::OffsetDateTime::parse(
            "2026-01-01T12:05:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let dynos = vec![
            json!({"name": "web.1", "type": "web", "state": "up", "size": "standard-1X", "command": "serve", "updated_at": "2026-01-01T12:00:00Z", "release": {"version": 3}}),
            json!({"name": "web.2", "type": "web", "state": "crashed", "size": "standard-1X", "command": "serve", "updated_at": "2026-01-01T12:04:30Z", "release": {"version": 3}}),
            json!({"name": "run.1234", "type": "run", "state": "up", "size": "standard-2X", "command": "bash", "updated_at": "2026-01-01T12:04:00Z", "release": {"version": 3}}),
        ];
        let text = render_ps("myapp", &dynos, now);
        assert!(text.contains("=== web (standard-1X): serve (2)"), "{text}");
        assert!(
            text.contains("web.1: up 2026/01/01 12:00:00 +0000 (~ 5m ago)  v3"),
            "{text}"
        );
        assert!(
            text.contains("web.2: crashed 2026/01/01 12:04:30 +0000 (~ 30s ago)  v3"),
            "{text}"
        );
        assert!(text.contains("=== run: one-off processes (1)"), "{text}");
        assert!(text.contains("run.1234 (standard-2X): up"), "{text}");
        assert_eq!(render_ps("myapp", &[], now), "No dynos on myapp\n");
    }
}

//! `audit`: every change to an app's environments, newest first — who, what, when, from
//! where and through which client — filtered by environment and by user.

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;
use doppel_api_types::audit::AuditEvent;
use serde_json::Value;

/// Arguments of `doppel audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// The app (both its environments), e.g. myapp
    #[arg(short = 'p', long = "pipeline", value_name = "APP")]
    pub pipeline: Option<String>,
    /// Only this environment's changes (alone: that environment's log)
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// Only this user's changes (email or id)
    #[arg(long, value_name = "EMAIL")]
    pub user: Option<String>,
    /// How many events to show at most
    #[arg(short = 'n', long = "num", default_value_t = 100)]
    pub num: u32,
    /// Print the server's JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The request path for `args`.
pub fn path(args: &AuditArgs) -> Result<String, CliError> {
    let mut query = vec![format!("limit={}", args.num.clamp(1, 10_000))];
    if let Some(user) = &args.user {
        query.push(format!("user={}", encode(user)));
    }
    let base = match (&args.pipeline, &args.app) {
        (Some(p), env) => {
            if let Some(env) = env {
                query.push(format!("environment={}", encode(env_segment(env)?)));
            }
            format!("/pipelines/{}/audit", env_segment(p)?)
        }
        (None, Some(env)) => format!("/apps/{}/audit", env_segment(env)?),
        (None, None) => return Err(CliError::NoPipeline),
    };
    Ok(format!("{base}?{}", query.join("&")))
}

/// `key=value` pairs of an event's details (strings bare, the rest as JSON).
fn details(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            pairs
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| match v {
                    Value::String(s) if !s.contains(' ') => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The table, newest first.
pub fn render(events: &[AuditEvent]) -> String {
    if events.is_empty() {
        return "No changes recorded.\n".to_string();
    }
    let rows: Vec<[String; 6]> = events
        .iter()
        .map(|e| {
            [
                e.created_at.clone(),
                e.environment
                    .as_ref()
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| format!("{} (app)", e.app.name)),
                e.user
                    .as_ref()
                    .and_then(|u| u.email.clone())
                    .unwrap_or_else(|| "-".to_string()),
                match &e.address {
                    Some(a) => format!("{} from {a}", e.client),
                    None => e.client.clone(),
                },
                e.action.clone(),
                details(&e.details),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..5).map(width).collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, w) in widths.iter().enumerate() {
            line.push_str(&format!("{:<w$}  ", r[i]));
        }
        line.push_str(&r[5]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(crate) async fn show(ctx: &mut Context, args: AuditArgs) -> Result<(), CliError> {
    let path = path(&args)?;
    let client = ctx.client()?;
    if args.json {
        let value: Value = client.get(&path).await?;
        return ctx.print_json(&value);
    }
    let events: Vec<AuditEvent> = client.get(&path).await?;
    ctx.print(&render(&events))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(p: Option<&str>, a: Option<&str>, user: Option<&str>) -> AuditArgs {
        AuditArgs {
            pipeline: p.map(str::to_string),
            app: a.map(str::to_string),
            user: user.map(str::to_string),
            num: 100,
            json: false,
        }
    }

    #[test]
    fn asks_the_pipeline_or_one_environment() {
        let p = |a: AuditArgs| path(&a).ok();
        assert_eq!(
            p(args(Some("shop"), None, None)).as_deref(),
            Some("/pipelines/shop/audit?limit=100")
        );
        assert_eq!(
            p(args(Some("shop"), Some("shop-staging"), Some("a+b@x.org"))).as_deref(),
            Some("/pipelines/shop/audit?limit=100&user=a%2Bb%40x.org&environment=shop-staging")
        );
        assert_eq!(
            p(args(None, Some("shop"), None)).as_deref(),
            Some("/apps/shop/audit?limit=100")
        );
        assert!(matches!(
            path(&args(None, None, None)),
            Err(CliError::NoPipeline)
        ));
    }

    #[test]
    fn renders_newest_first_with_who_and_how() {
        let events: Vec<AuditEvent> = serde_json::from_value(json!([
            {"id": "2", "created_at": "2026-12-08T10:00:01Z", "action": "promotion.forced",
             "app": {"id": "a", "name": "shop"}, "environment": {"id": "p", "name": "shop"},
             "user": {"id": "u", "email": "ops@x"}, "client": "doppel-cli", "address": "127.0.0.1",
             "details": {"reason": "hotfix for incident 42", "release": "v3", "drift": ["config/A"], "error": null}},
            {"id": "1", "created_at": "2026-12-08T10:00:00Z", "action": "app.create",
             "app": {"id": "a", "name": "shop"}, "environment": null,
             "user": {"id": "u", "email": "ops@x"}, "client": "api", "address": null, "details": {}}
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        let text = render(&events);
        let expected = "\
2026-12-08T10:00:01Z  shop        ops@x  doppel-cli from 127.0.0.1  promotion.forced  drift=[\"config/A\"] reason=\"hotfix for incident 42\" release=v3
2026-12-08T10:00:00Z  shop (app)  ops@x  api                        app.create
";
        assert_eq!(text, expected);
        assert_eq!(render(&[]), "No changes recorded.\n");
    }
}

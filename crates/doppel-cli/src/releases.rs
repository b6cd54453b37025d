//! `releases`: the release history of one environment.

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;
use serde_json::Value;

/// Arguments of `doppel releases`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReleasesArgs {
    /// The environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// How many releases to show, newest first
    #[arg(short = 'n', long = "num", default_value_t = 15)]
    pub num: usize,
    /// Print the server's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// The releases table, newest first, at most `num` rows.
pub fn render_releases(env: &str, releases: &[Value], num: usize) -> String {
    let mut rows: Vec<&Value> = releases.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.get("version").and_then(Value::as_i64)));
    rows.truncate(num);
    if rows.is_empty() {
        return format!(
            "=== {env} Releases\n{env} has no releases yet. Push to it with git to create one.\n"
        );
    }
    let version = |r: &Value| {
        r.get("version")
            .and_then(Value::as_i64)
            .map(|v| format!("v{v}"))
            .unwrap_or_else(|| "v?".into())
    };
    let description = |r: &Value| {
        let text = r
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match r.get("status").and_then(Value::as_str) {
            Some(status) if status != "succeeded" => format!("{text} ({status})"),
            _ => text,
        }
    };
    let current = rows
        .iter()
        .find(|r| r.get("current").and_then(Value::as_bool) == Some(true))
        .map(|r| version(r));
    let mut out = match current {
        Some(v) => format!("=== {env} Releases - Current: {v}\n"),
        None => format!("=== {env} Releases\n"),
    };
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                version(r),
                description(r),
                r.get("user")
                    .and_then(|u| u.get("email"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                r.get("created_at")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for [v, d, u, t] in &cells {
        let text = format!("{v:<w0$}  {d:<w1$}  {u:<w2$}  {t}");
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

pub(crate) async fn list(ctx: &mut Context, args: ReleasesArgs) -> Result<(), CliError> {
    let env = args.app.ok_or(CliError::NoApp)?;
    let env = env_segment(&env)?;
    let client = ctx.client()?;
    let max = args.num.clamp(1, 1000);
    let releases: Value = client
        .get_range(
            &format!("/apps/{env}/releases"),
            &format!("version ..; max={max}, order=desc"),
        )
        .await?;
    if args.json {
        return ctx.print_json(&releases);
    }
    let list = releases.as_array().map(Vec::as_slice).unwrap_or(&[]);
    ctx.print(&render_releases(env, list, args.num))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_newest_first_with_current_and_failures() {
        let releases = vec![
            json!({"version": 1, "description": "Initial release", "status": "succeeded", "current": false,
                   "user": {"email": "a@example.com"}, "created_at": "2026-01-01T00:00:00Z"}),
            json!({"version": 3, "description": "Deploy 1a2b3c4", "status": "failed", "current": false,
                   "user": {"email": "a@example.com"}, "created_at": "2026-01-03T00:00:00Z"}),
            json!({"version": 2, "description": "Set FOO config vars", "status": "succeeded", "current": true,
                   "user": {"email": "a@example.com"}, "created_at": "2026-01-02T00:00:00Z"}),
        ];
        let text = render_releases("myapp-staging", &releases, 15);
        let expected = "\
=== myapp-staging Releases - Current: v2
v3  Deploy 1a2b3c4 (failed)  a@example.com  2026-01-03T00:00:00Z
v2  Set FOO config vars      a@example.com  2026-01-02T00:00:00Z
v1  Initial release          a@example.com  2026-01-01T00:00:00Z
";
        assert_eq!(text, expected);
        let two = render_releases("myapp-staging", &releases, 2);
        assert!(!two.contains("v1 "), "{two}");
        assert!(render_releases("x", &[], 15).contains("no releases yet"));
    }
}

//! `parity`, `parity:mark`, `parity:unmark`: staging and production side by side, each
//! difference classed drift, expected or intended, and admins' marks of intended differences.

use crate::context::Context;
use crate::error::CliError;
use crate::promote::PipelineArgs;
use doppel_api_types::parity::{Parity, ParityAspect, ParityDifference, ParityMarkCreate};

/// Arguments of `doppel parity`.
#[derive(Debug, Clone, clap::Args)]
pub struct ParityArgs {
    #[command(flatten)]
    pub target: PipelineArgs,
    /// Print the server's JSON instead of the comparison
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel parity:mark`.
#[derive(Debug, Clone, clap::Args)]
pub struct MarkArgs {
    #[command(flatten)]
    pub target: PipelineArgs,
    /// The difference, as parity shows it (e.g. config/FEATURE_FLAG)
    pub id: String,
    /// Why staging and production may differ there (kept and shown)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

/// Arguments of `doppel parity:unmark`.
#[derive(Debug, Clone, clap::Args)]
pub struct UnmarkArgs {
    #[command(flatten)]
    pub target: PipelineArgs,
    /// The difference whose mark goes (e.g. config/FEATURE_FLAG)
    pub id: String,
}

const COLUMN_MAX: usize = 44;

fn clip(text: &str) -> String {
    if text.chars().count() <= COLUMN_MAX {
        return text.to_string();
    }
    let mut out: String = text.chars().take(COLUMN_MAX - 1).collect();
    out.push('…');
    out
}

/// Staging and production items in two columns.
fn columns(out: &mut String, a: &ParityAspect, staging: &str, production: &str) {
    let left: Vec<String> = a.staging.iter().map(|s| clip(s)).collect();
    let width = left
        .iter()
        .map(|s| s.chars().count())
        .chain([staging.chars().count()])
        .max()
        .unwrap_or(0);
    out.push_str(&format!("    {staging:<width$} | {production}\n"));
    let rows = left.len().max(a.production.len());
    if rows == 0 {
        out.push_str(&format!("    {:<width$} | -\n", "-"));
    }
    for i in 0..rows {
        let l = left.get(i).map(String::as_str).unwrap_or("");
        let r = a.production.get(i).map(|s| clip(s)).unwrap_or_default();
        out.push_str(format!("    {l:<width$} | {r}").trim_end());
        out.push('\n');
    }
}

fn difference(out: &mut String, d: &ParityDifference) {
    let class = match d.class.as_str() {
        "drift" => "DRIFT",
        other => other,
    };
    out.push_str(&format!("    {class:<9} [{}] {}\n", d.id, d.message));
    if let Some(fix) = &d.fix {
        if d.class == "drift" {
            out.push_str(&format!("              fix: {fix}\n"));
        }
    }
    if let Some(mark) = &d.mark {
        let by = mark
            .user
            .as_ref()
            .and_then(|u| u.email.clone())
            .unwrap_or_else(|| "an admin".to_string());
        out.push_str(&format!(
            "              intended, marked by {by} on {}: {}\n",
            mark.created_at, mark.reason
        ));
    }
}

/// The comparison as text.
pub fn render(p: &Parity) -> String {
    let (s, pr) = (&p.staging.name, &p.production.name);
    let mut out = format!(
        "=== {} parity: staging ({s}) and production ({pr})\n",
        p.pipeline.name
    );
    for a in &p.aspects {
        out.push_str(&format!("\n{}\n", a.title));
        columns(
            &mut out,
            a,
            &format!("staging ({s})"),
            &format!("production ({pr})"),
        );
        for d in &a.differences {
            difference(&mut out, d);
        }
    }
    out.push_str(&format!(
        "\n{} drift, {} expected, {} intended.\n",
        p.drift, p.expected, p.intended
    ));
    if p.drift > 0 {
        out.push_str(&format!(
            "Promotion is refused while there is drift: fix it, have an admin mark it intended \
             (`doppel parity:mark -p {app} <id> --reason TEXT`), or force it \
             (`doppel promote -p {app} --force --reason TEXT`).\n",
            app = p.pipeline.name
        ));
    } else {
        out.push_str(&format!(
            "Nothing blocks promotion: `doppel promote -p {}`.\n",
            p.pipeline.name
        ));
    }
    out
}

pub(crate) async fn show(ctx: &mut Context, args: ParityArgs) -> Result<(), CliError> {
    let pipeline = args.target.segment()?.to_string();
    let client = ctx.client()?;
    let path = format!("/pipelines/{pipeline}/parity");
    if args.json {
        let value: serde_json::Value = client.get(&path).await?;
        return ctx.print_json(&value);
    }
    let parity: Parity = client.get(&path).await?;
    ctx.print(&render(&parity))
}

pub(crate) async fn mark(ctx: &mut Context, args: MarkArgs) -> Result<(), CliError> {
    let pipeline = args.target.segment()?.to_string();
    let client = ctx.client()?;
    let body = ParityMarkCreate {
        id: args.id.clone(),
        reason: Some(args.reason),
    };
    let _: serde_json::Value = client
        .post(&format!("/pipelines/{pipeline}/parity/marks"), &body)
        .await?;
    ctx.print(&format!(
        "Marked {} of {pipeline} as intended: it no longer blocks promotion.\n",
        args.id
    ))
}

pub(crate) async fn unmark(ctx: &mut Context, args: UnmarkArgs) -> Result<(), CliError> {
    let pipeline = args.target.segment()?.to_string();
    let Some((aspect, item)) = args.id.split_once('/') else {
        return Err(CliError::Api {
            status: 0,
            id: "invalid_params".to_string(),
            message: format!(
                "{:?} names no difference: use the id parity shows, e.g. config/FEATURE_FLAG.",
                args.id
            ),
        });
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
    };
    if !ok(aspect) || !ok(item) {
        return Err(CliError::Api {
            status: 0,
            id: "invalid_params".to_string(),
            message: format!("{:?} is not a difference id parity shows.", args.id),
        });
    }
    let client = ctx.client()?;
    let _: serde_json::Value = client
        .delete(&format!(
            "/pipelines/{pipeline}/parity/marks/{aspect}/{item}"
        ))
        .await?;
    ctx.print(&format!(
        "{} of {pipeline} is no longer marked intended.\n",
        args.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shows_both_sides_and_every_difference_with_its_fix() {
        let parity: Parity = serde_json::from_value(json!({
            "pipeline": {"id": "a", "name": "shop"},
            "staging": {"id": "s", "name": "shop-staging"},
            "production": {"id": "p", "name": "shop"},
            "drift": 1, "expected": 1, "intended": 1,
            "aspects": [{
                "name": "config", "title": "Config var keys (values are never shown)",
                "staging": ["API_KEY", "DATABASE_URL", "QA"], "production": ["DATABASE_URL"],
                "differences": [
                    {"id": "config/API_KEY", "aspect": "config", "item": "API_KEY", "class": "drift",
                     "message": "shop lacks config var API_KEY, which staging has.",
                     "fix": "doppel config:set API_KEY=<value> -a shop", "mark": null},
                    {"id": "config/DATABASE_URL", "aspect": "config", "item": "DATABASE_URL", "class": "expected",
                     "message": "DATABASE_URL has its own value in each environment.", "fix": null, "mark": null},
                    {"id": "config/QA", "aspect": "config", "item": "QA", "class": "intended",
                     "message": "shop lacks config var QA, which staging has.", "fix": "doppel config:set QA=<value> -a shop",
                     "mark": {"id": "config/QA", "reason": "QA only", "user": {"id": "u", "email": "ops@x"},
                              "created_at": "2026-12-08T10:00:00Z"}}
                ]
            }]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let text = render(&parity);
        let expected = "\
=== shop parity: staging (shop-staging) and production (shop)

Config var keys (values are never shown)
    staging (shop-staging) | production (shop)
    API_KEY                | DATABASE_URL
    DATABASE_URL           |
    QA                     |
    DRIFT     [config/API_KEY] shop lacks config var API_KEY, which staging has.
              fix: doppel config:set API_KEY=<value> -a shop
    expected  [config/DATABASE_URL] DATABASE_URL has its own value in each environment.
    intended  [config/QA] shop lacks config var QA, which staging has.
              intended, marked by ops@x on 2026-12-08T10:00:00Z: QA only

1 drift, 1 expected, 1 intended.
";
        assert!(text.starts_with(expected), "{text}");
        assert!(text.contains("--force --reason TEXT"), "{text}");
    }
}

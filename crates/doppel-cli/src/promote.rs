//! `promote` and `direct-pushes`: production gets the exact image staging runs (or an earlier
//! staging release's), with its own config, the progress streamed as it happens; and the
//! admins' rule on git pushes to production.

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;
use doppel_api_types::pipelines::{
    DirectPushes, PipelinePromotion, PromoteBody, PROMOTION_ID_HEADER,
};

/// Which app a command is about: `-p APP`, or either environment with `-a ENV`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PipelineArgs {
    /// The app (both its environments), e.g. myapp
    #[arg(short = 'p', long = "pipeline", value_name = "APP")]
    pub pipeline: Option<String>,
    /// Either environment of the app, e.g. myapp-staging
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
}

impl PipelineArgs {
    /// The path segment naming the app (`-p` wins over `-a`).
    pub fn segment(&self) -> Result<&str, CliError> {
        let name = self
            .pipeline
            .as_deref()
            .or(self.app.as_deref())
            .ok_or(CliError::NoPipeline)?;
        env_segment(name)
    }
}

/// Arguments of `doppel promote`.
#[derive(Debug, Clone, clap::Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub target: PipelineArgs,
    /// The staging release to promote (vN or an id); staging's current one by default
    #[arg(long, value_name = "vN")]
    pub release: Option<String>,
    /// Promote even though staging and production have drifted apart (needs --reason)
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why: kept in the audit log with your name
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// Arguments of `doppel direct-pushes`.
#[derive(Debug, Clone, clap::Args)]
pub struct DirectPushesArgs {
    #[command(flatten)]
    pub target: PipelineArgs,
    /// Let production also take git pushes (admins)
    #[arg(long, conflicts_with = "forbid")]
    pub allow: bool,
    /// Production takes promotions only (the default)
    #[arg(long)]
    pub forbid: bool,
}

/// The closing lines of a finished promotion.
pub fn render_result(p: &PipelinePromotion) -> Result<String, CliError> {
    let target = p.doppel.target.clone().unwrap_or_default();
    let from = match &p.source.release {
        Some(r) => format!(
            "{} v{}",
            p.source.app.name,
            r.version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "?".into())
        ),
        None => p.source.app.name.clone(),
    };
    match target.status.as_str() {
        "succeeded" => {
            let version = target
                .release
                .and_then(|r| r.version)
                .map(|v| format!(" as release v{v}"))
                .unwrap_or_default();
            Ok(format!(
                "Promoted {from} to {}{version}: {}\n",
                target.app.name, p.doppel.web_url
            ))
        }
        status => Err(CliError::Api {
            status: 0,
            id: "promotion_failed".to_string(),
            message: format!(
                "Promotion of {from} to {} {status}: {}",
                target.app.name,
                target
                    .error_message
                    .unwrap_or_else(|| "no reason given".to_string())
            ),
        }),
    }
}

pub(crate) async fn promote(ctx: &mut Context, args: PromoteArgs) -> Result<(), CliError> {
    let pipeline = args.target.segment()?.to_string();
    let client = ctx.client()?;
    let body = PromoteBody {
        release: args.release,
        force: args.force,
        reason: args.reason,
    };
    let path = format!("/pipelines/{pipeline}/promote");
    let id = client
        .post_lines(&path, &body, PROMOTION_ID_HEADER, |line| {
            ctx.note(&format!("{line}\n"))
        })
        .await?;
    let Some(id) = id else {
        return Err(CliError::BadResponse {
            host: client.host().to_string(),
            status: 200,
            reason: "the server did not say which promotion it started".to_string(),
        });
    };
    let done: PipelinePromotion = client.get(&format!("/pipeline-promotions/{id}")).await?;
    let text = render_result(&done)?;
    ctx.print(&text)
}

pub(crate) async fn direct_pushes(
    ctx: &mut Context,
    args: DirectPushesArgs,
) -> Result<(), CliError> {
    let pipeline = args.target.segment()?.to_string();
    let client = ctx.client()?;
    let path = format!("/pipelines/{pipeline}/direct-pushes");
    let now: DirectPushes = if args.allow || args.forbid {
        let wanted = DirectPushes {
            allowed: args.allow,
        };
        client.put(&path, &wanted).await?
    } else {
        client.get(&path).await?
    };
    let text = if now.allowed {
        format!("Production of {pipeline} takes promotions and git pushes.\n")
    } else {
        format!("Production of {pipeline} takes promotions only (git pushes are refused).\n")
    };
    ctx.print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn promotion(status: &str, error: Option<&str>) -> PipelinePromotion {
        let value = json!({
            "id": "p1", "pipeline": {"id": "a", "name": "shop"},
            "source": {"app": {"id": "s", "name": "shop-staging"}, "release": {"id": "r1", "version": 3}},
            "status": "completed", "created_at": "", "updated_at": "",
            "doppel": {
                "target": {"id": "t", "app": {"id": "p", "name": "shop"}, "pipeline_promotion": {"id": "p1"},
                           "release": {"id": "r9", "version": 7}, "status": status, "error_message": error},
                "forced": false, "reason": null, "user": null, "web_url": "https://shop.localhost/"
            }
        });
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn reports_the_new_release_and_url_or_why_it_failed() {
        let ok = render_result(&promotion("succeeded", None));
        assert_eq!(
            ok.ok().as_deref(),
            Some("Promoted shop-staging v3 to shop as release v7: https://shop.localhost/\n")
        );
        let failed = render_result(&promotion("failed", Some("Release v7 failed: boom")));
        let msg = failed.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("shop-staging v3 to shop failed: Release v7 failed: boom"),
            "{msg}"
        );
    }

    #[test]
    fn the_app_comes_from_p_or_a() {
        let both = PipelineArgs {
            pipeline: Some("shop".into()),
            app: Some("shop-staging".into()),
        };
        assert_eq!(both.segment().ok(), Some("shop"));
        let env = PipelineArgs {
            pipeline: None,
            app: Some("shop-staging".into()),
        };
        assert_eq!(env.segment().ok(), Some("shop-staging"));
        assert!(matches!(
            PipelineArgs::default().segment(),
            Err(CliError::NoPipeline)
        ));
        let bad = PipelineArgs {
            pipeline: Some("../account".into()),
            app: None,
        };
        assert!(bad.segment().is_err());
    }
}

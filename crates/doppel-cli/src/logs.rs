//! `logs`: an environment's log stream — app output per dyno, router lines, builds, release
//! phases and platform events — its last lines, or (`--tail`) new ones as they come.

use crate::apps::env_segment;
use crate::context::Context;
use crate::error::CliError;
use futures_util::StreamExt;
use serde_json::{json, Value};

/// Arguments of `doppel logs`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogsArgs {
    /// The environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV")]
    pub app: Option<String>,
    /// How many past lines to show (at most 1500)
    #[arg(short = 'n', long = "num", default_value_t = 100)]
    pub num: u32,
    /// Keep showing new lines as they come
    #[arg(short = 't', long)]
    pub tail: bool,
    /// Only this dyno (`web.1`) or process type (`web`)
    #[arg(short = 'd', long = "dyno", visible_alias = "ps")]
    pub dyno: Option<String>,
    /// Only lines from `app` or `heroku`
    #[arg(short = 's', long)]
    pub source: Option<String>,
}

pub(crate) async fn logs(ctx: &mut Context, args: LogsArgs) -> Result<(), CliError> {
    let env_name = args.app.clone().ok_or(CliError::NoApp)?;
    let env = env_segment(&env_name)?;
    let client = ctx.client()?;
    let body = json!({
        "dyno": args.dyno,
        "source": args.source,
        "lines": args.num.min(1500),
        "tail": args.tail,
    });
    let session: Value = client
        .post(&format!("/apps/{env}/log-sessions"), &body)
        .await?;
    let url = session["logplex_url"]
        .as_str()
        .ok_or_else(|| CliError::BadResponse {
            host: client.host().to_string(),
            status: 0,
            reason: "the log session has no logplex_url".into(),
        })?
        .to_string();
    let mut body = Box::pin(client.stream(&url).await?);
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        ctx.print(&String::from_utf8_lossy(&chunk))?;
    }
    Ok(())
}

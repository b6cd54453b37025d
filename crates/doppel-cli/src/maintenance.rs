//! `maintenance`, `maintenance:on`, `maintenance:off`: whether an environment answers with
//! the maintenance page instead of its dynos.

use crate::context::Context;
use crate::error::CliError;
use crate::target::{self, TargetArgs};
use doppel_api_types::apps::{App, AppUpdate};
use doppel_types::EnvName;

/// Arguments of the `maintenance` commands.
#[derive(Debug, Clone, clap::Args)]
pub struct MaintenanceArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON (the environment) instead of the summary
    #[arg(long)]
    pub json: bool,
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

pub(crate) async fn show(ctx: &mut Context, args: MaintenanceArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let shown: Vec<(EnvName, App)> = target.get_each(&client, "").await?;
    if args.json {
        return ctx.print_json_per_env(&shown);
    }
    let text: String = match shown.as_slice() {
        [(_, app)] => format!("{}\n", on_off(app.maintenance)),
        many => many
            .iter()
            .map(|(env, app)| format!("{env}: {}\n", on_off(app.maintenance)))
            .collect(),
    };
    ctx.print(&text)
}

/// Turns maintenance mode `on` or off for every environment of the target.
pub(crate) async fn set(
    ctx: &mut Context,
    args: MaintenanceArgs,
    on: bool,
) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let verb = if on { "Enabling" } else { "Disabling" };
    let body = AppUpdate {
        maintenance: Some(on),
        ..AppUpdate::default()
    };
    let mut changed: Vec<(EnvName, App)> = Vec::new();
    for env in target.envs() {
        ctx.note(&format!("{verb} maintenance mode for {env}... "))?;
        match client.patch::<App, _>(&format!("/apps/{env}"), &body).await {
            Ok(app) => {
                ctx.note("done\n")?;
                changed.push((env, app));
            }
            Err(e) => {
                ctx.note("!\n")?;
                return Err(e);
            }
        }
    }
    if args.json {
        return ctx.print_json_per_env(&changed);
    }
    Ok(())
}

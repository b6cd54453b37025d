//! `features`, `features:enable`, `features:disable` (Heroku's): an environment's features,
//! today `http-session-affinity` (the router's sticky sessions). With `-p APP` both
//! environments change together, so parity finds nothing to show.

use crate::context::Context;
use crate::error::CliError;
use crate::table::Table;
use crate::target::{self, TargetArgs};
use doppel_api_types::platform::Feature;
use doppel_types::EnvName;

/// Arguments of `features`.
#[derive(Debug, Clone, clap::Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `features:enable` and `features:disable`.
#[derive(Debug, Clone, clap::Args)]
pub struct FeatureSetArgs {
    /// The feature, e.g. http-session-affinity
    pub feature: String,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// What `features` prints: one line per feature and environment, `[+]` when enabled.
pub fn render(shown: &[(EnvName, Vec<Feature>)]) -> String {
    let mut table = Table::with_header(["Environment", "Feature", "Enabled", "Description"]);
    for (env, features) in shown {
        for f in features {
            table.row([
                env.to_string(),
                f.name.clone(),
                if f.enabled { "[+]" } else { "[ ]" }.to_string(),
                f.description.clone(),
            ]);
        }
    }
    table.render()
}

pub(crate) async fn list(ctx: &mut Context, args: FeaturesArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let shown: Vec<(EnvName, Vec<Feature>)> = target.get_each(&client, "/features").await?;
    if args.json {
        return ctx.print_json_per_env(&shown);
    }
    ctx.print(&render(&shown))
}

/// Turns the feature on or off for every environment of the target.
pub(crate) async fn set(
    ctx: &mut Context,
    args: FeatureSetArgs,
    enabled: bool,
) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let verb = if enabled { "Enabling" } else { "Disabling" };
    let body = serde_json::json!({ "enabled": enabled });
    for env in target.envs() {
        ctx.note(&format!("{verb} {} for {env}... ", args.feature))?;
        let path = format!("/apps/{env}/features/{}", args.feature);
        match client.patch::<Feature, _>(&path, &body).await {
            Ok(_) => ctx.note("done\n")?,
            Err(e) => {
                ctx.note("!\n")?;
                return Err(e);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_environment_says_whether_the_feature_is_on() {
        let feature = |enabled| Feature {
            id: "http-session-affinity".into(),
            name: "http-session-affinity".into(),
            description: "sticky".into(),
            doc_url: None,
            enabled,
            state: "general".into(),
            display_name: None,
            feedback_email: None,
            created_at: None,
            updated_at: None,
        };
        let out = render(&[
            (EnvName::parse("shop-staging").unwrap(), vec![feature(true)]),
            (EnvName::parse("shop").unwrap(), vec![feature(false)]),
        ]);
        let staging = out.lines().find(|l| l.starts_with("shop-staging")).unwrap();
        assert!(
            staging.contains("[+]") && staging.contains("http-session-affinity"),
            "{out}"
        );
        let production = out.lines().find(|l| l.starts_with("shop ")).unwrap();
        assert!(production.contains("[ ]"), "{out}");
    }
}

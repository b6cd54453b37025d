//! `access:ips`: an environment's IP allow-list, enforced by the router (clients outside it
//! get 403): shows it, replaces it with the networks given, or clears it (`--clear`). With
//! `-p APP` it acts on both environments, keeping them alike.

use crate::context::Context;
use crate::error::CliError;
use crate::target::{self, TargetArgs};
use doppel_api_types::allowed_ips::{AllowedIpsInfo, AllowedIpsSet};

/// Arguments of `doppel access:ips`.
#[derive(Debug, Clone, clap::Args)]
pub struct IpsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Networks to admit, replacing the list: CIDR blocks (203.0.113.0/24, 2001:db8::/32) or
    /// single addresses. None: show the list
    #[arg(value_name = "NETWORK", conflicts_with = "clear")]
    pub networks: Vec<String>,
    /// Remove the list: everyone is admitted again
    #[arg(long)]
    pub clear: bool,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// What `access:ips` prints for one environment.
pub fn render(info: &AllowedIpsInfo) -> String {
    if info.networks.is_empty() {
        format!(
            "{}: no IP allow-list (every client is admitted)\n",
            info.app.name
        )
    } else {
        format!(
            "{}: only clients from {} are admitted (others get 403)\n",
            info.app.name,
            info.networks.join(", ")
        )
    }
}

/// `doppel access:ips (-a ENV | -p APP) [NETWORK... | --clear]`.
pub(crate) async fn ips(ctx: &mut Context, args: IpsArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let changing = args.clear || !args.networks.is_empty();
    let mut answers = Vec::new();
    for env in target.envs() {
        let path = format!("/apps/{env}/allowed-ips");
        let info: AllowedIpsInfo = if args.clear {
            ctx.note(&format!("Clearing the IP allow-list of {env}... "))?;
            client.delete(&path).await
        } else if changing {
            ctx.note(&format!("Setting the IP allow-list of {env}... "))?;
            let body = AllowedIpsSet {
                networks: args.networks.clone(),
            };
            client.put(&path, &body).await
        } else {
            client.get(&path).await
        }
        .inspect_err(|_| {
            if changing {
                let _ = ctx.note("!\n");
            }
        })?;
        if changing {
            ctx.note("done\n")?;
        }
        answers.push(info);
    }
    if args.json {
        return ctx.print_json(&answers);
    }
    let text: String = answers.iter().map(render).collect();
    ctx.print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_api_types::common::NamedRef;

    #[test]
    fn says_who_is_admitted() {
        let mut info = AllowedIpsInfo {
            app: NamedRef::new("id", "shop-staging"),
            networks: Vec::new(),
        };
        assert!(render(&info).contains("every client"));
        info.networks = vec!["10.0.0.0/8".into(), "192.0.2.7/32".into()];
        let text = render(&info);
        assert!(
            text.contains("10.0.0.0/8, 192.0.2.7/32") && text.contains("403"),
            "{text}"
        );
    }
}

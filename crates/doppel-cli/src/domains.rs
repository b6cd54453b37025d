//! `domains`, `domains:add`, `domains:remove`: the host names an environment answers on,
//! its platform name and custom domains pointed at it by CNAME.

use crate::context::Context;
use crate::error::CliError;
use crate::table::Table;
use crate::target::{self, TargetArgs};
use doppel_api_types::domains::{Domain, DomainCreate};
use doppel_types::EnvName;

/// Arguments of `doppel domains`.
#[derive(Debug, Clone, clap::Args)]
pub struct DomainsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel domains:add` and `domains:remove`.
#[derive(Debug, Clone, clap::Args)]
pub struct DomainArgs {
    /// The host name, e.g. www.example.com
    pub hostname: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// A host name as the API takes it: lowercase letters, digits, dots, dashes, a leading `*.`.
pub fn check_hostname(given: &str) -> Result<String, CliError> {
    let host = given.trim().trim_end_matches('.').to_ascii_lowercase();
    let body = host.strip_prefix("*.").unwrap_or(&host);
    let ok = !body.is_empty()
        && body.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if ok {
        Ok(host)
    } else {
        Err(CliError::Usage(format!(
            "{given:?} is not a host name. Example: doppel domains:add www.example.com -a myapp"
        )))
    }
}

/// The `domains` listing of one environment.
pub fn render_domains(env: &EnvName, domains: &[Domain]) -> String {
    let platform: Vec<&Domain> = domains.iter().filter(|d| d.kind != "custom").collect();
    let custom: Vec<&Domain> = domains.iter().filter(|d| d.kind == "custom").collect();
    let mut out = String::new();
    if !platform.is_empty() {
        out.push_str(&format!("=== {env} Platform Domain\n"));
        for d in &platform {
            out.push_str(&format!("{}\n", d.hostname));
        }
    }
    if custom.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "{env} has no custom domains. `doppel domains:add www.example.com -a {env}` adds one.\n"
        ));
        return out;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("=== {env} Custom Domains\n"));
    let mut table = Table::with_header(["Domain Name", "DNS Record Type", "DNS Target", "Status"]);
    for d in custom {
        table.row([
            d.hostname.clone(),
            "CNAME".to_string(),
            d.cname.clone().unwrap_or_default(),
            d.status.clone(),
        ]);
    }
    out.push_str(&table.render());
    out
}

pub(crate) async fn list(ctx: &mut Context, args: DomainsArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let shown: Vec<(EnvName, Vec<Domain>)> = target.get_each(&client, "/domains").await?;
    ctx.print_per_env(&shown, args.json, |env, list| render_domains(env, list))
}

pub(crate) async fn add(ctx: &mut Context, args: DomainArgs) -> Result<(), CliError> {
    let hostname = check_hostname(&args.hostname)?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("domains:add")?;
    ctx.note(&format!("Adding {hostname} to {env}... "))?;
    let body = DomainCreate {
        hostname: hostname.clone(),
        sni_endpoint: None,
    };
    let domain: Domain = match client.post(&format!("/apps/{env}/domains"), &body).await {
        Ok(d) => d,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    ctx.note("done\n")?;
    if args.json {
        return ctx.print_json(&domain);
    }
    match &domain.cname {
        Some(target) => ctx.print(&format!(
            "Point {hostname} at {target} with a CNAME record at your DNS provider.\n"
        )),
        None => Ok(()),
    }
}

pub(crate) async fn remove(ctx: &mut Context, args: DomainArgs) -> Result<(), CliError> {
    let hostname = check_hostname(&args.hostname)?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("domains:remove")?;
    ctx.note(&format!("Removing {hostname} from {env}... "))?;
    match client
        .delete::<Domain>(&format!("/apps/{env}/domains/{hostname}"))
        .await
    {
        Ok(domain) => {
            ctx.note("done\n")?;
            if args.json {
                ctx.print_json(&domain)?;
            }
            Ok(())
        }
        Err(e) => {
            ctx.note("!\n")?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_api_types::NamedRef;

    fn domain(host: &str, kind: &str) -> Domain {
        Domain {
            id: host.into(),
            hostname: host.into(),
            kind: kind.into(),
            cname: (kind == "custom").then(|| "myapp.localhost".to_string()),
            status: "succeeded".into(),
            acm_status: None,
            acm_status_reason: None,
            sni_endpoint: None,
            app: NamedRef::new("e", "myapp"),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn hostnames() {
        assert_eq!(
            check_hostname("WWW.Example.com.").ok().as_deref(),
            Some("www.example.com")
        );
        assert!(check_hostname("*.example.com").is_ok());
        for bad in ["", "a..b", "-a.com", "a_b.com", "a/b", "exa mple.com"] {
            assert!(check_hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renders_platform_and_custom_domains() -> Result<(), CliError> {
        let env = EnvName::parse("myapp")?;
        let text = render_domains(
            &env,
            &[
                domain("myapp.localhost", "heroku"),
                domain("www.example.com", "custom"),
            ],
        );
        assert_eq!(
            text,
            "=== myapp Platform Domain\nmyapp.localhost\n\n=== myapp Custom Domains\nDomain Name      DNS Record Type  DNS Target       Status\n---------------  ---------------  ---------------  ---------\nwww.example.com  CNAME            myapp.localhost  succeeded\n"
        );
        let none = render_domains(&env, &[domain("myapp.localhost", "heroku")]);
        assert!(
            none.ends_with(
                "has no custom domains. `doppel domains:add www.example.com -a myapp` adds one.\n"
            ),
            "{none}"
        );
        Ok(())
    }
}

//! `certs`, `certs:add`, `certs:info`, `certs:update`, `certs:remove` (uploaded certificates,
//! Heroku's SNI endpoints) and `certs:auto`, `certs:auto:enable`, `certs:auto:disable`
//! (certificates from ACME for an environment's custom domains).

use crate::context::Context;
use crate::error::CliError;
use crate::table::Table;
use crate::target::{self, TargetArgs};
use doppel_api_types::apps::App;
use doppel_api_types::certs::{SniEndpoint, SniEndpointBody};
use doppel_api_types::domains::Domain;
use doppel_types::EnvName;
use std::path::PathBuf;

/// Arguments of `doppel certs` and `certs:auto`.
#[derive(Debug, Clone, clap::Args)]
pub struct CertsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel certs:add` and `certs:update`.
#[derive(Debug, Clone, clap::Args)]
pub struct CertFilesArgs {
    /// The certificate chain, PEM (leaf first)
    pub crt: PathBuf,
    /// Its private key, PEM
    pub key: PathBuf,
    /// Which certificate (`certs:update`; default: the only one)
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel certs:info` and `certs:remove`.
#[derive(Debug, Clone, clap::Args)]
pub struct CertArgs {
    /// Which certificate (default: the only one)
    #[arg(long)]
    pub name: Option<String>,
    /// The environment's name again, to confirm (`certs:remove`)
    #[arg(long)]
    pub confirm: Option<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// The `certs` listing of one environment.
pub fn render_list(env: &EnvName, certs: &[SniEndpoint]) -> String {
    if certs.is_empty() {
        return format!(
            "{env} has no SSL certificates. `doppel certs:add CRT KEY -a {env}` uploads one; `doppel certs:auto:enable -a {env}` gets them from ACME.\n"
        );
    }
    let mut table = Table::with_header([
        "Name",
        "Common Name(s)",
        "Expires",
        "Trusted",
        "Type",
        "Domains",
    ]);
    for c in certs {
        table.row([
            c.name.clone(),
            c.ssl_cert.cert_domains.join(", "),
            c.ssl_cert.expires_at.clone(),
            if c.ssl_cert.ca_signed {
                "True"
            } else {
                "False"
            }
            .to_string(),
            "SNI".to_string(),
            c.domains.len().to_string(),
        ]);
    }
    table.render()
}

/// `certs:info` of one certificate.
pub fn render_info(c: &SniEndpoint) -> String {
    format!(
        "Certificate details:\nName:           {}\nCommon Name(s): {}\nExpires At:     {}\nIssuer:         {}\nStarts At:      {}\nSubject:        {}\nSSL certificate is {}.\n",
        c.name,
        c.ssl_cert.cert_domains.join(", "),
        c.ssl_cert.expires_at,
        c.ssl_cert.issuer,
        c.ssl_cert.starts_at,
        c.ssl_cert.subject,
        if c.ssl_cert.self_signed {
            "self signed"
        } else {
            "verified by a root authority"
        },
    )
}

/// The `certs:auto` listing: ACM on or off, and each custom domain's status.
pub fn render_auto(env: &EnvName, app: &App, domains: &[Domain]) -> String {
    if !app.acm {
        return format!(
            "Automatic Certificate Management is disabled on {env}. `doppel certs:auto:enable -a {env}` turns it on.\n"
        );
    }
    let mut out = format!("=== Automatic Certificate Management is enabled on {env}\n\n");
    let custom: Vec<&Domain> = domains.iter().filter(|d| d.kind == "custom").collect();
    if custom.is_empty() {
        out.push_str("No custom domains yet: `doppel domains:add` adds one.\n");
        return out;
    }
    let mut table = Table::with_header(["Domain", "Status", "Reason"]);
    for d in custom {
        let status = match (&d.acm_status, &d.sni_endpoint) {
            (_, Some(sni)) => format!("uploaded ({})", sni.name),
            (Some(s), None) => s.clone(),
            (None, None) => "-".to_string(),
        };
        table.row([
            d.hostname.clone(),
            status,
            d.acm_status_reason.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&table.render());
    out
}

fn read(path: &PathBuf, what: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("could not read the {what} {}: {e}", path.display())))
}

pub(crate) async fn list(ctx: &mut Context, args: CertsArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let shown: Vec<(EnvName, Vec<SniEndpoint>)> =
        target.get_each(&client, "/sni-endpoints").await?;
    ctx.print_per_env(&shown, args.json, |env, list| render_list(env, list))
}

pub(crate) async fn add(ctx: &mut Context, args: CertFilesArgs) -> Result<(), CliError> {
    let body = SniEndpointBody {
        certificate_chain: read(&args.crt, "certificate")?,
        private_key: read(&args.key, "key")?,
    };
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("certs:add")?;
    ctx.note(&format!("Adding SSL certificate to {env}... "))?;
    let added: SniEndpoint = match client
        .post(&format!("/apps/{env}/sni-endpoints"), &body)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    ctx.note(&format!("done ({})\n", added.name))?;
    if args.json {
        return ctx.print_json(&added);
    }
    ctx.print(&render_info(&added))
}

/// The one certificate `--name` names, or the environment's only one.
async fn pick(
    client: &crate::client::Client,
    env: &EnvName,
    name: Option<&str>,
) -> Result<SniEndpoint, CliError> {
    if let Some(name) = name {
        return client
            .get(&format!("/apps/{env}/sni-endpoints/{name}"))
            .await;
    }
    let mut all: Vec<SniEndpoint> = client.get(&format!("/apps/{env}/sni-endpoints")).await?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(CliError::Usage(format!("{env} has no SSL certificates."))),
        _ => Err(CliError::Usage(format!(
            "{env} has several SSL certificates; name one with --name ({}).",
            all.iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub(crate) async fn info(ctx: &mut Context, args: CertArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("certs:info")?;
    let cert = pick(&client, &env, args.name.as_deref()).await?;
    if args.json {
        return ctx.print_json(&cert);
    }
    ctx.print(&render_info(&cert))
}

pub(crate) async fn update(ctx: &mut Context, args: CertFilesArgs) -> Result<(), CliError> {
    let body = SniEndpointBody {
        certificate_chain: read(&args.crt, "certificate")?,
        private_key: read(&args.key, "key")?,
    };
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("certs:update")?;
    let cert = pick(&client, &env, args.name.as_deref()).await?;
    ctx.note(&format!(
        "Updating SSL certificate {} for {env}... ",
        cert.name
    ))?;
    let updated: SniEndpoint = client
        .patch(&format!("/apps/{env}/sni-endpoints/{}", cert.id), &body)
        .await?;
    ctx.note("done\n")?;
    if args.json {
        return ctx.print_json(&updated);
    }
    ctx.print(&render_info(&updated))
}

pub(crate) async fn remove(ctx: &mut Context, args: CertArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("certs:remove")?;
    if args.confirm.as_deref().map(str::trim) != Some(env.as_str()) {
        return Err(CliError::Usage(format!(
            "certs:remove removes a certificate {env} serves; confirm with `--confirm {env}`."
        )));
    }
    let cert = pick(&client, &env, args.name.as_deref()).await?;
    ctx.note(&format!(
        "Removing SSL certificate {} from {env}... ",
        cert.name
    ))?;
    let removed: SniEndpoint = client
        .delete(&format!("/apps/{env}/sni-endpoints/{}", cert.id))
        .await?;
    ctx.note("done\n")?;
    if args.json {
        return ctx.print_json(&removed);
    }
    Ok(())
}

pub(crate) async fn auto(ctx: &mut Context, args: CertsArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("certs:auto")?;
    let app: App = client.get(&format!("/apps/{env}")).await?;
    let domains: Vec<Domain> = client.get(&format!("/apps/{env}/domains")).await?;
    if args.json {
        return ctx.print_json(&domains);
    }
    ctx.print(&render_auto(&env, &app, &domains))
}

pub(crate) async fn auto_set(ctx: &mut Context, args: CertsArgs, on: bool) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one(if on {
        "certs:auto:enable"
    } else {
        "certs:auto:disable"
    })?;
    let path = format!("/apps/{env}/acm");
    ctx.note(&format!(
        "{} Automatic Certificate Management for {env}... ",
        if on { "Enabling" } else { "Disabling" }
    ))?;
    let app: App = if on {
        client.post(&path, &serde_json::json!({})).await?
    } else {
        client.delete(&path).await?
    };
    ctx.note("done\n")?;
    if args.json {
        return ctx.print_json(&app);
    }
    if on {
        ctx.print(&format!(
            "Certificates are ordered for {env}'s custom domains once their DNS points here; `doppel certs:auto -a {env}` shows their status.\n"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_api_types::certs::SslCert;
    use doppel_api_types::NamedRef;

    fn cert() -> SniEndpoint {
        SniEndpoint {
            id: "1".into(),
            name: "sni-1".into(),
            display_name: None,
            certificate_chain: String::new(),
            domains: vec!["d1".into()],
            app: NamedRef::new("e", "myapp"),
            ssl_cert: SslCert {
                id: "1".into(),
                ca_signed: true,
                self_signed: false,
                cert_domains: vec!["www.example.com".into()],
                starts_at: "2030-01-01T00:00:00Z".into(),
                expires_at: "2030-04-01T00:00:00Z".into(),
                issuer: "CN=Some CA".into(),
                subject: "CN=www.example.com".into(),
            },
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn lists_and_shows_certificates() -> Result<(), CliError> {
        let env = EnvName::parse("myapp")?;
        let list = render_list(&env, &[cert()]);
        assert!(
            list.contains("sni-1") && list.contains("www.example.com"),
            "{list}"
        );
        assert!(
            list.contains("2030-04-01T00:00:00Z") && list.contains("True"),
            "{list}"
        );
        assert!(render_list(&env, &[]).contains("certs:add"));
        let info = render_info(&cert());
        assert!(info.contains("CN=Some CA") && info.contains("verified by a root authority"));
        Ok(())
    }
}

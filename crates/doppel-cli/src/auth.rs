//! `login`, `logout`, `auth:whoami`, `auth:token`: getting a token and checking it. The
//! token goes to `~/.netrc` under the server's host name (as the Heroku CLI keeps its own,
//! and where git finds it too); the server URL and CA file to
//! `~/.config/doppel/config.json`.

use crate::client::Client;
use crate::config::{self, netrc_machine, Config, Saved, Settings, Source};
use crate::context::Context;
use crate::error::{CliError, DEFAULT_DATA_DIR};
use crate::netrc::Netrc;
use doppel_api_types::account::Account;
use std::fmt;
use std::path::PathBuf;

/// Arguments of `doppel login`.
#[derive(Clone, clap::Args)]
pub struct LoginArgs {
    /// The doppel server, e.g. https://localhost:8443 (default: DOPPEL_HOST, the saved host, or https://localhost)
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// The API token; without it the token is read from standard input (or prompted for)
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// A PEM file of a CA to trust besides the system's, usually the server's <data-dir>/ca.pem
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Print the account as the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

impl fmt::Debug for LoginArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginArgs")
            .field("host", &self.host)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_cert", &self.ca_cert)
            .field("json", &self.json)
            .finish()
    }
}

/// `--json` alone.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct JsonArgs {
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// The saved files' paths, or the error saying HOME is needed.
fn netrc_path(ctx: &Context) -> Result<PathBuf, CliError> {
    ctx.paths.netrc.clone().ok_or(CliError::NoConfigDir)
}

fn save_netrc(path: &std::path::Path, netrc: &Netrc) -> Result<(), CliError> {
    netrc.save(path).map_err(|source| CliError::Credentials {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) async fn login(ctx: &mut Context, args: LoginArgs) -> Result<(), CliError> {
    let netrc_path = netrc_path(ctx)?;
    // A broken earlier file is about to be replaced, so it is not an error here.
    let saved = Saved::load(&ctx.paths).unwrap_or_default();
    let base = Config::resolve(&ctx.env, &saved);
    let host = args
        .host
        .map(|h| h.trim().trim_end_matches('/').to_string())
        .unwrap_or(base.host);
    let ca_cert = args
        .ca_cert
        .or(base.ca_cert)
        .map(|p| std::path::absolute(&p).unwrap_or(p));
    let token = match args.token {
        Some(t) => t,
        None => read_token(ctx, &host)?,
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(CliError::EmptyToken);
    }
    let client = Client::new(&host, &token, ca_cert.as_deref())?;
    let account: Account = client.get("/account").await?;
    let machine = netrc_machine(client.host()).ok_or_else(|| CliError::InvalidHost {
        host: host.clone(),
        reason: "the URL has no host name".into(),
    })?;
    let mut netrc = Netrc::load(&netrc_path).map_err(|source| CliError::Credentials {
        action: "read",
        path: netrc_path.clone(),
        source,
    })?;
    netrc.set(&machine, &account.email, &token);
    save_netrc(&netrc_path, &netrc)?;
    if let Some(path) = &ctx.paths.settings {
        Settings {
            host: Some(client.host().to_string()),
            ca_cert,
        }
        .save(path)?;
    }
    if let Some(legacy) = &ctx.paths.legacy {
        config::remove_file(legacy)?;
    }
    if args.json {
        ctx.print_json(&account)?;
    } else {
        ctx.print(&format!("Logged in as {}\n", account.email))?;
    }
    if ctx.env.get(config::ENV_HOST).is_some() || ctx.env.get(config::ENV_API_KEY).is_some() {
        ctx.note("Note: DOPPEL_HOST / DOPPEL_API_KEY are set and take precedence over the saved login.\n")?;
    }
    Ok(())
}

/// Reads the token: a hidden prompt on a terminal, else the first line of standard input.
fn read_token(ctx: &mut Context, host: &str) -> Result<String, CliError> {
    if ctx.stdin_is_terminal {
        ctx.note(&format!(
            "Enter an API token for {host} (a new server's admin token is in <data-dir>/admin-token, by default {DEFAULT_DATA_DIR}/admin-token): "
        ))?;
    }
    let hidden = ctx.stdin_is_terminal && set_echo(false);
    let mut line = String::new();
    let read = ctx.stdin.read_line(&mut line);
    if hidden {
        set_echo(true);
        ctx.note("\n")?;
    }
    read.map_err(CliError::Stdin)?;
    Ok(line.trim().to_string())
}

/// Turns terminal echo off or on with `stty`; false when that is not possible.
fn set_echo(on: bool) -> bool {
    std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Removes doppel's `~/.netrc` entry for the current host (no other machine's) and the old
/// credentials file; keeps the saved host, so the next `login` offers it again.
pub(crate) fn logout(ctx: &mut Context) -> Result<(), CliError> {
    let netrc_path = netrc_path(ctx)?;
    let cfg = ctx.config()?;
    let mut removed = false;
    if let Some(machine) = netrc_machine(&cfg.host) {
        let mut netrc = Netrc::load(&netrc_path).map_err(|source| CliError::Credentials {
            action: "read",
            path: netrc_path.clone(),
            source,
        })?;
        if netrc.remove(&machine) {
            save_netrc(&netrc_path, &netrc)?;
            removed = true;
        }
    }
    if let Some(legacy) = &ctx.paths.legacy {
        removed |= config::remove_file(legacy)?;
    }
    if removed {
        ctx.print(&format!("Logged out of {}\n", cfg.host))?;
    } else {
        ctx.print("Not logged in\n")?;
    }
    if ctx.env.get(config::ENV_API_KEY).is_some() {
        ctx.note("Note: DOPPEL_API_KEY is still set in this shell and will keep being used.\n")?;
    }
    Ok(())
}

pub(crate) async fn whoami(ctx: &mut Context, args: JsonArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let account: Account = client.get("/account").await?;
    if args.json {
        return ctx.print_json(&account);
    }
    ctx.print(&format!("{}\n", account.email))
}

pub(crate) fn token(ctx: &mut Context) -> Result<(), CliError> {
    let cfg = ctx.config()?;
    let token = cfg.token()?.to_string();
    if cfg.token_source == Some(Source::Env) {
        ctx.note("(from DOPPEL_API_KEY)\n")?;
    }
    ctx.print(&format!("{token}\n"))
}

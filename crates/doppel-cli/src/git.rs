//! `git:remote` adds a checkout's `staging` and `production` remotes, and `git:credentials`
//! is the git credential helper they use: git asks `doppel git:credentials get` for the
//! password of the platform's URL and gets the token the CLI uses (DOPPEL_API_KEY, else the
//! `~/.netrc` entry `doppel login` wrote). The token is never written into `.git/config`,
//! which anyone who can read the checkout (or a copy of it) can read.

use crate::config::{Config, Saved, ENV_API_KEY};
use crate::context::Context;
use crate::error::CliError;
use doppel_api_types::apps::App;
use doppel_types::{AppName, EnvName, Stage};
use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;

/// Arguments of `doppel git:remote`.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// One environment: adds a remote for it alone (named for its stage, or --remote)
    #[arg(
        short = 'a',
        long = "app",
        value_name = "ENV",
        conflicts_with = "pipeline"
    )]
    pub app: Option<String>,
    /// The app: adds `staging` and `production`
    #[arg(
        short = 'p',
        long = "pipeline",
        value_name = "APP",
        required_unless_present = "app"
    )]
    pub pipeline: Option<String>,
    /// The remote's name (with -a only)
    #[arg(
        short = 'r',
        long = "remote",
        value_name = "NAME",
        requires = "app",
        conflicts_with = "pipeline"
    )]
    pub remote: Option<String>,
    /// Print the environments as the API's JSON after setting the remotes
    #[arg(long)]
    pub json: bool,
}

/// Arguments of the hidden `doppel git:credentials` (git's credential helper protocol).
#[derive(Debug, Clone, clap::Args)]
pub struct CredentialsArgs {
    /// get, store or erase
    pub operation: String,
}

/// Runs git in `dir`; its stderr becomes the error.
fn git(dir: &Path, args: &[&str]) -> Result<String, CliError> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CliError::Git {
            action: args.first().copied().unwrap_or("").to_string(),
            reason: format!("{e} (is git installed?)"),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(CliError::Git {
            action: args.join(" "),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// A command line for git's `!` helper syntax, the binary quoted for the shell.
fn helper_command(exe: Option<&Path>) -> String {
    match exe {
        Some(p) => {
            let text = p.display().to_string();
            format!("!'{}' git:credentials", text.replace('\'', r"'\''"))
        }
        None => "!doppel git:credentials".to_string(),
    }
}

/// The remotes to set: (remote name, environment).
fn plan(args: &RemoteArgs) -> Result<Vec<(String, EnvName)>, CliError> {
    if let Some(env) = &args.app {
        let env = EnvName::parse(env.trim())?;
        let name = args
            .remote
            .clone()
            .unwrap_or_else(|| env.split().1.as_str().to_string());
        return Ok(vec![(name, env)]);
    }
    let app = AppName::parse(args.pipeline.as_deref().unwrap_or("").trim())?;
    Ok(Stage::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), app.env_name(*s)))
        .collect())
}

pub(crate) async fn remote(ctx: &mut Context, args: RemoteArgs) -> Result<(), CliError> {
    let dir = ctx.cwd.clone().ok_or_else(|| CliError::Git {
        action: "remote".into(),
        reason: "no working directory".into(),
    })?;
    git(&dir, &["rev-parse", "--git-dir"]).map_err(|_| {
        CliError::Usage(format!(
            "{} is not a git checkout. Run `git init` (or cd into your app's checkout) first.",
            dir.display()
        ))
    })?;
    let cfg = ctx.config()?;
    let client = crate::client::Client::from_config(&cfg)?;
    let mut shown: Vec<(EnvName, App)> = Vec::new();
    for (name, env) in plan(&args)? {
        let app: App = client.get(&format!("/apps/{env}")).await?;
        let exists = git(&dir, &["remote", "get-url", &name]).is_ok();
        let verb = if exists { "set-url" } else { "add" };
        git(&dir, &["remote", verb, &name, &app.git_url])?;
        ctx.print(&format!("set git remote {name} to {}\n", app.git_url))?;
        shown.push((env, app));
    }
    configure_git_auth(ctx, &dir, &cfg)?;
    if args.json {
        return ctx.print_json_per_env(&shown);
    }
    Ok(())
}

/// Points git at the credential helper (and at the platform CA) for this server's URL,
/// in the checkout's own config.
fn configure_git_auth(ctx: &mut Context, dir: &Path, cfg: &Config) -> Result<(), CliError> {
    let url = cfg.host.trim_end_matches('/');
    let helper_key = format!("credential.{url}.helper");
    let helper = helper_command(ctx.exe.as_deref());
    git(
        dir,
        &["config", "--local", "--replace-all", &helper_key, &helper],
    )?;
    if let Some(ca) = &cfg.ca_cert {
        let ca = std::path::absolute(ca).unwrap_or_else(|_| ca.clone());
        let key = format!("http.{url}/.sslCAInfo");
        git(dir, &["config", "--local", &key, &ca.display().to_string()])?;
    }
    ctx.note(&format!(
        "git authenticates to {url} through `doppel git:credentials` (set in .git/config), which hands it your doppel token: the token itself is not written into the checkout.\n"
    ))
}

/// git's request: `protocol`, `host` (with port), … until an empty line.
fn read_request(input: &mut dyn BufRead) -> Result<(String, String), CliError> {
    let (mut protocol, mut host) = (String::new(), String::new());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line).map_err(CliError::Stdin)? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once('=') {
            match k {
                "protocol" => protocol = v.to_string(),
                "host" => host = v.to_string(),
                _ => {}
            }
        }
    }
    Ok((protocol, host))
}

/// `git:credentials get`: answers `username`/`password` for this server's host; `store`
/// and `erase` do nothing (the token is managed by `doppel login`/`logout`).
pub(crate) fn credentials(ctx: &mut Context, args: CredentialsArgs) -> Result<(), CliError> {
    if args.operation != "get" {
        return Ok(());
    }
    let (protocol, host) = read_request(&mut ctx.stdin)?;
    if protocol != "https" && protocol != "http" {
        return Ok(());
    }
    let requested = format!("{protocol}://{host}");
    let token = match ctx.env.get(ENV_API_KEY) {
        Some(t) => Some(t.trim().to_string()),
        None => {
            // The login for the host git asks about, whatever DOPPEL_HOST says.
            let saved = Saved::load(&ctx.paths)?;
            let env = crate::config::Env::from_pairs([("DOPPEL_HOST", requested.as_str())]);
            Config::resolve(&env, &saved).token
        }
    };
    match token {
        Some(token) => ctx.print(&format!("username=doppel\npassword={token}\n")),
        None => ctx.note(&format!(
            "doppel: no token for {requested}; run `doppel login --host {requested}` or set DOPPEL_API_KEY.\n"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_quotes_the_binary() {
        assert_eq!(
            helper_command(Some(Path::new("/opt/it's/doppel"))),
            r"!'/opt/it'\''s/doppel' git:credentials"
        );
        assert_eq!(helper_command(None), "!doppel git:credentials");
    }

    #[test]
    fn plans_both_or_one_remote() -> Result<(), CliError> {
        let both = plan(&RemoteArgs {
            app: None,
            pipeline: Some("shop".into()),
            remote: None,
            json: false,
        })?;
        let names: Vec<(String, String)> = both
            .iter()
            .map(|(r, e)| (r.clone(), e.to_string()))
            .collect();
        assert_eq!(
            names,
            [
                ("staging".to_string(), "shop-staging".to_string()),
                ("production".to_string(), "shop".to_string())
            ]
        );
        let one = plan(&RemoteArgs {
            app: Some("shop-staging".into()),
            pipeline: None,
            remote: Some("doppel".into()),
            json: false,
        })?;
        assert_eq!(one[0].0, "doppel");
        Ok(())
    }

    #[test]
    fn reads_git_requests() -> Result<(), CliError> {
        let mut input = std::io::Cursor::new(
            b"protocol=https\nhost=localhost:8443\npath=x.git\n\nignored=1\n".to_vec(),
        );
        assert_eq!(
            read_request(&mut input)?,
            ("https".to_string(), "localhost:8443".to_string())
        );
        Ok(())
    }
}

//! Which environments a command acts on: `-a ENV` names one, `-p APP` both of an app,
//! `-r REMOTE` the one a git remote of this checkout points at. With none of them, the
//! checkout's git remotes that point at this doppel server decide, when they name exactly
//! one environment; otherwise the command says which flag to use.

use crate::config::Config;
use crate::context::Context;
use crate::error::CliError;
use doppel_types::{AppName, EnvName, Stage};
use reqwest::Url;
use std::collections::BTreeMap;
use std::path::Path;

/// `-a`, `-p`, `-r`: flattened into every command that acts on environments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// One environment, e.g. myapp-staging or myapp
    #[arg(short = 'a', long = "app", value_name = "ENV", conflicts_with_all = ["pipeline", "remote"])]
    pub app: Option<String>,
    /// Both environments of an app (APP-staging and APP)
    #[arg(
        short = 'p',
        long = "pipeline",
        value_name = "APP",
        conflicts_with = "remote"
    )]
    pub pipeline: Option<String>,
    /// The environment this checkout's git remote REMOTE points at (e.g. staging)
    #[arg(short = 'r', long = "remote", value_name = "REMOTE")]
    pub remote: Option<String>,
}

impl TargetArgs {
    /// `-a ENV`.
    pub fn app(env: &str) -> TargetArgs {
        TargetArgs {
            app: Some(env.to_string()),
            ..TargetArgs::default()
        }
    }

    /// `-p APP`.
    pub fn pipeline(app: &str) -> TargetArgs {
        TargetArgs {
            pipeline: Some(app.to_string()),
            ..TargetArgs::default()
        }
    }
}

/// What a command acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One environment.
    One(EnvName),
    /// Both environments of an app.
    Both(AppName),
}

impl Target {
    /// The environments, staging first.
    pub fn envs(&self) -> Vec<EnvName> {
        match self {
            Target::One(env) => vec![env.clone()],
            Target::Both(app) => vec![
                app.env_name(Stage::Staging),
                app.env_name(Stage::Production),
            ],
        }
    }

    /// The one environment, or the error saying `command` needs `-a`.
    pub fn one(self, command: &'static str) -> Result<EnvName, CliError> {
        match self {
            Target::One(env) => Ok(env),
            Target::Both(app) => Err(CliError::OneEnvironmentOnly {
                command,
                app: app.to_string(),
            }),
        }
    }
}

impl Target {
    /// GETs `/apps/{env}{suffix}` of each environment, staging first.
    pub async fn get_each<T: serde::de::DeserializeOwned>(
        &self,
        client: &crate::client::Client,
        suffix: &str,
    ) -> Result<Vec<(EnvName, T)>, CliError> {
        let mut items = Vec::new();
        for env in self.envs() {
            let value: T = client.get(&format!("/apps/{env}{suffix}")).await?;
            items.push((env, value));
        }
        Ok(items)
    }
}

/// The API client and the target of a command, from one reading of the settings.
pub fn client_and_target(
    ctx: &Context,
    args: &TargetArgs,
) -> Result<(crate::client::Client, Target), CliError> {
    let cfg = ctx.config()?;
    let target = resolve(ctx, &cfg, args)?;
    Ok((crate::client::Client::from_config(&cfg)?, target))
}

/// Resolves `args` for `ctx`, reading git remotes when no flag names the target.
pub fn resolve(ctx: &Context, cfg: &Config, args: &TargetArgs) -> Result<Target, CliError> {
    if let Some(env) = &args.app {
        return Ok(Target::One(EnvName::parse(env.trim())?));
    }
    if let Some(app) = &args.pipeline {
        return Ok(Target::Both(AppName::parse(app.trim())?));
    }
    let remotes = match &ctx.cwd {
        Some(dir) => doppel_remotes(dir, &cfg.host),
        None => BTreeMap::new(),
    };
    if let Some(name) = &args.remote {
        return remotes.get(name).cloned().map(Target::One).ok_or_else(|| {
            CliError::UnknownRemote {
                remote: name.clone(),
                host: cfg.host.clone(),
            }
        });
    }
    infer(&remotes)
}

/// The environment the remotes name, when they name exactly one.
fn infer(remotes: &BTreeMap<String, EnvName>) -> Result<Target, CliError> {
    let mut envs: Vec<&EnvName> = remotes.values().collect();
    envs.sort();
    envs.dedup();
    match envs.as_slice() {
        [] => Err(CliError::NoApp),
        [one] => Ok(Target::One((*one).clone())),
        many => {
            let candidates = remotes
                .iter()
                .map(|(remote, env)| format!("{remote} → {env}"))
                .collect::<Vec<_>>()
                .join(", ");
            let apps: Vec<String> = many.iter().map(|e| e.split().0).collect();
            let both = match apps.first() {
                Some(first) if apps.iter().all(|a| a == first) => {
                    format!(", or both with -p {first} where the command allows it")
                }
                _ => String::new(),
            };
            Err(CliError::AmbiguousApp { candidates, both })
        }
    }
}

/// The git remotes of the checkout at `dir` whose URL is `<host>/<env>.git` on this
/// doppel server (same scheme, host name and port), by remote name.
pub fn doppel_remotes(dir: &Path, host: &str) -> BTreeMap<String, EnvName> {
    let Ok(out) = std::process::Command::new("git")
        .args(["config", "--get-regexp", r"^remote\..*\.url$"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return BTreeMap::new();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    parse_remotes(&text, host)
}

/// Reads `git config --get-regexp` output (`remote.<name>.url <url>` lines).
pub fn parse_remotes(text: &str, host: &str) -> BTreeMap<String, EnvName> {
    let Ok(base) = Url::parse(host) else {
        return BTreeMap::new();
    };
    let mut found = BTreeMap::new();
    for line in text.lines() {
        let Some((key, url)) = line.split_once(' ') else {
            continue;
        };
        let Some(name) = key
            .strip_prefix("remote.")
            .and_then(|k| k.strip_suffix(".url"))
        else {
            continue;
        };
        if let Some(env) = env_of_git_url(&base, url.trim()) {
            found.insert(name.to_string(), env);
        }
    }
    found
}

/// `https://host:port/<env>.git` → `<env>` when the URL is on `base`'s server.
pub fn env_of_git_url(base: &Url, url: &str) -> Option<EnvName> {
    let url = Url::parse(url).ok()?;
    let same_server = url.scheme() == base.scheme()
        && url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default();
    if !same_server {
        return None;
    }
    let base_path = base.path().trim_end_matches('/');
    let rest = url.path().strip_prefix(base_path)?;
    let name = rest
        .trim_start_matches('/')
        .trim_end_matches('/')
        .strip_suffix(".git")?;
    EnvName::parse(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "https://localhost:8443";

    #[test]
    fn reads_only_remotes_of_this_server() {
        let text = "remote.staging.url https://localhost:8443/myapp-staging.git\n\
                    remote.production.url https://git:tok@LOCALHOST:8443/myapp.git/\n\
                    remote.origin.url git@github.com:me/myapp.git\n\
                    remote.other.url https://localhost:9443/else.git\n\
                    remote.heroku.url https://git.heroku.com/myapp.git\n";
        let remotes = parse_remotes(text, HOST);
        assert_eq!(remotes.len(), 2, "{remotes:?}");
        assert_eq!(remotes["staging"].as_str(), "myapp-staging");
        assert_eq!(remotes["production"].as_str(), "myapp");
        assert!(parse_remotes(text, "not a url").is_empty());
        let default_port = Url::parse("https://paas.example.org").ok();
        assert_eq!(
            default_port
                .and_then(|b| env_of_git_url(&b, "https://paas.example.org:443/x1y.git"))
                .map(|e| e.to_string()),
            Some("x1y".into())
        );
    }

    #[test]
    fn infers_one_environment_and_refuses_two() {
        let mut remotes = BTreeMap::new();
        assert!(matches!(infer(&remotes), Err(CliError::NoApp)));
        let staging = EnvName::parse("myapp-staging").map_err(|e| e.to_string());
        let prod = EnvName::parse("myapp").map_err(|e| e.to_string());
        let (Ok(staging), Ok(prod)) = (staging, prod) else {
            panic!("names must parse");
        };
        remotes.insert("staging".to_string(), staging.clone());
        remotes.insert("doppel".to_string(), staging.clone());
        assert_eq!(infer(&remotes).ok(), Some(Target::One(staging)));
        remotes.insert("production".to_string(), prod);
        let err = infer(&remotes)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("production → myapp"), "{err}");
        assert!(
            err.contains("-r REMOTE") && err.contains("-p myapp"),
            "{err}"
        );
    }

    #[test]
    fn both_lists_staging_first_and_one_refuses_both() {
        let app = AppName::parse("shop").map_err(|e| e.to_string());
        let Ok(app) = app else {
            panic!("name must parse");
        };
        let t = Target::Both(app);
        let names: Vec<String> = t.envs().iter().map(|e| e.to_string()).collect();
        assert_eq!(names, ["shop-staging", "shop"]);
        let err = t
            .one("rollback")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            "`doppel rollback` acts on one environment: use -a shop-staging or -a shop instead of -p shop."
        );
    }
}

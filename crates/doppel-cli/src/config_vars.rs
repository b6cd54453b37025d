//! `config`, `config:get`, `config:set`, `config:unset`: an environment's config vars.
//! Each change makes a release of each environment it touches (`-p` touches both, one
//! release each), followed until it has rolled out.

use crate::client::ROLLOUT_TIMEOUT;
use crate::context::Context;
use crate::error::CliError;
use crate::progress::follow_release;
use crate::table::key_values;
use crate::target::{self, TargetArgs};
use doppel_api_types::config_vars::{ConfigVars, ConfigVarsUpdate};
use doppel_types::EnvName;

/// Arguments of `doppel config`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print KEY='value' lines a shell can source
    #[arg(short = 's', long)]
    pub shell: bool,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel config:get`.
#[derive(Debug, Clone, clap::Args)]
pub struct GetArgs {
    /// The config var to print
    pub key: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print KEY='value' as a shell reads it
    #[arg(short = 's', long)]
    pub shell: bool,
    /// Print {"KEY": "value"} (null when unset)
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel config:set`.
#[derive(Debug, Clone, clap::Args)]
pub struct SetArgs {
    /// KEY=VALUE pairs
    #[arg(value_name = "KEY=VALUE", required = true)]
    pub pairs: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the resulting config vars as the API's JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel config:unset`.
#[derive(Debug, Clone, clap::Args)]
pub struct UnsetArgs {
    /// The keys to remove
    #[arg(value_name = "KEY", required = true)]
    pub keys: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the resulting config vars as the API's JSON
    #[arg(long)]
    pub json: bool,
}

/// Checks a key as Heroku does: letters, digits and underscores.
fn check_key(key: &str) -> Result<(), CliError> {
    let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{key:?} is not a config var name: use letters, digits and underscores, e.g. DATABASE_URL."
        )))
    }
}

/// `KEY=VALUE` arguments as an update (values may contain `=`).
pub fn parse_pairs(pairs: &[String]) -> Result<ConfigVarsUpdate, CliError> {
    let mut update = ConfigVarsUpdate::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CliError::Usage(format!(
                "`{pair}` is not KEY=VALUE. Example: doppel config:set {pair}=value -a myapp-staging"
            )));
        };
        check_key(key)?;
        update.insert(key.to_string(), Some(value.to_string()));
    }
    Ok(update)
}

/// A value quoted for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The `config` listing of one environment.
pub fn render_config(env: &EnvName, vars: &ConfigVars, shell: bool) -> String {
    if shell {
        return vars
            .iter()
            .map(|(k, v)| format!("{k}={}\n", shell_quote(v)))
            .collect();
    }
    if vars.is_empty() {
        return format!("=== {env} Config Vars\n{env} has no config vars.\n");
    }
    let pairs: Vec<(&String, &String)> = vars.iter().collect();
    format!("=== {env} Config Vars\n{}", key_values(&pairs))
}

/// "FOO, BAR and BAZ".
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub(crate) async fn show(ctx: &mut Context, args: ConfigArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let shown: Vec<(EnvName, ConfigVars)> = target.get_each(&client, "/config-vars").await?;
    ctx.print_per_env(&shown, args.json, |env, vars| {
        render_config(env, vars, args.shell)
    })
}

pub(crate) async fn get(ctx: &mut Context, args: GetArgs) -> Result<(), CliError> {
    check_key(&args.key)?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = target.one("config:get")?;
    let vars: ConfigVars = client.get(&format!("/apps/{env}/config-vars")).await?;
    let value = vars.get(&args.key);
    if args.json {
        let one: ConfigVarsUpdate = [(args.key.clone(), value.cloned())].into();
        return ctx.print_json(&one);
    }
    match (value, args.shell) {
        (Some(v), true) => ctx.print(&format!("{}={}\n", args.key, shell_quote(v))),
        (Some(v), false) => ctx.print(&format!("{v}\n")),
        // As Heroku: an unset key prints an empty line and is no error.
        (None, _) => ctx.print("\n"),
    }
}

/// Applies `update` to every environment of the target, one release each.
async fn change(
    ctx: &mut Context,
    target_args: &TargetArgs,
    update: &ConfigVarsUpdate,
    verb: &str,
) -> Result<Vec<(EnvName, ConfigVars)>, CliError> {
    let (client, target) = target::client_and_target(ctx, target_args)?;
    let keys: Vec<&str> = update.keys().map(String::as_str).collect();
    let slow = client.with_timeout(ROLLOUT_TIMEOUT);
    let mut results = Vec::new();
    for env in target.envs() {
        let label = format!("{verb} {} and restarting {env}", and_list(&keys));
        let path = format!("/apps/{env}/config-vars");
        let call = slow.patch::<ConfigVars, _>(&path, update);
        let (vars, _release) = follow_release(ctx, &client, &env, &label, call).await?;
        results.push((env, vars));
    }
    Ok(results)
}

pub(crate) async fn set(ctx: &mut Context, args: SetArgs) -> Result<(), CliError> {
    let update = parse_pairs(&args.pairs)?;
    let results = change(ctx, &args.target, &update, "Setting").await?;
    if args.json {
        return ctx.print_json_per_env(&results);
    }
    // As Heroku: the values just set, as the server now holds them.
    if let Some((_, vars)) = results.first() {
        let pairs: Vec<(&str, &str)> = update
            .keys()
            .filter_map(|k| vars.get(k).map(|v| (k.as_str(), v.as_str())))
            .collect();
        ctx.print(&key_values(&pairs))?;
    }
    Ok(())
}

pub(crate) async fn unset(ctx: &mut Context, args: UnsetArgs) -> Result<(), CliError> {
    let mut update = ConfigVarsUpdate::new();
    for key in &args.keys {
        check_key(key)?;
        update.insert(key.clone(), None);
    }
    let results = change(ctx, &args.target, &update, "Unsetting").await?;
    if args.json {
        return ctx.print_json_per_env(&results);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_at_the_first_equals() -> Result<(), CliError> {
        let u = parse_pairs(&["A=1".into(), "URL=postgres://x?a=b".into(), "E=".into()])?;
        assert_eq!(u["URL"].as_deref(), Some("postgres://x?a=b"));
        assert_eq!(u["E"].as_deref(), Some(""));
        let e = parse_pairs(&["FOO".into()]).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("not KEY=VALUE")));
        assert!(parse_pairs(&["BAD-KEY=1".into()]).is_err());
        assert!(parse_pairs(&["=1".into()]).is_err());
        Ok(())
    }

    #[test]
    fn renders_aligned_and_for_shells() -> Result<(), CliError> {
        let env = EnvName::parse("myapp-staging")?;
        let vars: ConfigVars = [
            ("A".to_string(), "1".to_string()),
            ("LONG_NAME".to_string(), "it's".to_string()),
        ]
        .into();
        assert_eq!(
            render_config(&env, &vars, false),
            "=== myapp-staging Config Vars\nA:         1\nLONG_NAME: it's\n"
        );
        assert_eq!(
            render_config(&env, &vars, true),
            "A='1'\nLONG_NAME='it'\\''s'\n"
        );
        assert!(render_config(&env, &ConfigVars::new(), false).contains("no config vars"));
        Ok(())
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(and_list(&["A"]), "A");
        assert_eq!(and_list(&["A", "B"]), "A and B");
        assert_eq!(and_list(&["A", "B", "C"]), "A, B and C");
    }
}

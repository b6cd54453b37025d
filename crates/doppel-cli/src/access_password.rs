//! `access:password`: a private (staging) environment's own access password, which the
//! router accepts as HTTP Basic auth (any user name) besides the tokens of users with access:
//! shows whether one is set, generates (`--generate`) or takes (`--set`) a new one, printing a
//! generated one once, or removes it (`--remove`).

use crate::context::Context;
use crate::error::CliError;
use crate::target::{self, Target, TargetArgs};
use doppel_api_types::access_password::{AccessPasswordInfo, AccessPasswordSet};
use doppel_types::{EnvName, Stage};
use std::fmt;

/// Arguments of `doppel access:password`.
#[derive(Clone, clap::Args)]
pub struct PasswordArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Generate a new password (replacing any) and print it once
    #[arg(long, conflicts_with_all = ["set", "remove"])]
    pub generate: bool,
    /// Set this password (at least 16 characters; replacing any). --generate is safer: a
    /// value typed here stays in the shell's history
    #[arg(long, value_name = "PASSWORD", conflicts_with = "remove")]
    pub set: Option<String>,
    /// Remove the password: only tokens of users with access pass afterwards
    #[arg(long)]
    pub remove: bool,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

impl fmt::Debug for PasswordArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordArgs")
            .field("target", &self.target)
            .field("generate", &self.generate)
            .field("set", &self.set.as_ref().map(|_| "<redacted>"))
            .field("remove", &self.remove)
            .field("json", &self.json)
            .finish()
    }
}

/// What `access:password` prints for `info` (the answer to the change, or the state).
pub fn render(info: &AccessPasswordInfo) -> String {
    let env = &info.app.name;
    let url = &info.web_url;
    if !info.private {
        return format!("{env} is public: the router asks no credentials there.\n");
    }
    match (&info.password, info.set) {
        (Some(p), _) => format!(
            "{env}'s new access password, shown this once (doppel keeps only a digest of it):\n\n    {p}\n\n\
             Browsers get a login prompt at {url} (any user name, this password);\n\
             with curl: curl -u :PASSWORD {url}\n"
        ),
        (None, true) => format!(
            "{env} has an access password (set {}); collaborators' tokens work too.\n",
            info.set_at.as_deref().unwrap_or("earlier")
        ),
        (None, false) => format!(
            "{env} has no access password: only tokens of users with access pass its login prompt.\n"
        ),
    }
}

/// The environment: `-a ENV`, or the staging environment of `-p APP` (the private one).
fn environment(target: Target) -> EnvName {
    match target {
        Target::One(env) => env,
        Target::Both(app) => app.env_name(Stage::Staging),
    }
}

/// `doppel access:password -a ENV [--generate | --set PASSWORD | --remove]`.
pub(crate) async fn password(ctx: &mut Context, args: PasswordArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let env = environment(target);
    let path = format!("/apps/{env}/access-password");
    let result: Result<AccessPasswordInfo, CliError> = if args.remove {
        ctx.note(&format!("Removing the access password of {env}... "))?;
        client.delete(&path).await
    } else if args.generate || args.set.is_some() {
        ctx.note(&format!("Setting a new access password for {env}... "))?;
        let body = AccessPasswordSet {
            password: args.set.clone(),
        };
        client.put(&path, &body).await
    } else {
        client.get(&path).await
    };
    let changing = args.remove || args.generate || args.set.is_some();
    let info = match result {
        Ok(info) => info,
        Err(e) => {
            if changing {
                ctx.note("!\n")?;
            }
            return Err(e);
        }
    };
    if changing {
        ctx.note("done\n")?;
    }
    if args.json {
        return ctx.print_json(&info);
    }
    ctx.print(&render(&info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_api_types::common::NamedRef;

    fn info(set: bool, password: Option<&str>) -> AccessPasswordInfo {
        AccessPasswordInfo {
            app: NamedRef::new("id", "shop-staging"),
            web_url: "https://shop-staging.example.com/".to_string(),
            private: true,
            set,
            set_at: set.then(|| "2026-12-07T09:00:00Z".to_string()),
            password: password.map(str::to_string),
        }
    }

    #[test]
    fn prints_a_generated_password_once_and_never_a_chosen_one() {
        let made = render(&info(true, Some("Abcdefghijkmnopqrstu")));
        assert!(made.contains("Abcdefghijkmnopqrstu"), "{made}");
        assert!(made.contains("https://shop-staging.example.com/"), "{made}");
        let shown = render(&info(true, None));
        assert!(shown.contains("has an access password"), "{shown}");
        let none = render(&info(false, None));
        assert!(none.contains("no access password"), "{none}");
        let mut public = info(false, None);
        public.private = false;
        assert!(render(&public).contains("public"));
    }

    #[test]
    fn a_chosen_password_stays_out_of_debug_output_and_flags_exclude_each_other() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[command(subcommand)]
            cmd: crate::Command,
        }
        let parse = |args: &[&str]| {
            let mut argv = vec!["doppel", "access:password", "-a", "shop-staging"];
            argv.extend_from_slice(args);
            Cli::try_parse_from(argv)
        };
        let cli = parse(&["--set", "sekrit-sekrit-sekrit"]).expect("parses");
        assert!(!format!("{cli:?}").contains("sekrit"));
        assert!(parse(&[]).is_ok());
        assert!(parse(&["--generate"]).is_ok());
        assert!(parse(&["--remove"]).is_ok());
        assert!(parse(&["--generate", "--remove"]).is_err());
        assert!(parse(&["--set", "x", "--generate"]).is_err());
    }
}

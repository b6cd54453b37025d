//! `access`, `access:add`, `access:remove`: who may see and change an app. `-p APP`
//! grants (or removes) both environments, `-a ENV` only the one named.

use crate::context::Context;
use crate::error::CliError;
use crate::table::Table;
use crate::target::{self, Target, TargetArgs};
use doppel_api_types::collaborators::{Collaborator, CollaboratorCreate};
use doppel_types::{EnvName, Stage};

/// Arguments of `doppel access`.
#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `doppel access:add` and `access:remove`.
#[derive(Debug, Clone, clap::Args)]
pub struct MemberArgs {
    /// The user's email
    pub email: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the API's JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// An email as it may go into a URL path.
pub fn check_email(given: &str) -> Result<String, CliError> {
    let email = given.trim().to_string();
    let ok = email
        .split_once('@')
        .is_some_and(|(user, domain)| !user.is_empty() && !domain.is_empty())
        && !email
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '%' | '\\'));
    if ok {
        Ok(email)
    } else {
        Err(CliError::Usage(format!(
            "{given:?} is not an email address. Example: doppel access:add dev@example.com -p myapp"
        )))
    }
}

/// The `access` table of one environment.
pub fn render_access(env: &EnvName, list: &[Collaborator]) -> String {
    if list.is_empty() {
        return format!("=== {env} Access\nOnly admins can see {env}.\n");
    }
    let mut table = Table::with_header(["Email", "Role", "Environments"]);
    for c in list {
        let scope = match c.doppel.scope.as_str() {
            "both" => "both".to_string(),
            "" => String::new(),
            one => format!("{one} only"),
        };
        table.row([
            c.user.email.clone(),
            c.role.clone().unwrap_or_else(|| "collaborator".into()),
            scope,
        ]);
    }
    format!("=== {env} Access\n{}", table.render())
}

pub(crate) async fn list(ctx: &mut Context, args: AccessArgs) -> Result<(), CliError> {
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let shown: Vec<(EnvName, Vec<Collaborator>)> =
        target.get_each(&client, "/collaborators").await?;
    ctx.print_per_env(&shown, args.json, |env, list| render_access(env, list))
}

pub(crate) async fn add(ctx: &mut Context, args: MemberArgs) -> Result<(), CliError> {
    let email = check_email(&args.email)?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    let (env, both, words) = match &target {
        Target::Both(app) => (
            app.env_name(Stage::Production),
            true,
            format!("{} and {app}", app.env_name(Stage::Staging)),
        ),
        Target::One(env) => (env.clone(), false, format!("{env} only")),
    };
    ctx.note(&format!("Adding {email} to {words}... "))?;
    let body = CollaboratorCreate {
        user: email.clone(),
        silent: None,
        both_environments: Some(both),
    };
    match client
        .post::<Collaborator, _>(&format!("/apps/{env}/collaborators"), &body)
        .await
    {
        Ok(c) => {
            ctx.note("done\n")?;
            if args.json {
                ctx.print_json(&c)?;
            }
            Ok(())
        }
        Err(e) => {
            ctx.note("!\n")?;
            Err(e)
        }
    }
}

pub(crate) async fn remove(ctx: &mut Context, args: MemberArgs) -> Result<(), CliError> {
    let email = check_email(&args.email)?;
    let (client, target) = target::client_and_target(ctx, &args.target)?;
    // Production first: for `-p` it names the whole app.
    let mut envs = target.envs();
    envs.reverse();
    let mut removed: Vec<(EnvName, Collaborator)> = Vec::new();
    let mut last_err = None;
    for env in envs {
        ctx.note(&format!("Removing {email} from {env}... "))?;
        match client
            .delete::<Collaborator>(&format!("/apps/{env}/collaborators/{email}"))
            .await
        {
            Ok(c) => {
                ctx.note("done\n")?;
                removed.push((env, c));
            }
            // With -p, access covering both environments may be gone after the first call.
            Err(e) if e.is_not_found() && matches!(target, Target::Both(_)) => {
                ctx.note("(had no access)\n")?;
                last_err = Some(e);
            }
            Err(e) => {
                ctx.note("!\n")?;
                return Err(e);
            }
        }
    }
    if removed.is_empty() {
        if let Some(e) = last_err {
            return Err(e);
        }
    }
    if args.json {
        return ctx.print_json_per_env(&removed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use doppel_api_types::collaborators::{CollaboratorExtra, CollaboratorUser};
    use doppel_api_types::NamedRef;

    #[test]
    fn emails() {
        assert_eq!(
            check_email(" a.b+c@x.io ").ok().as_deref(),
            Some("a.b+c@x.io")
        );
        for bad in ["", "nobody", "@x.io", "a@", "a b@x.io", "a/b@x.io"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renders_scope() -> Result<(), CliError> {
        let env = EnvName::parse("myapp")?;
        let c = |email: &str, scope: &str, role: Option<&str>| Collaborator {
            id: email.into(),
            app: NamedRef::new("e", "myapp"),
            permissions: Vec::new(),
            role: role.map(str::to_string),
            user: CollaboratorUser {
                id: "u".into(),
                email: email.into(),
                federated: false,
            },
            created_at: String::new(),
            updated_at: String::new(),
            doppel: CollaboratorExtra {
                scope: scope.into(),
                environments: Vec::new(),
            },
        };
        let text = render_access(
            &env,
            &[
                c("admin@localhost", "both", Some("owner")),
                c("dev@x.io", "myapp-staging", None),
            ],
        );
        assert_eq!(
            text,
            "=== myapp Access\nEmail            Role          Environments\n---------------  ------------  ------------------\nadmin@localhost  owner         both\ndev@x.io         collaborator  myapp-staging only\n"
        );
        Ok(())
    }
}

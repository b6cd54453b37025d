//! `users:create`: an admin makes an account and gets its first API token (and dashboard
//! password), shown once; `users:password`: a new dashboard password, shown once.

use crate::access::check_email;
use crate::context::Context;
use crate::error::CliError;
use doppel_api_types::account::{UserCreate, UserCreated};
use doppel_api_types::passwords::{PasswordSet, PasswordSetResult};

/// Arguments of `doppel users:create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The new user's email
    pub email: String,
    /// Make the user an admin (sees and changes every app, manages users)
    #[arg(long)]
    pub admin: bool,
    /// Print the API's JSON (with the token) instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// What `users:create` prints: the token once, and how to hand it over.
pub fn render_created(created: &UserCreated, host: &str) -> String {
    let role = if created.user.doppel.admin {
        "an admin"
    } else {
        "a member (add them to apps with `doppel access:add EMAIL -p APP`)"
    };
    format!(
        "{email} is {role}. Their API token, shown this once (doppel keeps only a digest of it):\n\n    {token}\n\n\
         Hand it over privately (a password manager, or in person), not by plain email or chat.\n\
         They log in with `doppel login --host {host}` and paste it when asked; `git push` uses it too.\n",
        email = created.user.email,
        token = created.token,
    ) + &created
        .password
        .as_deref()
        .map(|p| format!("Their dashboard password, shown this once too:\n\n    {p}\n"))
        .unwrap_or_default()
}

pub(crate) async fn create(ctx: &mut Context, args: CreateArgs) -> Result<(), CliError> {
    let email = check_email(&args.email)?;
    let client = ctx.client()?;
    ctx.note(&format!("Creating user {email}... "))?;
    let body = UserCreate {
        email: email.clone(),
        admin: args.admin,
    };
    let created: UserCreated = match client.post("/users", &body).await {
        Ok(c) => c,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    ctx.note("done\n")?;
    if args.json {
        return ctx.print_json(&created);
    }
    ctx.print(&render_created(&created, client.host()))
}

/// Arguments of `doppel users:password`.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswordArgs {
    /// The user whose dashboard password is replaced (admins: anyone; others: themselves)
    pub email: String,
    /// Print the API's JSON (with the password) instead of the summary
    #[arg(long)]
    pub json: bool,
}

/// What `users:password` prints: the new password once.
pub fn render_password(result: &PasswordSetResult, host: &str) -> String {
    match &result.password {
        Some(p) => format!(
            "{email}'s new dashboard password, shown this once (doppel keeps only a memory-hard hash of it):\n\n    {p}\n\n\
             Their other dashboard sessions were ended. They sign in at the dashboard of {host}.\n",
            email = result.user.email,
        ),
        None => format!("{}'s dashboard password was set.\n", result.user.email),
    }
}

/// `doppel users:password EMAIL`: the server generates a new password and answers it once.
pub(crate) async fn password(ctx: &mut Context, args: PasswordArgs) -> Result<(), CliError> {
    let email = check_email(&args.email)?;
    let client = ctx.client()?;
    ctx.note(&format!("Setting a new dashboard password for {email}... "))?;
    let path = format!("/users/{email}/password");
    let result: PasswordSetResult = match client.put(&path, &PasswordSet::default()).await {
        Ok(r) => r,
        Err(e) => {
            ctx.note("!\n")?;
            return Err(e);
        }
    };
    ctx.note("done\n")?;
    if args.json {
        return ctx.print_json(&result);
    }
    ctx.print(&render_password(&result, client.host()))
}

//! `users:create`: an admin makes an account and gets its first API token, shown once.

use crate::access::check_email;
use crate::context::Context;
use crate::error::CliError;
use doppel_api_types::account::{UserCreate, UserCreated};

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
    )
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

//! doppel's client commands (`login`, `apps:create`, `releases`, …) on a small Heroku
//! Platform API v3 client. The `doppel` binary flattens [`Command`] next to its own
//! subcommands and calls [`run`].

pub mod apps;
pub mod audit;
pub mod auth;
pub mod client;
pub mod config;
pub mod context;
pub mod error;
pub mod logs;
pub mod parity;
pub mod promote;
pub mod ps;
pub mod releases;
pub mod run;
mod tty;

pub use client::Client;
pub use config::{Config, Credentials, Env};
pub use context::{Captured, Context};
pub use error::CliError;

/// The client subcommands, named like the Heroku CLI's.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Log in to a doppel server: check the token and save it
    #[command(name = "login")]
    Login(auth::LoginArgs),
    /// Forget the saved credentials
    #[command(name = "logout")]
    Logout,
    /// Show the email of the account the token belongs to
    #[command(name = "auth:whoami")]
    Whoami(auth::JsonArgs),
    /// Print the API token in use
    #[command(name = "auth:token")]
    Token,
    /// List apps with their staging and production environments
    #[command(name = "apps")]
    Apps(auth::JsonArgs),
    /// Create an app: NAME-staging (private) and NAME (public)
    #[command(name = "apps:create")]
    AppsCreate(apps::CreateArgs),
    /// Show one environment
    #[command(name = "apps:info")]
    AppsInfo(apps::InfoArgs),
    /// Permanently delete an app and both its environments
    #[command(name = "apps:destroy")]
    AppsDestroy(apps::DestroyArgs),
    /// List an environment's releases
    #[command(name = "releases")]
    Releases(releases::ReleasesArgs),
    /// Make production run the exact image staging runs, with production's own config
    #[command(name = "promote")]
    Promote(promote::PromoteArgs),
    /// Show or set whether production also takes git pushes (admins)
    #[command(name = "direct-pushes")]
    DirectPushes(promote::DirectPushesArgs),
    /// Compare staging and production side by side: drift, expected and intended differences
    #[command(name = "parity")]
    Parity(parity::ParityArgs),
    /// Mark a difference between staging and production as intended (admins)
    #[command(name = "parity:mark")]
    ParityMark(parity::MarkArgs),
    /// Take back the mark of an intended difference (admins)
    #[command(name = "parity:unmark")]
    ParityUnmark(parity::UnmarkArgs),
    /// Show every change to an app's environments, newest first
    #[command(name = "audit")]
    Audit(audit::AuditArgs),
    /// Run a command in a one-off dyno, attached (with a terminal when there is one)
    #[command(name = "run")]
    Run(run::RunArgs),
    /// Run a command in a one-off dyno in the background; its output goes to the logs
    #[command(name = "run:detached")]
    RunDetached(run::RunDetachedArgs),
    /// Show an environment's log: app output, router, builds, release phase, platform events
    #[command(name = "logs")]
    Logs(logs::LogsArgs),
    /// List an environment's dynos with their state, age, size and release
    #[command(name = "ps")]
    Ps(ps::PsArgs),
    /// Restart dynos (all, a process type or one dyno); web dynos one at a time
    #[command(name = "ps:restart")]
    PsRestart(ps::PsTargetArgs),
    /// Stop a dyno or a process type (the formation starts them again)
    #[command(name = "ps:stop")]
    PsStop(ps::PsTargetArgs),
}

/// Runs `cmd` against the real environment, credentials file and terminal.
pub async fn run(cmd: Command) -> Result<(), CliError> {
    run_in(&mut Context::from_process(), cmd).await
}

/// Runs `cmd` in the given context (tests use [`Context::captured`]).
pub async fn run_in(ctx: &mut Context, cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Login(args) => auth::login(ctx, args).await,
        Command::Logout => auth::logout(ctx),
        Command::Whoami(args) => auth::whoami(ctx, args).await,
        Command::Token => auth::token(ctx),
        Command::Apps(args) => apps::list(ctx, args).await,
        Command::AppsCreate(args) => apps::create(ctx, args).await,
        Command::AppsInfo(args) => apps::info(ctx, args).await,
        Command::AppsDestroy(args) => apps::destroy(ctx, args).await,
        Command::Releases(args) => releases::list(ctx, args).await,
        Command::Promote(args) => promote::promote(ctx, args).await,
        Command::DirectPushes(args) => promote::direct_pushes(ctx, args).await,
        Command::Parity(args) => parity::show(ctx, args).await,
        Command::ParityMark(args) => parity::mark(ctx, args).await,
        Command::ParityUnmark(args) => parity::unmark(ctx, args).await,
        Command::Audit(args) => audit::show(ctx, args).await,
        Command::Run(args) => run::run(ctx, args).await,
        Command::RunDetached(args) => run::run_detached(ctx, args).await,
        Command::Logs(args) => logs::logs(ctx, args).await,
        Command::Ps(args) => ps::ps(ctx, args).await,
        Command::PsRestart(args) => ps::restart(ctx, args).await,
        Command::PsStop(args) => ps::stop(ctx, args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: Command,
    }

    #[test]
    fn command_names_are_heroku_style() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["doppel", "apps:create", "myapp"])?;
        assert!(matches!(cli.cmd, Command::AppsCreate(a) if a.name == "myapp"));
        let cli = Cli::try_parse_from(["doppel", "apps:info", "-a", "myapp-staging"])?;
        assert!(
            matches!(cli.cmd, Command::AppsInfo(a) if a.app.as_deref() == Some("myapp-staging"))
        );
        let cli = Cli::try_parse_from(["doppel", "apps:info", "myapp"])?;
        assert!(matches!(cli.cmd, Command::AppsInfo(a) if a.env.as_deref() == Some("myapp")));
        let cli = Cli::try_parse_from(["doppel", "apps:destroy", "x1y", "--confirm", "x1y"])?;
        assert!(matches!(cli.cmd, Command::AppsDestroy(a) if a.confirm.as_deref() == Some("x1y")));
        let cli = Cli::try_parse_from(["doppel", "releases", "-a", "myapp", "--json"])?;
        assert!(matches!(cli.cmd, Command::Releases(a) if a.json && a.num == 15));
        let cli = Cli::try_parse_from([
            "doppel",
            "login",
            "--host",
            "https://h",
            "--token",
            "sekrit",
        ])?;
        assert!(!format!("{cli:?}").contains("sekrit"));
        let cli = Cli::try_parse_from([
            "doppel",
            "promote",
            "-p",
            "shop",
            "--release",
            "v3",
            "--force",
            "--reason",
            "hotfix",
        ])?;
        assert!(matches!(cli.cmd, Command::Promote(a)
            if a.target.pipeline.as_deref() == Some("shop") && a.force && a.release.as_deref() == Some("v3")));
        assert!(Cli::try_parse_from(["doppel", "promote", "-p", "shop", "--force"]).is_err());
        let cli = Cli::try_parse_from(["doppel", "parity", "-a", "shop-staging", "--json"])?;
        assert!(matches!(cli.cmd, Command::Parity(a) if a.json && a.target.app.is_some()));
        let cli = Cli::try_parse_from([
            "doppel",
            "parity:mark",
            "-p",
            "shop",
            "config/QA",
            "--reason",
            "QA only",
        ])?;
        assert!(matches!(cli.cmd, Command::ParityMark(a) if a.id == "config/QA"));
        assert!(Cli::try_parse_from(["doppel", "parity:mark", "-p", "shop", "config/QA"]).is_err());
        let cli = Cli::try_parse_from([
            "doppel", "audit", "-p", "shop", "-a", "shop", "--user", "a@b", "--json",
        ])?;
        assert!(matches!(cli.cmd, Command::Audit(a) if a.json && a.user.as_deref() == Some("a@b")));
        assert!(
            Cli::try_parse_from(["doppel", "direct-pushes", "-p", "s", "--allow", "--forbid"])
                .is_err()
        );
        for name in ["logout", "auth:whoami", "auth:token", "apps"] {
            Cli::try_parse_from(["doppel", name])?;
        }
        Ok(())
    }

    #[tokio::test]
    async fn destroy_refuses_without_matching_confirm() {
        let (mut ctx, _out) = Context::captured(Env::default(), None);
        let cmd = Command::AppsDestroy(apps::DestroyArgs {
            name: "myapp".into(),
            confirm: None,
            json: false,
        });
        let err = run_in(&mut ctx, cmd).await.err();
        assert!(matches!(&err, Some(CliError::ConfirmRequired { .. })));
        assert!(err.is_some_and(|e| e.to_string().contains("--confirm myapp")));

        let cmd = Command::AppsDestroy(apps::DestroyArgs {
            name: "myapp".into(),
            confirm: Some("other".into()),
            json: false,
        });
        let err = run_in(&mut ctx, cmd).await.err();
        assert!(matches!(err, Some(CliError::ConfirmMismatch { .. })));
    }

    #[tokio::test]
    async fn missing_token_says_how_to_set_it() {
        let (mut ctx, _out) = Context::captured(Env::default(), None);
        let err = run_in(&mut ctx, Command::Apps(auth::JsonArgs { json: false }))
            .await
            .err();
        assert!(matches!(&err, Some(CliError::NoToken)));
        assert!(err.is_some_and(|e| e.to_string().contains("DOPPEL_API_KEY")));
    }
}

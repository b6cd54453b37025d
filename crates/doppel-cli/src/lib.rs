//! doppel's client commands (`login`, `apps:create`, `releases`, …) on a small Heroku
//! Platform API v3 client. The `doppel` binary flattens [`Command`] next to its own
//! subcommands and calls [`run`].

pub mod addons;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod client;
pub mod config;
pub mod context;
pub mod error;
pub mod parity;
pub mod pg;
pub mod promote;
pub mod releases;

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
    // Add-ons (issue 11): addons:*, pg:*, redis:*.
    /// List add-ons (-a one environment, -p both of an app)
    #[command(name = "addons")]
    Addons(addons::ListArgs),
    /// Provision an add-on: -p APP for both environments, -a ENV for one
    #[command(name = "addons:create")]
    AddonsCreate(addons::CreateArgs),
    /// Show one add-on
    #[command(name = "addons:info")]
    AddonsInfo(addons::AddonArgs),
    /// Attach an add-on under another name (its config var is NAME_URL)
    #[command(name = "addons:attach")]
    AddonsAttach(addons::AttachArgs),
    /// Remove an attachment (and its config var)
    #[command(name = "addons:detach")]
    AddonsDetach(addons::DetachArgs),
    /// Destroy an add-on and its data (a final backup is kept)
    #[command(name = "addons:destroy", alias = "addons:remove")]
    AddonsDestroy(addons::DestroyArgs),
    /// List the add-on services
    #[command(name = "addons:services")]
    AddonsServices(auth::JsonArgs),
    /// List a service's plans
    #[command(name = "addons:plans")]
    AddonsPlans(addons::PlansArgs),
    /// Show a Postgres add-on
    #[command(name = "pg:info", alias = "pg")]
    PgInfo(pg::DbArgs),
    /// Run SQL (-c, -f, or standard input) as the app would
    #[command(name = "pg:psql")]
    PgPsql(pg::ShellArgs),
    /// New password for a Postgres add-on (the old one stops working)
    #[command(name = "pg:credentials:rotate")]
    PgRotate(pg::ConfirmArgs),
    /// List backups and restores
    #[command(name = "pg:backups")]
    PgBackups(pg::DbArgs),
    /// Capture a backup (verified by a scratch restore)
    #[command(name = "pg:backups:capture")]
    PgCapture(pg::CaptureArgs),
    /// Show one backup
    #[command(name = "pg:backups:info")]
    PgBackupInfo(pg::BackupArgs),
    /// Download a backup
    #[command(name = "pg:backups:download")]
    PgDownload(pg::BackupArgs),
    /// Restore a backup (this environment's, or ENV::b001 of the other)
    #[command(name = "pg:backups:restore")]
    PgRestore(pg::RestoreArgs),
    /// Delete a backup
    #[command(name = "pg:backups:delete")]
    PgDelete(pg::BackupArgs),
    /// Back up daily at an hour (UTC), keeping N
    #[command(name = "pg:backups:schedule")]
    PgSchedule(pg::ScheduleArgs),
    /// Stop the daily backups
    #[command(name = "pg:backups:unschedule")]
    PgUnschedule(pg::DbArgs),
    /// List the daily backup schedules
    #[command(name = "pg:backups:schedules")]
    PgSchedules(pg::DbArgs),
    /// Show a Redis add-on
    #[command(name = "redis:info", alias = "redis")]
    RedisInfo(pg::DbArgs),
    /// Run redis-cli commands (-c, -f, or standard input)
    #[command(name = "redis:cli")]
    RedisCli(pg::ShellArgs),
    /// New password for a Redis add-on
    #[command(name = "redis:credentials:rotate")]
    RedisRotate(pg::ConfirmArgs),
    /// Capture a Redis backup (verified by a scratch restore)
    #[command(name = "redis:backups:capture")]
    RedisCapture(pg::CaptureArgs),
    /// Restore a Redis backup
    #[command(name = "redis:backups:restore")]
    RedisRestore(pg::RestoreArgs),
}

/// Runs `cmd` against the real environment, credentials file and terminal.
pub async fn run(cmd: Command) -> Result<(), CliError> {
    run_in(&mut Context::from_process(), cmd).await
}

/// Runs `cmd` in the given context (tests use [`Context::captured`]).
pub async fn run_in(ctx: &mut Context, cmd: Command) -> Result<(), CliError> {
    use pg::Service::{Postgres, Redis};
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
        Command::Addons(args) => addons::list(ctx, args).await,
        Command::AddonsCreate(args) => addons::create(ctx, args).await,
        Command::AddonsInfo(args) => addons::info(ctx, args).await,
        Command::AddonsAttach(args) => addons::attach(ctx, args).await,
        Command::AddonsDetach(args) => addons::detach(ctx, args).await,
        Command::AddonsDestroy(args) => addons::destroy(ctx, args).await,
        Command::AddonsServices(args) => addons::services(ctx, args.json).await,
        Command::AddonsPlans(args) => addons::plans(ctx, args).await,
        Command::PgInfo(args) => pg::info(ctx, Postgres, args).await,
        Command::PgPsql(args) => pg::shell(ctx, Postgres, args).await,
        Command::PgRotate(args) => pg::rotate(ctx, Postgres, args).await,
        Command::PgBackups(args) => pg::backups(ctx, args).await,
        Command::PgCapture(args) => pg::capture(ctx, Postgres, args).await,
        Command::PgBackupInfo(args) => pg::backup_info(ctx, args).await,
        Command::PgDownload(args) => pg::download(ctx, args).await,
        Command::PgRestore(args) => pg::restore(ctx, Postgres, args).await,
        Command::PgDelete(args) => pg::delete(ctx, args).await,
        Command::PgSchedule(args) => pg::schedule(ctx, Postgres, args).await,
        Command::PgUnschedule(args) => pg::unschedule(ctx, Postgres, args).await,
        Command::PgSchedules(args) => pg::schedules(ctx, args).await,
        Command::RedisInfo(args) => pg::info(ctx, Redis, args).await,
        Command::RedisCli(args) => pg::shell(ctx, Redis, args).await,
        Command::RedisRotate(args) => pg::rotate(ctx, Redis, args).await,
        Command::RedisCapture(args) => pg::capture(ctx, Redis, args).await,
        Command::RedisRestore(args) => pg::restore(ctx, Redis, args).await,
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

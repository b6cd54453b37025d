//! doppel's client commands (`login`, `apps:create`, `config:set`, `ps:scale`, …) on a
//! small Heroku Platform API v3 client that reads and writes `doppel-api-types`. The
//! `doppel` binary flattens [`Command`] next to its own subcommands and calls [`run`].
//!
//! Conventions every command follows: `-a ENV` one environment, `-p APP` both (see
//! [`target`]); `--json` prints the API's JSON; tables and progress follow the Heroku
//! CLI's shape (progress on stderr, results on stdout); every failure is a [`CliError`]
//! whose message says what to do, and the binary exits non-zero on it.

pub mod access;
pub mod access_password;
pub mod addons;
pub mod allowed_ips;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod certs;
pub mod client;
pub mod completions;
pub mod config;
pub mod config_vars;
pub mod context;
pub mod domains;
pub mod error;
pub mod features;
pub mod git;
pub mod logs;
pub mod maintenance;
pub mod netrc;
pub mod parity;
pub mod pg;
pub mod platform_certs;
mod private_file;
pub mod progress;
pub mod promote;
pub mod ps;
pub mod releases;
pub mod run;
pub mod table;
pub mod target;
mod tty;
pub mod users;

pub use client::Client;
pub use config::{Config, Credentials, Env};
pub use context::{Captured, Context};
pub use error::CliError;
pub use target::{Target, TargetArgs};

/// The client subcommands, named like the Heroku CLI's.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Log in to a doppel server: check the token, save it in ~/.netrc
    #[command(name = "login")]
    Login(auth::LoginArgs),
    /// Forget the saved token of the current server (other ~/.netrc entries stay)
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
    /// Show one environment (-a) or both (-p)
    #[command(name = "apps:info")]
    AppsInfo(apps::InfoArgs),
    /// Permanently delete an app and both its environments
    #[command(name = "apps:destroy")]
    AppsDestroy(apps::DestroyArgs),
    /// Show the config vars of one environment (-a) or both (-p)
    #[command(name = "config")]
    Config(config_vars::ConfigArgs),
    /// Print one config var's value
    #[command(name = "config:get")]
    ConfigGet(config_vars::GetArgs),
    /// Set config vars and restart (one release per environment)
    #[command(name = "config:set")]
    ConfigSet(config_vars::SetArgs),
    /// Remove config vars and restart (one release per environment)
    #[command(name = "config:unset")]
    ConfigUnset(config_vars::UnsetArgs),
    /// List an environment's releases, newest first
    #[command(name = "releases")]
    Releases(releases::ReleasesArgs),
    /// Show one release (default: the newest) with its config vars
    #[command(name = "releases:info")]
    ReleasesInfo(releases::InfoArgs),
    /// Go back to an earlier release (default: the one before the current)
    #[command(name = "rollback")]
    Rollback(releases::RollbackArgs),
    /// List an environment's dynos
    #[command(name = "ps")]
    Ps(ps::PsArgs),
    /// Change how many dynos of each process type run, and their size
    #[command(name = "ps:scale")]
    PsScale(ps::ScaleArgs),
    /// Restart all dynos, the dynos of one process type, or one dyno
    #[command(name = "ps:restart")]
    PsRestart(ps::RestartArgs),
    /// List an environment's domains
    #[command(name = "domains")]
    Domains(domains::DomainsArgs),
    /// Add a custom domain to an environment
    #[command(name = "domains:add")]
    DomainsAdd(domains::DomainArgs),
    /// Remove a custom domain from an environment
    #[command(name = "domains:remove")]
    DomainsRemove(domains::DomainArgs),
    /// List an environment's uploaded SSL certificates
    #[command(name = "certs")]
    Certs(certs::CertsArgs),
    /// Upload an SSL certificate and key for custom domains
    #[command(name = "certs:add")]
    CertsAdd(certs::CertFilesArgs),
    /// Show an uploaded SSL certificate
    #[command(name = "certs:info")]
    CertsInfo(certs::CertArgs),
    /// Replace an uploaded SSL certificate and key
    #[command(name = "certs:update")]
    CertsUpdate(certs::CertFilesArgs),
    /// Remove an uploaded SSL certificate
    #[command(name = "certs:remove")]
    CertsRemove(certs::CertArgs),
    /// Show Automatic Certificate Management (ACME) and its domains' status
    #[command(name = "certs:auto")]
    CertsAuto(certs::CertsArgs),
    /// Get certificates for custom domains from ACME
    #[command(name = "certs:auto:enable")]
    CertsAutoEnable(certs::CertsArgs),
    /// Stop getting certificates from ACME
    #[command(name = "certs:auto:disable")]
    CertsAutoDisable(certs::CertsArgs),
    /// Show whether maintenance mode is on
    #[command(name = "maintenance")]
    Maintenance(maintenance::MaintenanceArgs),
    /// Serve the maintenance page instead of the dynos
    #[command(name = "maintenance:on")]
    MaintenanceOn(maintenance::MaintenanceArgs),
    /// Serve the dynos again
    #[command(name = "maintenance:off")]
    MaintenanceOff(maintenance::MaintenanceArgs),
    /// List an app's features (http-session-affinity)
    #[command(name = "features")]
    Features(features::FeaturesArgs),
    /// Turn a feature on: both environments (-p) or one (-a)
    #[command(name = "features:enable")]
    FeaturesEnable(features::FeatureSetArgs),
    /// Turn a feature off: both environments (-p) or one (-a)
    #[command(name = "features:disable")]
    FeaturesDisable(features::FeatureSetArgs),
    /// List who has access to an app's environments
    #[command(name = "access")]
    Access(access::AccessArgs),
    /// Give a user access: both environments (-p) or one (-a)
    #[command(name = "access:add")]
    AccessAdd(access::MemberArgs),
    /// Take a user's access away
    #[command(name = "access:remove")]
    AccessRemove(access::MemberArgs),
    /// A private environment's access password: show, --generate (printed once), --set, --remove
    #[command(name = "access:password")]
    AccessPassword(access_password::PasswordArgs),
    /// An environment's IP allow-list: show, replace with NETWORK..., or --clear (-p: both)
    #[command(name = "access:ips")]
    AccessIps(allowed_ips::IpsArgs),
    /// Create a user (admins only) and print their API token once
    #[command(name = "users:create")]
    UsersCreate(users::CreateArgs),
    /// Give a user a new dashboard password (generated, printed once)
    #[command(name = "users:password")]
    UsersPassword(users::PasswordArgs),
    /// The platform names' certificates (admins): source, status, expiry, why an order failed
    #[command(name = "admin:certs")]
    AdminCerts(platform_certs::AdminCertsArgs),
    /// Add the `staging` and `production` git remotes of an app to this checkout
    #[command(name = "git:remote")]
    GitRemote(git::RemoteArgs),
    /// git credential helper: hands git the doppel token (set up by git:remote)
    #[command(name = "git:credentials", hide = true)]
    GitCredentials(git::CredentialsArgs),
    /// Print a shell completion script: doppel completions bash > /etc/bash_completion.d/doppel
    #[command(name = "completions")]
    Completions(completions::CompletionsArgs),
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
    /// Run a command in a one-off dyno, attached (with a terminal when there is one)
    #[command(name = "run")]
    Run(run::RunArgs),
    /// Run a command in a one-off dyno in the background; its output goes to the logs
    #[command(name = "run:detached")]
    RunDetached(run::RunDetachedArgs),
    /// Show an environment's log: app output, router, builds, release phase, platform events
    #[command(name = "logs")]
    Logs(logs::LogsArgs),
    /// Stop a dyno or a process type (the formation starts them again)
    #[command(name = "ps:stop")]
    PsStop(ps::StopArgs),
}

/// Runs `cmd` against the real environment, saved files and terminal.
pub async fn run(cmd: Command) -> Result<(), CliError> {
    run_in(&mut Context::from_process(), cmd).await
}

/// Runs `cmd` in the given context (tests use [`Context::captured`]).
pub async fn run_in(ctx: &mut Context, cmd: Command) -> Result<(), CliError> {
    use pg::Service::{Postgres, Redis};
    use Command as C;
    match cmd {
        C::Login(args) => auth::login(ctx, args).await,
        C::Logout => auth::logout(ctx),
        C::Whoami(args) => auth::whoami(ctx, args).await,
        C::Token => auth::token(ctx),
        C::Apps(args) => apps::list(ctx, args).await,
        C::AppsCreate(args) => apps::create(ctx, args).await,
        C::AppsInfo(args) => apps::info(ctx, args).await,
        C::AppsDestroy(args) => apps::destroy(ctx, args).await,
        C::Config(args) => config_vars::show(ctx, args).await,
        C::ConfigGet(args) => config_vars::get(ctx, args).await,
        C::ConfigSet(args) => config_vars::set(ctx, args).await,
        C::ConfigUnset(args) => config_vars::unset(ctx, args).await,
        C::Releases(args) => releases::list(ctx, args).await,
        C::ReleasesInfo(args) => releases::info(ctx, args).await,
        C::Rollback(args) => releases::rollback(ctx, args).await,
        C::Ps(args) => ps::list(ctx, args).await,
        C::PsScale(args) => ps::scale(ctx, args).await,
        C::PsRestart(args) => ps::restart(ctx, args).await,
        C::Domains(args) => domains::list(ctx, args).await,
        C::DomainsAdd(args) => domains::add(ctx, args).await,
        C::DomainsRemove(args) => domains::remove(ctx, args).await,
        C::Certs(args) => certs::list(ctx, args).await,
        C::CertsAdd(args) => certs::add(ctx, args).await,
        C::CertsInfo(args) => certs::info(ctx, args).await,
        C::CertsUpdate(args) => certs::update(ctx, args).await,
        C::CertsRemove(args) => certs::remove(ctx, args).await,
        C::CertsAuto(args) => certs::auto(ctx, args).await,
        C::CertsAutoEnable(args) => certs::auto_set(ctx, args, true).await,
        C::CertsAutoDisable(args) => certs::auto_set(ctx, args, false).await,
        C::Maintenance(args) => maintenance::show(ctx, args).await,
        C::MaintenanceOn(args) => maintenance::set(ctx, args, true).await,
        C::MaintenanceOff(args) => maintenance::set(ctx, args, false).await,
        C::Features(args) => features::list(ctx, args).await,
        C::FeaturesEnable(args) => features::set(ctx, args, true).await,
        C::FeaturesDisable(args) => features::set(ctx, args, false).await,
        C::Access(args) => access::list(ctx, args).await,
        C::AccessPassword(args) => access_password::password(ctx, args).await,
        C::AccessIps(args) => allowed_ips::ips(ctx, args).await,
        C::AccessAdd(args) => access::add(ctx, args).await,
        C::AccessRemove(args) => access::remove(ctx, args).await,
        C::UsersCreate(args) => users::create(ctx, args).await,
        C::UsersPassword(args) => users::password(ctx, args).await,
        C::AdminCerts(args) => platform_certs::show(ctx, args).await,
        C::GitRemote(args) => git::remote(ctx, args).await,
        C::GitCredentials(args) => git::credentials(ctx, args),
        C::Completions(args) => completions::print(ctx, args),
        C::Promote(args) => promote::promote(ctx, args).await,
        C::DirectPushes(args) => promote::direct_pushes(ctx, args).await,
        C::Parity(args) => parity::show(ctx, args).await,
        C::ParityMark(args) => parity::mark(ctx, args).await,
        C::ParityUnmark(args) => parity::unmark(ctx, args).await,
        C::Audit(args) => audit::show(ctx, args).await,
        C::Addons(args) => addons::list(ctx, args).await,
        C::AddonsCreate(args) => addons::create(ctx, args).await,
        C::AddonsInfo(args) => addons::info(ctx, args).await,
        C::AddonsAttach(args) => addons::attach(ctx, args).await,
        C::AddonsDetach(args) => addons::detach(ctx, args).await,
        C::AddonsDestroy(args) => addons::destroy(ctx, args).await,
        C::AddonsServices(args) => addons::services(ctx, args.json).await,
        C::AddonsPlans(args) => addons::plans(ctx, args).await,
        C::PgInfo(args) => pg::info(ctx, Postgres, args).await,
        C::PgPsql(args) => pg::shell(ctx, Postgres, args).await,
        C::PgRotate(args) => pg::rotate(ctx, Postgres, args).await,
        C::PgBackups(args) => pg::backups(ctx, args).await,
        C::PgCapture(args) => pg::capture(ctx, Postgres, args).await,
        C::PgBackupInfo(args) => pg::backup_info(ctx, args).await,
        C::PgDownload(args) => pg::download(ctx, args).await,
        C::PgRestore(args) => pg::restore(ctx, Postgres, args).await,
        C::PgDelete(args) => pg::delete(ctx, args).await,
        C::PgSchedule(args) => pg::schedule(ctx, Postgres, args).await,
        C::PgUnschedule(args) => pg::unschedule(ctx, Postgres, args).await,
        C::PgSchedules(args) => pg::schedules(ctx, args).await,
        C::RedisInfo(args) => pg::info(ctx, Redis, args).await,
        C::RedisCli(args) => pg::shell(ctx, Redis, args).await,
        C::RedisRotate(args) => pg::rotate(ctx, Redis, args).await,
        C::RedisCapture(args) => pg::capture(ctx, Redis, args).await,
        C::RedisRestore(args) => pg::restore(ctx, Redis, args).await,
        C::Run(args) => run::run(ctx, args).await,
        C::RunDetached(args) => run::run_detached(ctx, args).await,
        C::Logs(args) => logs::logs(ctx, args).await,
        C::PsStop(args) => ps::stop(ctx, args).await,
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

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        let mut argv = vec!["doppel"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|c| c.cmd)
    }

    #[test]
    fn command_names_are_heroku_style() -> Result<(), clap::Error> {
        assert!(
            matches!(parse(&["apps:create", "myapp"])?, Command::AppsCreate(a) if a.name == "myapp")
        );
        assert!(matches!(
            parse(&["apps:info", "-a", "myapp-staging"])?,
            Command::AppsInfo(a) if a.target.app.as_deref() == Some("myapp-staging")
        ));
        assert!(
            matches!(parse(&["apps:info", "myapp"])?, Command::AppsInfo(a) if a.env.as_deref() == Some("myapp"))
        );
        assert!(matches!(
            parse(&["apps:destroy", "x1y", "--confirm", "x1y"])?,
            Command::AppsDestroy(a) if a.confirm.as_deref() == Some("x1y")
        ));
        assert!(matches!(
            parse(&["releases", "-a", "myapp", "--json"])?,
            Command::Releases(a) if a.json && a.num == 15
        ));
        assert!(matches!(
            parse(&["config:set", "A=1", "B=2", "-p", "myapp"])?,
            Command::ConfigSet(a) if a.pairs.len() == 2 && a.target.pipeline.as_deref() == Some("myapp")
        ));
        assert!(matches!(
            parse(&["ps:scale", "web=2", "worker+1:standard-2x", "-r", "staging"])?,
            Command::PsScale(a) if a.changes.len() == 2 && a.target.remote.as_deref() == Some("staging")
        ));
        let cli = parse(&["login", "--host", "https://h", "--token", "sekrit"])?;
        assert!(!format!("{cli:?}").contains("sekrit"));
        for name in [
            "logout",
            "auth:whoami",
            "auth:token",
            "apps",
            "config",
            "ps",
            "releases",
            "domains",
            "maintenance",
            "access",
        ] {
            parse(&[name])?;
        }
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
        parse(&["completions", "bash"])?;
        parse(&["git:remote", "-p", "myapp"])?;
        Ok(())
    }

    #[test]
    fn conflicting_targets_and_missing_args_are_usage_errors() {
        assert!(parse(&["config", "-a", "x-staging", "-p", "x"]).is_err());
        assert!(parse(&["config", "-a", "x-staging", "-r", "staging"]).is_err());
        assert!(parse(&["config:set"]).is_err());
        assert!(parse(&["config:unset", "-a", "abc"]).is_err());
        assert!(parse(&["git:remote"]).is_err());
        assert!(parse(&["git:remote", "-p", "x", "-r", "y"]).is_err());
        assert!(parse(&["completions", "tcsh"]).is_err());
        assert!(parse(&["apps:destroy"]).is_err());
    }

    #[tokio::test]
    async fn destroy_refuses_without_matching_confirm() {
        let (mut ctx, _out) = Context::captured(Env::default());
        let cmd = Command::AppsDestroy(apps::DestroyArgs {
            name: Some("myapp".into()),
            pipeline: None,
            confirm: None,
            json: false,
        });
        let err = run_in(&mut ctx, cmd).await.err();
        assert!(matches!(&err, Some(CliError::ConfirmRequired { .. })));
        assert!(err.is_some_and(|e| e.to_string().contains("--confirm myapp")));
    }

    #[tokio::test]
    async fn missing_token_says_how_to_set_it() {
        let (mut ctx, _out) = Context::captured(Env::default());
        let err = run_in(&mut ctx, Command::Apps(auth::JsonArgs { json: false }))
            .await
            .err();
        assert!(matches!(&err, Some(CliError::NoToken)));
        assert!(err.is_some_and(|e| e.to_string().contains("DOPPEL_API_KEY")));
    }

    #[tokio::test]
    async fn no_target_says_which_flags_exist() {
        let env = Env::from_pairs([
            ("DOPPEL_API_KEY", "t"),
            ("DOPPEL_HOST", "http://127.0.0.1:1"),
        ]);
        let (mut ctx, _out) = Context::captured(env);
        let cmd = Command::Config(config_vars::ConfigArgs {
            target: TargetArgs::default(),
            shell: false,
            json: false,
        });
        let err = run_in(&mut ctx, cmd).await.err().map(|e| e.to_string());
        let msg = err.unwrap_or_default();
        assert!(
            msg.contains("-a") && msg.contains("-p") && msg.contains("git:remote"),
            "{msg}"
        );
        let cmd = Command::Rollback(releases::RollbackArgs {
            release: None,
            target: TargetArgs::pipeline("myapp"),
            json: false,
        });
        let err = run_in(&mut ctx, cmd).await.err();
        assert!(matches!(
            err,
            Some(CliError::OneEnvironmentOnly {
                command: "rollback",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn completions_name_the_commands() -> Result<(), CliError> {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let (mut ctx, out) = Context::captured(Env::default());
            run_in(
                &mut ctx,
                Command::Completions(completions::CompletionsArgs { shell }),
            )
            .await?;
            let text = out.stdout();
            assert!(
                text.contains("config:set") && text.contains("ps:scale"),
                "{shell}: {}",
                &text[..200.min(text.len())]
            );
        }
        Ok(())
    }
}

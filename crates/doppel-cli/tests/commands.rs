//! The environment commands against the in-process mock: config vars with their releases
//! and progress, releases and rollback, ps, domains, maintenance, access, users, and
//! git remotes with the credential helper.

mod mock;

use doppel_cli::config_vars::{ConfigArgs, GetArgs, SetArgs, UnsetArgs};
use doppel_cli::{access, domains, git, maintenance, ps, releases, users};
use doppel_cli::{run_in, CliError, Command, Context, Env, TargetArgs};
use mock::{env_for, Mock, TestResult, EMAIL, TOKEN};
use serde_json::Value;
use std::sync::Arc;

struct Fixture {
    mock: Arc<Mock>,
    home: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Result<Fixture, Box<dyn std::error::Error>> {
        let mock = mock::start().await?;
        mock.seed_app("myapp");
        Ok(Fixture {
            mock,
            home: tempfile::tempdir()?,
        })
    }

    fn ctx(&self) -> (Context, doppel_cli::Captured) {
        Context::captured(env_for(&self.mock, self.home.path()))
    }

    /// Runs `cmd`; returns (stdout, stderr) or the error.
    async fn run(&self, cmd: Command) -> Result<(String, String), CliError> {
        let (mut ctx, out) = self.ctx();
        run_in(&mut ctx, cmd).await?;
        Ok((out.stdout(), out.stderr()))
    }

    /// Runs `cmd` expecting it to fail; returns the error and stderr.
    async fn fail(&self, cmd: Command) -> Result<(CliError, String), Box<dyn std::error::Error>> {
        let (mut ctx, out) = self.ctx();
        let e = run_in(&mut ctx, cmd)
            .await
            .err()
            .ok_or("expected a failure")?;
        Ok((e, out.stderr()))
    }
}

fn set(pairs: &[&str], target: TargetArgs, json: bool) -> Command {
    Command::ConfigSet(SetArgs {
        pairs: pairs.iter().map(|p| p.to_string()).collect(),
        target,
        json,
    })
}

fn show(target: TargetArgs, json: bool) -> Command {
    Command::Config(ConfigArgs {
        target,
        shell: false,
        json,
    })
}

#[tokio::test]
async fn config_set_get_unset_on_one_and_both_environments() -> TestResult {
    let f = Fixture::new().await?;
    let (out, err) = f
        .run(set(
            &["FOO=bar", "URL=postgres://h/db?x=1"],
            TargetArgs::app("myapp-staging"),
            false,
        ))
        .await?;
    assert_eq!(
        err,
        "Setting FOO and URL and restarting myapp-staging... done, v2\n"
    );
    assert_eq!(out, "FOO: bar\nURL: postgres://h/db?x=1\n");

    // -p sets both environments, each making its own release.
    let (_, err) = f
        .run(set(&["SHARED=1"], TargetArgs::pipeline("myapp"), false))
        .await?;
    assert_eq!(
        err,
        "Setting SHARED and restarting myapp-staging... done, v3\nSetting SHARED and restarting myapp... done, v2\n"
    );
    let (out, _) = f.run(show(TargetArgs::app("myapp-staging"), false)).await?;
    assert_eq!(
        out,
        "=== myapp-staging Config Vars\nFOO:    bar\nSHARED: 1\nURL:    postgres://h/db?x=1\n"
    );
    let (out, _) = f.run(show(TargetArgs::pipeline("myapp"), true)).await?;
    let parsed: Value = serde_json::from_str(&out)?;
    assert_eq!(parsed["myapp"]["SHARED"], "1");
    assert_eq!(parsed["myapp-staging"]["FOO"], "bar");
    assert!(parsed["myapp"].get("FOO").is_none());

    let get = |key: &str, json: bool| {
        Command::ConfigGet(GetArgs {
            key: key.into(),
            target: TargetArgs::app("myapp-staging"),
            shell: false,
            json,
        })
    };
    assert_eq!(f.run(get("FOO", false)).await?.0, "bar\n");
    assert_eq!(f.run(get("NOPE", false)).await?.0, "\n");
    assert_eq!(
        serde_json::from_str::<Value>(&f.run(get("NOPE", true)).await?.0)?["NOPE"],
        Value::Null
    );
    let (e, _) = f
        .fail(Command::ConfigGet(GetArgs {
            key: "FOO".into(),
            target: TargetArgs::pipeline("myapp"),
            shell: false,
            json: false,
        }))
        .await?;
    assert!(
        e.to_string().contains("use -a myapp-staging or -a myapp"),
        "{e}"
    );

    let (out, err) = f
        .run(Command::ConfigUnset(UnsetArgs {
            keys: vec!["FOO".into()],
            target: TargetArgs::app("myapp-staging"),
            json: true,
        }))
        .await?;
    assert_eq!(
        err,
        "Unsetting FOO and restarting myapp-staging... done, v4\n"
    );
    let after: doppel_api_types::config_vars::ConfigVars = serde_json::from_str(&out)?;
    assert!(!after.contains_key("FOO") && after.contains_key("SHARED"));

    // Bad input is refused before any request.
    let before = f.mock.seen().len();
    let (e, _) = f
        .fail(set(&["FOO"], TargetArgs::app("myapp-staging"), false))
        .await?;
    assert!(e.to_string().contains("not KEY=VALUE"), "{e}");
    assert_eq!(f.mock.seen().len(), before);
    Ok(())
}

#[tokio::test]
async fn config_set_streams_a_pending_release_and_reports_failures() -> TestResult {
    let f = Fixture::new().await?;
    f.mock.state().pending_releases = true;
    let (_, err) = f
        .run(set(&["FOO=1"], TargetArgs::app("myapp-staging"), false))
        .await?;
    assert_eq!(
        err,
        "Setting FOO and restarting myapp-staging... \n-----> Starting web.1 of the new release\n-----> web.1 is up\nSetting FOO and restarting myapp-staging... done, v2\n"
    );
    assert!(f
        .mock
        .seen()
        .iter()
        .any(|s| s.path == "/streams/myapp-staging/2" && s.authorization.is_some()));

    // A release that fails is an error naming what to look at; the command fails.
    f.mock.state().pending_releases = false;
    let (e, err) = f
        .fail(set(&["BREAK=1"], TargetArgs::app("myapp-staging"), false))
        .await?;
    assert_eq!(
        err,
        "Setting BREAK and restarting myapp-staging... failed, v3\n"
    );
    assert!(matches!(&e, CliError::ReleaseFailed { version: 3, .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("previous release keeps serving")
            && msg.contains("releases:info v3 -a myapp-staging"),
        "{msg}"
    );
    Ok(())
}

#[tokio::test]
async fn releases_info_and_rollback() -> TestResult {
    let f = Fixture::new().await?;
    f.run(set(&["A=1"], TargetArgs::app("myapp"), false))
        .await?;
    f.run(set(&["A=2"], TargetArgs::app("myapp"), false))
        .await?;
    let list = |json: bool| {
        Command::Releases(releases::ReleasesArgs {
            target: TargetArgs::app("myapp"),
            num: 2,
            json,
        })
    };
    let (out, _) = f.run(list(false)).await?;
    assert_eq!(
        out,
        format!("=== myapp Releases - Current: v3\nv3  Set A config vars  {EMAIL}  2026-01-01T12:00:03Z\nv2  Set A config vars  {EMAIL}  2026-01-01T12:00:02Z\n")
    );
    let parsed: Vec<doppel_api_types::releases::Release> =
        serde_json::from_str(&f.run(list(true)).await?.0)?;
    assert_eq!(parsed.len(), 3);

    let info = |release: Option<&str>| {
        Command::ReleasesInfo(releases::InfoArgs {
            release: release.map(str::to_string),
            target: TargetArgs::app("myapp"),
            json: false,
        })
    };
    let (out, _) = f.run(info(Some("v2"))).await?;
    assert!(out.starts_with("=== Release v2\nEnvironment: myapp\nChange:      Set A config vars\nStatus:      succeeded\nCurrent:     no\n"), "{out}");
    assert!(out.ends_with("=== v2 Config vars\nA: 1\n"), "{out}");
    assert!(f.run(info(None)).await?.0.starts_with("=== Release v3\n"));
    let (e, _) = f.fail(info(Some("v9"))).await?;
    assert_eq!(
        e.to_string(),
        "Release v9 of myapp not found. `doppel releases -a myapp` lists its releases."
    );

    let rollback = |release: Option<&str>| {
        Command::Rollback(releases::RollbackArgs {
            release: release.map(str::to_string),
            target: TargetArgs::app("myapp"),
            json: false,
        })
    };
    let (_, err) = f.run(rollback(None)).await?;
    assert!(
        err.starts_with("Rolling back myapp to v2... done, v4\n"),
        "{err}"
    );
    assert!(err.contains("does not add or remove add-ons"), "{err}");
    let get = Command::ConfigGet(GetArgs {
        key: "A".into(),
        target: TargetArgs::app("myapp"),
        shell: false,
        json: false,
    });
    assert_eq!(f.run(get).await?.0, "1\n");
    let (_, err) = f.run(rollback(Some("1"))).await?;
    assert!(
        err.starts_with("Rolling back myapp to v1... done, v5\n"),
        "{err}"
    );
    let posted = f
        .mock
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == "/apps/myapp/releases")
        .count();
    assert_eq!(posted, 2);
    Ok(())
}

#[tokio::test]
async fn ps_scale_and_restart_wait_for_dynos() -> TestResult {
    let f = Fixture::new().await?;
    let (out, _) = f
        .run(Command::Ps(ps::PsArgs {
            target: TargetArgs::app("myapp-staging"),
            json: false,
        }))
        .await?;
    assert!(
        out.starts_with("=== web (Basic): ./server (1)\nweb.1: up 2026/01/01 12:00:00 +0000 (~ "),
        "{out}"
    );
    assert!(out.ends_with(" ago) (release v1)\n"), "{out}");

    let scale = |changes: &[&str], json: bool| {
        Command::PsScale(ps::ScaleArgs {
            changes: changes.iter().map(|c| c.to_string()).collect(),
            target: TargetArgs::app("myapp-staging"),
            no_wait: false,
            json,
        })
    };
    let (_, err) = f.run(scale(&["web=2:standard-2x"], false)).await?;
    assert_eq!(
        err,
        "Scaling dynos on myapp-staging... done, now running web at 2:standard-2x\nWaiting for web dynos of myapp-staging... done, 2 up\n"
    );
    let patch = f
        .mock
        .seen()
        .into_iter()
        .find(|s| s.method == "PATCH")
        .ok_or("no PATCH")?;
    let body: Value = serde_json::from_str(&patch.body)?;
    assert_eq!(
        body,
        serde_json::json!({"updates": [{"type": "web", "quantity": "2", "size": "standard-2x", "dyno_size": null}]})
    );
    let (out, _) = f.run(scale(&[], false)).await?;
    assert_eq!(out, "web=2:standard-2x\n");
    let (e, _) = f.fail(scale(&["worker+1"], false)).await?;
    assert!(e.to_string().contains("process type (worker)"), "{e}");

    let (_, err) = f
        .run(Command::PsRestart(ps::RestartArgs {
            which: Some("web".into()),
            target: TargetArgs::pipeline("myapp"),
            no_wait: false,
            json: false,
        }))
        .await?;
    assert_eq!(
        err,
        "Restarting web dynos of myapp-staging... done\nReplacing 2 dynos of myapp-staging... done\nWaiting for web dynos of myapp-staging... done, 2 up\nRestarting web dynos of myapp... done\nReplacing 1 dynos of myapp... done\nWaiting for web dynos of myapp... done, 1 up\n"
    );
    assert_eq!(f.mock.state().envs["myapp"].restarts, ["web"]);

    // A dyno that crashes fails the command with where to look.
    f.mock.state().crash_dynos = true;
    let (e, err) = f
        .fail(Command::PsRestart(ps::RestartArgs {
            which: None,
            target: TargetArgs::app("myapp"),
            no_wait: false,
            json: false,
        }))
        .await?;
    assert!(
        err.ends_with("Waiting for web dynos of myapp... crashed\n"),
        "{err}"
    );
    assert_eq!(e.to_string(), "Dyno web.1 of myapp crashed. `doppel logs -a myapp` shows why; `doppel ps -a myapp` lists the dynos.");
    Ok(())
}

#[tokio::test]
async fn domains_maintenance_access_and_users() -> TestResult {
    let f = Fixture::new().await?;
    let dom = |host: &str| domains::DomainArgs {
        hostname: host.into(),
        target: TargetArgs::app("myapp"),
        json: false,
    };
    let (out, err) = f.run(Command::DomainsAdd(dom("WWW.Example.com"))).await?;
    assert_eq!(err, "Adding www.example.com to myapp... done\n");
    assert_eq!(
        out,
        "Point www.example.com at myapp.localhost with a CNAME record at your DNS provider.\n"
    );
    let (out, _) = f
        .run(Command::Domains(domains::DomainsArgs {
            target: TargetArgs::app("myapp"),
            json: false,
        }))
        .await?;
    assert!(
        out.contains(
            "=== myapp Custom Domains\nDomain Name      DNS Record Type  DNS Target       Status\n"
        ),
        "{out}"
    );
    let (e, _) = f
        .fail(Command::DomainsAdd(domains::DomainArgs {
            target: TargetArgs::pipeline("myapp"),
            ..dom("a.example.com")
        }))
        .await?;
    assert!(matches!(
        e,
        CliError::OneEnvironmentOnly {
            command: "domains:add",
            ..
        }
    ));
    let (_, err) = f
        .run(Command::DomainsRemove(dom("www.example.com")))
        .await?;
    assert_eq!(err, "Removing www.example.com from myapp... done\n");
    let (e, _) = f
        .fail(Command::DomainsRemove(dom("www.example.com")))
        .await?;
    assert!(
        e.to_string().starts_with("Couldn't find that domain."),
        "{e}"
    );

    let m = |target: TargetArgs| maintenance::MaintenanceArgs {
        target,
        json: false,
    };
    let (_, err) = f
        .run(Command::MaintenanceOn(m(TargetArgs::pipeline("myapp"))))
        .await?;
    assert_eq!(err, "Enabling maintenance mode for myapp-staging... done\nEnabling maintenance mode for myapp... done\n");
    f.run(Command::MaintenanceOff(m(TargetArgs::app("myapp-staging"))))
        .await?;
    let (out, _) = f
        .run(Command::Maintenance(m(TargetArgs::pipeline("myapp"))))
        .await?;
    assert_eq!(out, "myapp-staging: off\nmyapp: on\n");
    assert_eq!(
        f.run(Command::Maintenance(m(TargetArgs::app("myapp"))))
            .await?
            .0,
        "on\n"
    );

    let member = |email: &str, target: TargetArgs| access::MemberArgs {
        email: email.into(),
        target,
        json: false,
    };
    let (_, err) = f
        .run(Command::AccessAdd(member(
            "dev@x.io",
            TargetArgs::app("myapp-staging"),
        )))
        .await?;
    assert_eq!(err, "Adding dev@x.io to myapp-staging only... done\n");
    let (_, err) = f
        .run(Command::AccessAdd(member(
            "ops@x.io",
            TargetArgs::pipeline("myapp"),
        )))
        .await?;
    assert_eq!(err, "Adding ops@x.io to myapp-staging and myapp... done\n");
    let bodies: Vec<String> = f
        .mock
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/collaborators") && s.method == "POST")
        .map(|s| s.body)
        .collect();
    assert!(
        bodies[0].contains("\"both_environments\":false")
            && bodies[1].contains("\"both_environments\":true"),
        "{bodies:?}"
    );
    let (out, _) = f
        .run(Command::Access(access::AccessArgs {
            target: TargetArgs::app("myapp-staging"),
            json: false,
        }))
        .await?;
    assert!(
        out.contains("dev@x.io           collaborator  myapp-staging only\n"),
        "{out}"
    );
    assert!(
        out.contains("ops@x.io           collaborator  both\n"),
        "{out}"
    );
    let (_, err) = f
        .run(Command::AccessRemove(member(
            "ops@x.io",
            TargetArgs::pipeline("myapp"),
        )))
        .await?;
    assert_eq!(err, "Removing ops@x.io from myapp... done\nRemoving ops@x.io from myapp-staging... (had no access)\n");
    let (e, _) = f
        .fail(Command::AccessRemove(member(
            "nobody@x.io",
            TargetArgs::app("myapp"),
        )))
        .await?;
    assert!(e.is_not_found());

    let (out, err) = f
        .run(Command::UsersCreate(users::CreateArgs {
            email: "new@x.io".into(),
            admin: false,
            json: false,
        }))
        .await?;
    assert_eq!(err, "Creating user new@x.io... done\n");
    assert!(out.contains("\n    fresh-token-456\n"), "{out}");
    assert!(
        out.contains(&format!("doppel login --host {}", f.mock.host)),
        "{out}"
    );
    assert!(
        out.contains("access:add EMAIL -p APP") && out.contains("privately"),
        "{out}"
    );
    let (out, _) = f
        .run(Command::UsersCreate(users::CreateArgs {
            email: "admin2@x.io".into(),
            admin: true,
            json: true,
        }))
        .await?;
    let created: doppel_api_types::account::UserCreated = serde_json::from_str(&out)?;
    assert!(created.user.doppel.admin && created.token == "fresh-token-456");
    let (e, _) = f
        .fail(Command::UsersCreate(users::CreateArgs {
            email: "taken@example.com".into(),
            admin: false,
            json: false,
        }))
        .await?;
    assert_eq!(e.to_string(), "Email is already taken");
    assert!(out_has_password(&f).await?);
    let (out, err) = f
        .run(Command::UsersPassword(users::PasswordArgs {
            email: "dev@x.io".into(),
            json: false,
        }))
        .await?;
    assert_eq!(
        err,
        "Setting a new dashboard password for dev@x.io... done\n"
    );
    assert!(out.contains("\n    new-password-321\n"), "{out}");
    let (e, _) = f
        .fail(Command::UsersPassword(users::PasswordArgs {
            email: "nobody@x.io".into(),
            json: false,
        }))
        .await?;
    assert!(e.is_not_found());
    Ok(())
}

/// `users:create` shows the new user's dashboard password once, beside the token.
async fn out_has_password(f: &Fixture) -> Result<bool, Box<dyn std::error::Error>> {
    let (out, _) = f
        .run(Command::UsersCreate(users::CreateArgs {
            email: "third@x.io".into(),
            admin: false,
            json: false,
        }))
        .await?;
    Ok(out.contains("\n    fresh-password-789\n"))
}

fn git(dir: &std::path::Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()?;
    if !out.status.success() {
        return Err(format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[tokio::test]
async fn git_remote_sets_remotes_helper_and_lets_a_be_omitted() -> TestResult {
    let f = Fixture::new().await?;
    let repo = tempfile::tempdir()?;
    git(repo.path(), &["init", "-q"])?;
    git(
        repo.path(),
        &["remote", "add", "origin", "git@github.com:me/myapp.git"],
    )?;
    let exe = std::path::PathBuf::from("/usr/bin/doppel");
    let in_repo = || {
        let (ctx, out) = f.ctx();
        (
            ctx.with_cwd(repo.path().to_path_buf(), Some(exe.clone())),
            out,
        )
    };

    // Outside a checkout with doppel remotes, -a cannot be omitted.
    let (mut ctx, _) = in_repo();
    let e = run_in(&mut ctx, show(TargetArgs::default(), false))
        .await
        .err();
    assert!(matches!(e, Some(CliError::NoApp)), "{e:?}");

    let (mut ctx, out) = in_repo();
    run_in(
        &mut ctx,
        Command::GitRemote(git::RemoteArgs {
            app: None,
            pipeline: Some("myapp".into()),
            remote: None,
            json: false,
        }),
    )
    .await?;
    let host = &f.mock.host;
    assert_eq!(
        out.stdout(),
        format!("set git remote staging to {host}/myapp-staging.git\nset git remote production to {host}/myapp.git\n")
    );
    assert!(
        out.stderr().contains("the token itself is not written"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        git(repo.path(), &["remote", "get-url", "staging"])?,
        format!("{host}/myapp-staging.git")
    );
    let helper = git(
        repo.path(),
        &["config", "--get", &format!("credential.{host}.helper")],
    )?;
    assert_eq!(helper, "!'/usr/bin/doppel' git:credentials");
    let config = std::fs::read_to_string(repo.path().join(".git/config"))?;
    assert!(!config.contains(TOKEN), "{config}");

    // Running it again updates the remotes instead of failing.
    let (mut ctx, _) = in_repo();
    run_in(
        &mut ctx,
        Command::GitRemote(git::RemoteArgs {
            app: Some("myapp".into()),
            pipeline: None,
            remote: None,
            json: false,
        }),
    )
    .await?;

    // Two environments: -a cannot be guessed; -r picks one remote.
    let (mut ctx, _) = in_repo();
    let e = run_in(&mut ctx, show(TargetArgs::default(), false))
        .await
        .err()
        .ok_or("expected ambiguity")?;
    assert!(
        e.to_string()
            .contains("production → myapp, staging → myapp-staging"),
        "{e}"
    );
    let (mut ctx, out) = in_repo();
    let by_remote = TargetArgs {
        remote: Some("staging".into()),
        ..TargetArgs::default()
    };
    run_in(&mut ctx, show(by_remote, false)).await?;
    assert!(
        out.stdout().starts_with("=== myapp-staging Config Vars\n"),
        "{}",
        out.stdout()
    );
    let (mut ctx, _) = in_repo();
    let e = run_in(
        &mut ctx,
        show(
            TargetArgs {
                remote: Some("origin".into()),
                ..TargetArgs::default()
            },
            false,
        ),
    )
    .await
    .err();
    assert!(matches!(e, Some(CliError::UnknownRemote { .. })), "{e:?}");

    // One doppel remote: it is the environment.
    git(repo.path(), &["remote", "remove", "production"])?;
    let (mut ctx, out) = in_repo();
    run_in(&mut ctx, show(TargetArgs::default(), false)).await?;
    assert!(
        out.stdout().starts_with("=== myapp-staging Config Vars\n"),
        "{}",
        out.stdout()
    );
    Ok(())
}

#[tokio::test]
async fn git_credentials_answers_with_the_token_for_the_requested_host() -> TestResult {
    let mock = mock::start().await?;
    let home = tempfile::tempdir()?;
    let home_str = home.path().display().to_string();
    let hostport = mock.host.trim_start_matches("http://").to_string();
    let ask = |env: Env, op: &str| {
        let (ctx, out) = Context::captured(env);
        let ctx = ctx.with_stdin(&format!(
            "protocol=http\nhost={hostport}\npath=myapp.git\n\n"
        ));
        (
            ctx,
            out,
            Command::GitCredentials(git::CredentialsArgs {
                operation: op.into(),
            }),
        )
    };
    // Nothing saved: no answer, and a hint on stderr.
    let (mut ctx, out, cmd) = ask(Env::from_pairs([("HOME", home_str.as_str())]), "get");
    run_in(&mut ctx, cmd).await?;
    assert_eq!(out.stdout(), "");
    assert!(
        out.stderr().contains("doppel login --host"),
        "{}",
        out.stderr()
    );

    // After login, the saved token for that host.
    let (mut ctx, _) = Context::captured(Env::from_pairs([("HOME", home_str.as_str())]));
    run_in(
        &mut ctx,
        Command::Login(doppel_cli::auth::LoginArgs {
            host: Some(mock.host.clone()),
            token: Some(TOKEN.into()),
            ca_cert: None,
            json: false,
        }),
    )
    .await?;
    let (mut ctx, out, cmd) = ask(Env::from_pairs([("HOME", home_str.as_str())]), "get");
    run_in(&mut ctx, cmd).await?;
    assert_eq!(out.stdout(), format!("username=doppel\npassword={TOKEN}\n"));
    // DOPPEL_API_KEY wins; store/erase say nothing.
    let (mut ctx, out, cmd) = ask(
        Env::from_pairs([("HOME", home_str.as_str()), ("DOPPEL_API_KEY", "env-tok")]),
        "get",
    );
    run_in(&mut ctx, cmd).await?;
    assert_eq!(out.stdout(), "username=doppel\npassword=env-tok\n");
    let (mut ctx, out, cmd) = ask(Env::from_pairs([("HOME", home_str.as_str())]), "store");
    run_in(&mut ctx, cmd).await?;
    assert_eq!(out.stdout(), "");
    Ok(())
}

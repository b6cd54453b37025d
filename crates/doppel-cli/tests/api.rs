//! Drives `run_in` and `Client` against the in-process mock of doppel's API: apps, login
//! and `~/.netrc`, error messages.

mod mock;

use doppel_cli::apps::{CreateArgs, DestroyArgs, InfoArgs};
use doppel_cli::auth::{JsonArgs, LoginArgs};
use doppel_cli::releases::ReleasesArgs;
use doppel_cli::{run_in, CliError, Client, Command, Context, Env, TargetArgs};
use mock::{env_for, TestResult, EMAIL, TOKEN};
use serde_json::Value;

fn info(target: TargetArgs, json: bool) -> Command {
    Command::AppsInfo(InfoArgs {
        target,
        env: None,
        json,
    })
}

#[tokio::test]
async fn create_list_info_releases_destroy() -> TestResult {
    let mock = mock::start().await?;
    let home = tempfile::tempdir()?;
    let fresh = || Context::captured(env_for(&mock, home.path()));
    let (mut ctx, out) = fresh();

    let create = |name: &str| {
        Command::AppsCreate(CreateArgs {
            name: name.into(),
            json: false,
        })
    };
    run_in(&mut ctx, create("myapp")).await?;
    assert_eq!(
        out.stderr(),
        "Creating myapp (myapp-staging and myapp)... done\n"
    );
    let stdout = out.stdout();
    let host = &mock.host;
    assert!(stdout.contains(&format!(
        "  staging     myapp-staging  https://myapp-staging.localhost:8443/  (private)  git: {host}/myapp-staging.git\n"
    )), "{stdout}");
    assert!(stdout.contains(&format!(
        "  production  myapp          https://myapp.localhost:8443/          (public)   git: {host}/myapp.git\n"
    )), "{stdout}");
    assert!(
        stdout.ends_with("`git push staging main` deploys.\n"),
        "{stdout}"
    );

    // A taken name surfaces the server's message, and nothing else.
    let e = run_in(&mut ctx, create("myapp"))
        .await
        .err()
        .ok_or("expected 422")?;
    assert!(
        matches!(&e, CliError::Api { status: 422, id, .. } if id == "invalid_params"),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "Name is already taken");
    assert!(
        out.stderr()
            .ends_with("Creating myapp (myapp-staging and myapp)... !\n"),
        "{}",
        out.stderr()
    );
    // A bad name never reaches the server.
    let e = run_in(&mut ctx, create("My App"))
        .await
        .err()
        .ok_or("expected a name error")?;
    assert!(e.to_string().contains("lowercase letters"), "{e}");

    run_in(&mut ctx, create("blog")).await?;
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Apps(JsonArgs { json: false })).await?;
    let listing = out.stdout();
    assert!(
        listing.starts_with("=== Apps\nblog\n  staging     blog-staging "),
        "{listing}"
    );
    assert!(
        listing.contains("\nmyapp\n  staging     myapp-staging  "),
        "{listing}"
    );

    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Apps(JsonArgs { json: true })).await?;
    let parsed: Vec<doppel_api_types::apps::App> = serde_json::from_str(&out.stdout())?;
    assert_eq!(parsed.len(), 4);

    let (mut ctx, out) = fresh();
    run_in(&mut ctx, info(TargetArgs::app("myapp-staging"), false)).await?;
    assert!(
        out.stdout().starts_with("=== myapp-staging\n"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains("myapp (staging, private)"),
        "{}",
        out.stdout()
    );

    // -p shows both; --json with -p is keyed by environment.
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, info(TargetArgs::pipeline("myapp"), true)).await?;
    let parsed: Value = serde_json::from_str(&out.stdout())?;
    assert_eq!(parsed["myapp"]["doppel"]["stage"], "production");
    assert_eq!(parsed["myapp-staging"]["doppel"]["private"], true);

    let (mut ctx, out) = fresh();
    run_in(
        &mut ctx,
        Command::Releases(ReleasesArgs {
            target: TargetArgs::app("blog-staging"),
            num: 15,
            json: false,
        }),
    )
    .await?;
    assert_eq!(out.stdout(), "=== blog-staging Releases\nblog-staging has no releases yet. `git push` to it (or promote to it) to make one.\n");

    let (mut ctx, out) = fresh();
    let destroy = Command::AppsDestroy(DestroyArgs {
        name: Some("myapp".into()),
        pipeline: None,
        confirm: Some("myapp".into()),
        json: false,
    });
    run_in(&mut ctx, destroy).await?;
    assert_eq!(
        out.stderr(),
        "Destroying myapp (myapp-staging and myapp)... done\n"
    );

    let (mut ctx, _out) = fresh();
    let e = run_in(&mut ctx, info(TargetArgs::app("myapp"), false))
        .await
        .err()
        .ok_or("expected 404")?;
    let msg = e.to_string();
    assert!(
        msg.starts_with("Couldn't find that app. Check the name (`doppel apps`"),
        "{msg}"
    );

    for s in mock.seen() {
        assert_eq!(
            s.authorization.as_deref(),
            Some(&*format!("Bearer {TOKEN}")),
            "{s:?}"
        );
        assert_eq!(
            s.accept.as_deref(),
            Some(doppel_api_types::MEDIA_TYPE),
            "{s:?}"
        );
        assert!(
            s.user_agent
                .as_deref()
                .is_some_and(|u| u.starts_with("doppel-cli/")),
            "{s:?}"
        );
    }
    let seen = mock.seen();
    assert!(seen
        .iter()
        .any(|s| s.method == "DELETE" && s.path == "/apps/myapp"));
    assert!(!seen.iter().any(|s| s.body.contains("My App")));
    let rel = seen
        .iter()
        .find(|s| s.path.ends_with("/releases"))
        .ok_or("no releases request")?;
    assert_eq!(rel.range.as_deref(), Some("version ..; max=15, order=desc"));
    Ok(())
}

fn login(host: &str, token: Option<&str>) -> Command {
    Command::Login(LoginArgs {
        host: Some(host.to_string()),
        token: token.map(str::to_string),
        ca_cert: None,
        json: false,
    })
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> Result<u32, std::io::Error> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
}

#[tokio::test]
async fn login_writes_netrc_keeping_other_entries_and_logout_removes_only_ours() -> TestResult {
    let mock = mock::start().await?;
    let home = tempfile::tempdir()?;
    let netrc = home.path().join(".netrc");
    let others = "# work machines\nmachine api.heroku.com\n  login me@example.com\n  password heroku-secret\nmachine github.com login me password gh-token\n";
    std::fs::write(&netrc, others)?;
    let home_str = home.path().display().to_string();
    let fresh = || Context::captured(Env::from_pairs([("HOME", home_str.as_str())]));

    // A wrong token is refused and nothing is saved.
    let (ctx, _out) = fresh();
    let mut ctx = ctx.with_stdin("wrong\n");
    let e = run_in(&mut ctx, login(&mock.host, None))
        .await
        .err()
        .ok_or("expected 401")?;
    assert!(matches!(e, CliError::Unauthorized));
    assert_eq!(std::fs::read_to_string(&netrc)?, others);

    // The token read from standard input is checked and saved under the host name.
    let (ctx, out) = fresh();
    let mut ctx = ctx.with_stdin(&format!("{TOKEN}\n"));
    run_in(&mut ctx, login(&mock.host, None)).await?;
    assert_eq!(out.stdout(), format!("Logged in as {EMAIL}\n"));
    assert!(!out.stdout().contains(TOKEN) && !out.stderr().contains(TOKEN));
    let text = std::fs::read_to_string(&netrc)?;
    assert_eq!(
        text,
        format!("{others}machine 127.0.0.1\n  login {EMAIL}\n  password {TOKEN}\n")
    );
    #[cfg(unix)]
    assert_eq!(mode(&netrc)?, 0o600);
    let settings = home.path().join(".config/doppel/config.json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&settings)?)?;
    assert_eq!(saved["host"], mock.host.as_str());
    assert!(!std::fs::read_to_string(&settings)?.contains(TOKEN));

    // Later commands need no variables.
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Whoami(JsonArgs { json: false })).await?;
    assert_eq!(out.stdout(), format!("{EMAIL}\n"));
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Token).await?;
    assert_eq!(out.stdout(), format!("{TOKEN}\n"));

    // Logging in again replaces our entry in place.
    let (mut ctx, _out) = fresh();
    run_in(&mut ctx, login(&mock.host, Some(TOKEN))).await?;
    assert_eq!(
        std::fs::read_to_string(&netrc)?
            .matches("machine 127.0.0.1")
            .count(),
        1
    );

    // The environment wins over the file: a bad DOPPEL_API_KEY is used and refused.
    let (mut ctx, _out) = Context::captured(Env::from_pairs([
        ("HOME", home_str.as_str()),
        ("DOPPEL_API_KEY", "bad"),
    ]));
    let e = run_in(&mut ctx, Command::Whoami(JsonArgs { json: false }))
        .await
        .err();
    assert!(matches!(e, Some(CliError::Unauthorized)));

    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Logout).await?;
    assert_eq!(out.stdout(), format!("Logged out of {}\n", mock.host));
    assert_eq!(std::fs::read_to_string(&netrc)?, others);
    #[cfg(unix)]
    assert_eq!(mode(&netrc)?, 0o600);
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Logout).await?;
    assert_eq!(out.stdout(), "Not logged in\n");
    let (mut ctx, _out) = fresh();
    let e = run_in(&mut ctx, Command::Whoami(JsonArgs { json: false }))
        .await
        .err();
    assert!(matches!(e, Some(CliError::NoToken)));
    Ok(())
}

#[tokio::test]
async fn old_credentials_file_is_read_then_migrated_by_login() -> TestResult {
    let mock = mock::start().await?;
    let home = tempfile::tempdir()?;
    let legacy = home.path().join(".config/doppel/credentials.json");
    std::fs::create_dir_all(legacy.parent().ok_or("no parent")?)?;
    std::fs::write(
        &legacy,
        serde_json::to_string(&doppel_cli::Credentials {
            host: mock.host.clone(),
            token: TOKEN.into(),
            ca_cert: None,
        })?,
    )?;
    let home_str = home.path().display().to_string();
    let fresh = || Context::captured(Env::from_pairs([("HOME", home_str.as_str())]));
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Whoami(JsonArgs { json: false })).await?;
    assert_eq!(out.stdout(), format!("{EMAIL}\n"));

    let (mut ctx, out) = fresh();
    let with_json = Command::Login(LoginArgs {
        host: Some(mock.host.clone()),
        token: Some(TOKEN.into()),
        ca_cert: None,
        json: true,
    });
    run_in(&mut ctx, with_json).await?;
    let account: doppel_api_types::account::Account = serde_json::from_str(&out.stdout())?;
    assert_eq!(account.email, EMAIL);
    assert!(!legacy.exists(), "login replaces the old file");
    assert!(std::fs::read_to_string(home.path().join(".netrc"))?.contains(TOKEN));
    let (mut ctx, out) = fresh();
    run_in(&mut ctx, Command::Whoami(JsonArgs { json: true })).await?;
    let account: doppel_api_types::account::Account = serde_json::from_str(&out.stdout())?;
    assert_eq!(account.email, EMAIL);
    Ok(())
}

#[tokio::test]
async fn client_typed_calls() -> TestResult {
    let mock = mock::start().await?;
    let client = Client::new(&mock.host, TOKEN, None)?;
    let account: doppel_api_types::account::Account = client.get("/account").await?;
    assert_eq!(account.email, EMAIL);
    let body = doppel_api_types::apps::AppCreate {
        name: Some("shop".into()),
        ..Default::default()
    };
    let created: doppel_api_types::apps::App = client.post("/apps", &body).await?;
    assert_eq!(created.name, "shop");
    let e = client
        .post::<doppel_api_types::apps::App, _>(
            "/apps",
            &doppel_api_types::apps::AppCreate {
                name: Some("taken".into()),
                ..Default::default()
            },
        )
        .await
        .err()
        .ok_or("expected 422")?;
    assert!(matches!(&e, CliError::Api { status: 422, id, message }
        if id == "invalid_params" && message == "Name is already taken"));
    // An answer of the wrong shape is a clear error, not a silent misread.
    let e = client
        .get::<doppel_api_types::account::Account>("/apps")
        .await
        .err()
        .ok_or("expected a shape error")?;
    assert!(
        matches!(e, CliError::BadResponse { status: 200, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("same version"), "{e}");
    Ok(())
}

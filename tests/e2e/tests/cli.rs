//! The doppel CLI end to end, against a live server: `login` into `~/.netrc`, apps,
//! `git:remote` and a push through the credential helper (no token in `.git/config`),
//! config vars with their releases, rollback, ps, domains, maintenance, access, users,
//! `--json` parsed as the API's types, errors and exit codes, completions.

use anyhow::{bail, Result};
use doppel_api_types as api;
use doppel_e2e::{doppel_bin, AppRepo, Server};
use std::path::Path;
use std::process::{Command, Stdio};

/// What a command printed and how it exited.
#[derive(Debug)]
struct Out {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A user of the CLI: a home folder holding their login, no DOPPEL_* variables.
struct User<'a> {
    server: &'a Server,
    home: tempfile::TempDir,
}

impl<'a> User<'a> {
    /// Logs in with `token` (the token on standard input, as a user pastes it).
    fn login(server: &'a Server, token: &str) -> Result<User<'a>> {
        let user = User {
            server,
            home: tempfile::tempdir()?,
        };
        let host = server.platform_url();
        let ca = server.ca().display().to_string();
        let out = user.run_with_stdin(
            None,
            &["login", "--host", &host, "--ca-cert", &ca],
            &format!("{token}\n"),
        )?;
        if !out.ok {
            bail!("login failed: {}", out.text());
        }
        Ok(user)
    }

    fn command(&self, cwd: Option<&Path>, args: &[&str]) -> Command {
        let mut cmd = Command::new(doppel_bin());
        cmd.args(args)
            .env_remove("DOPPEL_HOST")
            .env_remove("DOPPEL_API_KEY")
            .env_remove("DOPPEL_CA_CERT")
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", self.home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    fn run_with_stdin(&self, cwd: Option<&Path>, args: &[&str], stdin: &str) -> Result<Out> {
        use std::io::Write;
        let mut child = self.command(cwd, args).spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        Ok(Out {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs `doppel ARGS` (in `cwd` when given) whatever the outcome.
    fn run_in(&self, cwd: Option<&Path>, args: &[&str]) -> Result<Out> {
        self.run_with_stdin(cwd, args, "")
    }

    fn run(&self, args: &[&str]) -> Result<Out> {
        self.run_in(None, args)
    }

    /// Runs `doppel ARGS`, failing the test unless it succeeds.
    fn ok(&self, args: &[&str]) -> Result<Out> {
        self.ok_in(None, args)
    }

    fn ok_in(&self, cwd: Option<&Path>, args: &[&str]) -> Result<Out> {
        let out = self.run_in(cwd, args)?;
        if !out.ok {
            bail!(
                "doppel {args:?} failed:\n{}\n{}",
                out.text(),
                self.server.log()
            );
        }
        Ok(out)
    }

    /// Runs `doppel ARGS --json` and parses what it printed as `T`.
    fn json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> Result<T> {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all)?;
        serde_json::from_str(&out.stdout)
            .map_err(|e| anyhow::anyhow!("{args:?} --json: {e}\n{}", out.stdout))
    }

    /// git in `dir` as this user: their HOME (so the credential helper finds their login),
    /// no CA from the environment (git:remote configured it).
    fn git(&self, dir: &Path, args: &[&str]) -> Result<Out> {
        self.git_env(dir, args, &[])
    }

    /// [`User::git`] with extra environment variables.
    fn git_env(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Out> {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=doppel-e2e",
                "-c",
                "user.email=e2e@doppel.test",
            ])
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_SSL_CAINFO")
            .env_remove("DOPPEL_HOST")
            .env_remove("DOPPEL_API_KEY")
            .env_remove("DOPPEL_CA_CERT")
            .envs(env.iter().copied())
            .output()?;
        Ok(Out {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// A Dockerfile app (fast to build: no package downloads) that answers with $GREETING.
fn greeting_app() -> Result<AppRepo> {
    let server = br#"import http.server, os

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("greeting=%s\n" % os.environ.get("GREETING", "none")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.ThreadingHTTPServer.request_queue_size = 1024  # Python's default backlog of 5 drops SYNs under load
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"#;
    let dockerfile = b"FROM doppel/heroku-24\nCOPY server.py /srv/server.py\nCMD [\"sh\", \"-c\", \"exec python3 /srv/server.py\"]\n";
    AppRepo::from_files(&[("Dockerfile", dockerfile), ("server.py", server)])
}

/// Creates `app`, adds its remotes with `git:remote -p` and pushes to staging through them.
fn create_and_push(user: &User, app: &str) -> Result<AppRepo> {
    user.ok(&["apps:create", app])?;
    let repo = greeting_app()?;
    user.ok_in(Some(repo.path()), &["git:remote", "-p", app])?;
    let push = user.git(repo.path(), &["push", "staging", "main"])?;
    if !push.ok {
        bail!(
            "push through the staging remote failed:\n{}\n{}",
            push.text(),
            user.server.log()
        );
    }
    Ok(repo)
}

fn served(server: &Server, env: &str) -> Result<String> {
    let (status, body) = server.get(&server.env_url(env), Some(&server.token))?;
    if status != 200 {
        bail!("{env} answered {status}: {body}");
    }
    Ok(body)
}

#[test]
fn login_netrc_git_remote_push_releases_and_errors() -> Result<()> {
    let server = Server::start()?;
    // Someone else's netrc entry must survive login and logout.
    let user = User {
        server: &server,
        home: tempfile::tempdir()?,
    };
    let netrc = user.home.path().join(".netrc");
    let theirs = "machine api.heroku.com\n  login me@example.com\n  password heroku-secret\n";
    std::fs::write(&netrc, theirs)?;
    let host = server.platform_url();
    let ca = server.ca().display().to_string();
    let wrong = user.run_with_stdin(
        None,
        &["login", "--host", &host, "--ca-cert", &ca],
        "wrong-token\n",
    )?;
    assert!(!wrong.ok && wrong.code == Some(1), "{wrong:?}");
    assert!(
        wrong.stderr.contains("Invalid credentials"),
        "{}",
        wrong.stderr
    );
    let login = user.run_with_stdin(
        None,
        &["login", "--host", &host, "--ca-cert", &ca],
        &format!("{}\n", server.token),
    )?;
    assert!(login.ok, "{}", login.text());
    assert_eq!(login.stdout, "Logged in as admin@localhost\n");
    let text = std::fs::read_to_string(&netrc)?;
    assert_eq!(
        text,
        format!(
            "{theirs}machine localhost\n  login admin@localhost\n  password {}\n",
            server.token
        )
    );
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&netrc)?.permissions().mode() & 0o777,
            0o600
        );
    }

    // git:remote + push through the remote: the credential helper hands git the token.
    let repo = create_and_push(&user, "cliapp")?;
    let git_config = std::fs::read_to_string(repo.path().join(".git/config"))?;
    assert!(
        !git_config.contains(&server.token),
        "the token must stay out of .git/config:\n{git_config}"
    );
    assert!(git_config.contains("git:credentials"), "{git_config}");
    assert!(served(&server, "cliapp-staging")?.contains("greeting=none"));

    // The staging remote lets -a be omitted... once production's remote is gone.
    let out = user.run_in(Some(repo.path()), &["releases"])?;
    assert!(
        !out.ok && out.stderr.contains("-r REMOTE"),
        "{}",
        out.text()
    );
    let out = user.ok_in(Some(repo.path()), &["releases", "-r", "staging"])?;
    assert!(
        out.stdout
            .starts_with("=== cliapp-staging Releases - Current: v1\nv1  Deploy "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("admin@localhost"), "{}", out.stdout);

    // --json prints the API's types.
    let releases: Vec<api::releases::Release> = user.json(&["releases", "-a", "cliapp-staging"])?;
    assert_eq!(releases.len(), 1);
    assert!(releases[0].current);
    let apps: Vec<api::apps::App> = user.json(&["apps"])?;
    assert_eq!(apps.len(), 2);
    let both: serde_json::Map<String, serde_json::Value> =
        user.json(&["apps:info", "-p", "cliapp"])?;
    let prod: api::apps::App = serde_json::from_value(both["cliapp"].clone())?;
    assert_eq!(prod.doppel.stage, "production");
    let who: api::account::Account = user.json(&["auth:whoami"])?;
    assert!(who.doppel.admin);

    let listing = user.ok(&["apps"])?.stdout;
    assert!(
        listing.contains("cliapp\n  staging     cliapp-staging"),
        "{listing}"
    );
    let info = user.ok(&["apps:info", "-a", "cliapp-staging"])?.stdout;
    assert!(info.contains("cliapp (staging, private)"), "{info}");

    // Errors: the message, what to do, exit code 1; usage errors exit 2.
    let out = user.run(&["apps:info", "-a", "nosuchapp"])?;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("Couldn't find that app") && out.stderr.contains("doppel apps"),
        "{}",
        out.stderr
    );
    let out = user.run(&["config:set", "NOEQUALS", "-a", "cliapp-staging"])?;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("not KEY=VALUE"), "{}", out.stderr);
    let out = user.run(&["rollback", "-p", "cliapp"])?;
    assert!(
        !out.ok && out.stderr.contains("use -a cliapp-staging or -a cliapp"),
        "{}",
        out.stderr
    );
    let out = user.run(&["ps:scale", "-a"])?;
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = user.run(&["apps:destroy", "cliapp"])?;
    assert!(
        !out.ok && out.stderr.contains("--confirm cliapp"),
        "{}",
        out.stderr
    );

    // Completions cover the client commands and the server's.
    for shell in ["bash", "zsh", "fish"] {
        let out = user.ok(&["completions", shell])?;
        assert!(
            out.stdout.contains("config:set") && out.stdout.contains("server"),
            "{shell}"
        );
    }

    // Logout removes only doppel's entry; later commands say how to log in.
    let out = user.ok(&["logout"])?;
    assert_eq!(out.stdout, format!("Logged out of {host}\n"));
    assert_eq!(std::fs::read_to_string(&netrc)?, theirs);
    let out = user.run(&["apps"])?;
    assert!(
        !out.ok && out.stderr.contains("doppel login"),
        "{}",
        out.stderr
    );

    // With no ~/.netrc entry left for curl to find, a push authenticates only through the
    // credential helper: with DOPPEL_API_KEY it works, without it git is refused.
    std::fs::write(repo.path().join("README"), "second commit\n")?;
    user.git(repo.path(), &["add", "README"])?;
    user.git(repo.path(), &["commit", "-qm", "second"])?;
    let refused = user.git(repo.path(), &["push", "staging", "main"])?;
    assert!(
        !refused.ok,
        "a push without any token must fail:\n{}",
        refused.text()
    );
    assert!(
        refused.stderr.contains("doppel login --host"),
        "the helper says why: {}",
        refused.stderr
    );
    let pushed = user.git_env(
        repo.path(),
        &["push", "staging", "main"],
        &[("DOPPEL_API_KEY", &server.token)],
    )?;
    assert!(
        pushed.ok,
        "push through the helper failed:\n{}\n{}",
        pushed.text(),
        server.log()
    );
    assert!(pushed.stderr.contains("Released v2"), "{}", pushed.stderr);
    assert!(
        !server.log().contains(&server.token),
        "the token leaked into the log"
    );
    Ok(())
}

#[test]
fn config_releases_and_rollback() -> Result<()> {
    let server = Server::start()?;
    let user = User::login(&server, &server.token)?;
    let repo = create_and_push(&user, "cfgapp")?;

    // config:set makes a release, waits for it, and the dynos see the value.
    let out = user.ok(&["config:set", "GREETING=hello", "-a", "cfgapp-staging"])?;
    assert_eq!(
        out.stderr,
        "Setting GREETING and restarting cfgapp-staging... done, v2\n"
    );
    assert_eq!(out.stdout, "GREETING: hello\n");
    assert!(served(&server, "cfgapp-staging")?.contains("greeting=hello"));
    assert_eq!(
        user.ok(&["config:get", "GREETING", "-a", "cfgapp-staging"])?
            .stdout,
        "hello\n"
    );

    // -p: both environments, one release each.
    let out = user.ok(&["config:set", "SHARED=1", "-p", "cfgapp"])?;
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("Setting SHARED and restarting cfgapp-staging... done, v3"),
        "{}",
        out.stderr
    );
    assert!(
        lines
            .get(1)
            .is_some_and(|l| l.starts_with("Setting SHARED and restarting cfgapp... done")),
        "{}",
        out.stderr
    );
    let both: serde_json::Map<String, serde_json::Value> =
        user.json(&["config", "-p", "cfgapp"])?;
    assert_eq!(both["cfgapp"]["SHARED"], "1");
    assert_eq!(both["cfgapp-staging"]["GREETING"], "hello");
    let shown = user.ok(&["config", "-a", "cfgapp-staging"])?.stdout;
    assert_eq!(
        shown,
        "=== cfgapp-staging Config Vars\nGREETING: hello\nSHARED:   1\n"
    );

    let out = user.ok(&["config:unset", "SHARED", "-a", "cfgapp-staging"])?;
    assert_eq!(
        out.stderr,
        "Unsetting SHARED and restarting cfgapp-staging... done, v4\n"
    );

    let listing = user.ok(&["releases", "-a", "cfgapp-staging"])?.stdout;
    assert!(
        listing.starts_with("=== cfgapp-staging Releases - Current: v4\n"),
        "{listing}"
    );
    let info = user
        .ok(&["releases:info", "v2", "-a", "cfgapp-staging"])?
        .stdout;
    assert!(
        info.starts_with("=== Release v2\n") && info.contains("GREETING: hello"),
        "{info}"
    );

    // rollback (to v3 by default) brings back SHARED and the code; the app serves it.
    let out = user.ok(&["rollback", "-a", "cfgapp-staging"])?;
    assert!(
        out.stderr
            .starts_with("Rolling back cfgapp-staging to v3... done, v5\n"),
        "{}",
        out.stderr
    );
    assert_eq!(
        user.ok(&["config:get", "SHARED", "-a", "cfgapp-staging"])?
            .stdout,
        "1\n"
    );
    let out = user.ok(&["rollback", "v1", "-a", "cfgapp-staging"])?;
    assert!(
        out.stderr
            .starts_with("Rolling back cfgapp-staging to v1... done, v6\n"),
        "{}",
        out.stderr
    );
    assert!(served(&server, "cfgapp-staging")?.contains("greeting=none"));

    drop(repo);
    Ok(())
}

#[test]
fn ps_scale_and_restart() -> Result<()> {
    let server = Server::start()?;
    let user = User::login(&server, &server.token)?;
    let repo = create_and_push(&user, "psapp")?;

    // ps, ps:scale (waits for the dynos), ps:restart.
    let ps = user.ok(&["ps", "-a", "psapp-staging"])?.stdout;
    assert!(
        ps.starts_with("=== web (") && ps.contains("web.1: up"),
        "{ps}"
    );
    let out = user.ok(&["ps:scale", "web=2", "-a", "psapp-staging"])?;
    assert!(
        out.stderr.contains("done, now running web at 2:"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Waiting for web dynos of psapp-staging... done, 2 up"),
        "{}",
        out.stderr
    );
    let dynos: Vec<api::dynos::Dyno> = user.json(&["ps", "-a", "psapp-staging"])?;
    assert_eq!(
        dynos
            .iter()
            .filter(|d| d.process_type == "web" && d.state == "up")
            .count(),
        2
    );
    assert_eq!(server.dyno_ids("psapp-staging")?.len(), 2);
    let before = server.dyno_ids("psapp-staging")?;
    let out = user.ok(&["ps:restart", "web", "-a", "psapp-staging"])?;
    assert!(
        out.stderr
            .contains("Restarting web dynos of psapp-staging... done"),
        "{}",
        out.stderr
    );
    // The CLI answers once the new dynos are up; the old containers drain (SIGTERM, up to
    // 30 s) and are removed behind it.
    let replaced = doppel_e2e::wait_for(60, || {
        let now = server.dyno_ids("psapp-staging")?;
        Ok(now.len() == 2 && now.iter().all(|id| !before.contains(id)))
    })?;
    let after = server.dyno_ids("psapp-staging")?;
    assert!(
        replaced,
        "restart replaces the containers: {before:?} {after:?}"
    );
    let out = user.ok(&["ps:scale", "web=1", "-a", "psapp-staging"])?;
    assert!(out.stderr.contains("done, 1 up"), "{}", out.stderr);
    drop(repo);
    Ok(())
}

#[test]
fn domains_maintenance_access_and_users() -> Result<()> {
    let server = Server::start()?;
    let admin = User::login(&server, &server.token)?;
    admin.ok(&["apps:create", "teamapp"])?;

    let out = admin.ok(&["domains:add", "www.example.com", "-a", "teamapp"])?;
    assert_eq!(out.stderr, "Adding www.example.com to teamapp... done\n");
    let listing = admin.ok(&["domains", "-a", "teamapp"])?.stdout;
    assert!(listing.contains("www.example.com  CNAME"), "{listing}");
    let domains: Vec<api::domains::Domain> = admin.json(&["domains", "-a", "teamapp"])?;
    assert!(domains
        .iter()
        .any(|d| d.hostname == "www.example.com" && d.kind == "custom"));
    admin.ok(&["domains:remove", "www.example.com", "-a", "teamapp"])?;
    let domains: Vec<api::domains::Domain> = admin.json(&["domains", "-a", "teamapp"])?;
    assert!(!domains.iter().any(|d| d.hostname == "www.example.com"));

    let out = admin.ok(&["maintenance:on", "-p", "teamapp"])?;
    assert_eq!(out.stderr, "Enabling maintenance mode for teamapp-staging... done\nEnabling maintenance mode for teamapp... done\n");
    assert_eq!(admin.ok(&["maintenance", "-a", "teamapp"])?.stdout, "on\n");
    admin.ok(&["maintenance:off", "-a", "teamapp"])?;
    assert_eq!(
        admin.ok(&["maintenance", "-p", "teamapp"])?.stdout,
        "teamapp-staging: on\nteamapp: off\n"
    );

    // users:create prints the token once; the new user logs in with it.
    let out = admin.ok(&["users:create", "dev@example.com"])?;
    let token = out
        .stdout
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.contains(' '))
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no token in {}", out.stdout))?;
    assert!(out.stdout.contains("doppel login --host"), "{}", out.stdout);
    let dev = User::login(&server, &token)?;
    assert_eq!(dev.ok(&["auth:whoami"])?.stdout, "dev@example.com\n");
    let out = dev.run(&["apps:info", "-a", "teamapp-staging"])?;
    assert!(
        !out.ok && out.stderr.contains("members see only"),
        "{}",
        out.text()
    );

    // access:add -a: staging only; the member sees staging, not production.
    let out = admin.ok(&["access:add", "dev@example.com", "-a", "teamapp-staging"])?;
    assert_eq!(
        out.stderr,
        "Adding dev@example.com to teamapp-staging only... done\n"
    );
    dev.ok(&["apps:info", "-a", "teamapp-staging"])?;
    assert!(!dev.run(&["apps:info", "-a", "teamapp"])?.ok);
    let access = admin.ok(&["access", "-a", "teamapp-staging"])?.stdout;
    assert!(access.contains("dev@example.com"), "{access}");
    let collaborators: Vec<api::collaborators::Collaborator> =
        admin.json(&["access", "-a", "teamapp-staging"])?;
    assert!(collaborators
        .iter()
        .any(|c| c.user.email == "dev@example.com"));

    // access:add -p: both; access:remove -p: neither.
    admin.ok(&["access:add", "dev@example.com", "-p", "teamapp"])?;
    dev.ok(&["apps:info", "-a", "teamapp"])?;
    admin.ok(&["access:remove", "dev@example.com", "-p", "teamapp"])?;
    assert!(!dev.run(&["apps:info", "-a", "teamapp"])?.ok);
    assert!(!dev.run(&["apps:info", "-a", "teamapp-staging"])?.ok);

    // A member cannot create users.
    let out = dev.run(&["users:create", "x@example.com"])?;
    assert!(!out.ok, "{}", out.text());
    Ok(())
}

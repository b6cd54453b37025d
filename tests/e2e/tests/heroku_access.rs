//! A team's daily work with the tools it already has, against a live doppel: the official
//! Heroku CLI (v10 and v11) and heroku3 drive custom domains (curl reaches the app by its
//! custom host name), maintenance mode (503 H80 while the dyno keeps running), the app's own
//! error and maintenance pages (`ERROR_PAGE_URL`, `MAINTENANCE_PAGE_URL`), stacks,
//! access, accounts and tokens (a revoked token stops working for the API, git and staging),
//! labs, regions, the refused rename and apps:destroy. Members see only their own apps.

use anyhow::{bail, Result};
use doppel_e2e::{wait_for, AppRepo, HerokuCli, Ran, Server};
use std::process::Command;

/// `curl https://<host>:<port>/` through the router with `--resolve` (so `host` needs no
/// DNS), optionally with a Basic password. Custom domains get the platform's fallback
/// certificate until certificates for them exist, so TLS is not verified here.
fn get_by_host(server: &Server, host: &str, password: Option<&str>) -> Result<(u16, String)> {
    let port = server.https_port;
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "-k",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "--max-time",
        "30",
    ])
    .args(["--resolve", &format!("{host}:{port}:127.0.0.1")]);
    if let Some(p) = password {
        cmd.args(["-u", &format!(":{p}")]);
    }
    cmd.arg(format!("https://{host}:{port}/"));
    status_and_body(&cmd.output()?)
}

fn status_and_body(out: &std::process::Output) -> Result<(u16, String)> {
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let Some((body, code)) = text.rsplit_once('\n') else {
        bail!(
            "curl gave no status: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Ok((code.trim().parse()?, body.to_string()))
}

/// An API call with another user's token.
fn api_as(server: &Server, token: &str, method: &str, path: &str) -> Result<(u16, String)> {
    let out = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method])
        .arg("--cacert")
        .arg(server.ca())
        .args(["-H", "Accept: application/vnd.heroku+json; version=3"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{}{path}", server.platform_url()))
        .output()?;
    status_and_body(&out)
}

/// Whether `git ls-remote` of `env` succeeds with `token` as the Basic password.
fn git_reads(server: &Server, env: &str, token: &str) -> Result<bool> {
    let url = format!(
        "https://git:{token}@localhost:{}/{env}.git",
        server.https_port
    );
    let out = Command::new("git")
        .args(["ls-remote", &url])
        .env("GIT_SSL_CAINFO", server.ca())
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()?;
    Ok(out.status.success())
}

/// Creates a user through `POST /users` as the admin; returns its first token.
fn create_user(server: &Server, email: &str) -> Result<String> {
    let (status, body) = server.api(
        "POST",
        "/users",
        Some(&serde_json::json!({ "email": email })),
    )?;
    if status != 201 {
        bail!("creating {email}: {status} {body}");
    }
    Ok(body["token"].as_str().unwrap_or_default().to_string())
}

fn has_line(ran: &Ran, wanted: &str) -> bool {
    ran.stdout.lines().any(|l| l.trim() == wanted)
}

/// The client's output as one line: the Heroku CLI wraps error messages and prefixes each
/// line with `›`.
fn unwrapped(text: &str) -> String {
    text.replace('›', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn fails_saying(ran: Ran, says: &str) -> Result<()> {
    if ran.success {
        bail!("expected a failure saying {says:?}:\n{}", ran.text());
    }
    if !unwrapped(&ran.text()).contains(says) {
        bail!("the failure does not say {says:?}:\n{}", ran.text());
    }
    Ok(())
}

const SITE: &str = "site-staging";

/// Pushes `repo` to `env` and waits until it serves `needle`; returns the push output.
fn deploy(server: &Server, repo: &AppRepo, env: &str, needle: &str) -> Result<String> {
    let (ok, out) = repo.push(server, env, "main")?;
    assert!(ok, "push failed:\n{out}");
    assert!(server.wait_serves(env, needle, 90)?, "{}", server.log());
    Ok(out)
}

/// `domains:add`: the DNS target is shown, the list has it, curl reaches the app by it and
/// staging stays private under it.
fn custom_domain_reaches_the_app(server: &Server, cli: HerokuCli, host: &str) -> Result<()> {
    let ran = server
        .heroku(cli, &["domains:add", host, "-a", SITE])?
        .ok()?;
    assert!(
        ran.text().contains("site-staging.localhost"),
        "{cli:?}: the DNS target is the platform host name:\n{}",
        ran.text()
    );
    let ran = server.heroku(cli, &["domains", "-a", SITE])?.ok()?;
    assert!(
        ran.stdout.contains(host) && ran.stdout.contains("site-staging.localhost"),
        "{cli:?}: {}",
        ran.text()
    );
    let (status, body) = get_by_host(server, host, Some(&server.token))?;
    assert_eq!(status, 200, "{cli:?} {host}: {body}");
    assert!(body.contains("hello from static"), "{body}");
    let (status, _) = get_by_host(server, host, None)?;
    assert_eq!(
        status, 401,
        "{cli:?}: a custom domain skipped staging's auth"
    );
    Ok(())
}

/// `maintenance:on`: 503 with H80 by both names while the dyno keeps running; `:off` serves.
fn maintenance_keeps_the_dyno(
    server: &Server,
    cli: HerokuCli,
    host: &str,
    dynos: &[String],
) -> Result<()> {
    let token = &server.token;
    server.heroku(cli, &["maintenance:on", "-a", SITE])?.ok()?;
    let ran = server.heroku(cli, &["maintenance", "-a", SITE])?.ok()?;
    assert!(has_line(&ran, "on"), "{cli:?}: {}", ran.text());
    for (status, body) in [
        server.get(&server.env_url(SITE), Some(token))?,
        get_by_host(server, host, Some(token))?,
    ] {
        assert_eq!(status, 503, "{cli:?}: {body}");
        assert!(body.contains("H80"), "{cli:?}: {body}");
    }
    assert_eq!(
        server.dyno_ids(SITE)?,
        dynos,
        "{cli:?}: the dyno must keep running in maintenance"
    );
    server.heroku(cli, &["maintenance:off", "-a", SITE])?.ok()?;
    let ran = server.heroku(cli, &["maintenance", "-a", SITE])?.ok()?;
    assert!(has_line(&ran, "off"), "{cli:?}: {}", ran.text());
    let (status, body) = server.get(&server.env_url(SITE), Some(token))?;
    assert_eq!(status, 200, "{cli:?}: {body}");
    Ok(())
}

/// Heroku's `ERROR_PAGE_URL` and `MAINTENANCE_PAGE_URL`: the router's 503 pages frame the
/// app's own pages (status and H-code kept), in maintenance mode and with no web dyno (H14);
/// unset, the router's own pages come back.
fn custom_pages_are_framed(server: &Server, cli: HerokuCli) -> Result<()> {
    let token = &server.token;
    let url = server.env_url(SITE);
    let page_with = |wanted: &str| -> Result<bool> {
        let (status, body) = server.get(&url, Some(token))?;
        Ok(status == 503 && body.contains(wanted))
    };
    server
        .heroku(
            cli,
            &[
                "config:set",
                "ERROR_PAGE_URL=https://pages.example/error.html",
                "MAINTENANCE_PAGE_URL=https://pages.example/down.html?a=1&b=2",
                "-a",
                SITE,
            ],
        )?
        .ok()?;
    server.heroku(cli, &["maintenance:on", "-a", SITE])?.ok()?;
    let framed = "<iframe src=\"https://pages.example/down.html?a=1&amp;b=2\"";
    let maintenance = wait_for(30, || page_with(framed))?;
    assert!(maintenance, "{:?}", server.get(&url, Some(token))?);
    server.heroku(cli, &["maintenance:off", "-a", SITE])?.ok()?;
    server
        .heroku(cli, &["ps:scale", "web=0", "-a", SITE])?
        .ok()?;
    let no_web = wait_for(30, || {
        page_with("<iframe src=\"https://pages.example/error.html\"")
    })?;
    assert!(no_web, "{:?}", server.get(&url, Some(token))?);
    server
        .heroku(cli, &["ps:scale", "web=1", "-a", SITE])?
        .ok()?;
    server
        .heroku(
            cli,
            &[
                "config:unset",
                "ERROR_PAGE_URL",
                "MAINTENANCE_PAGE_URL",
                "-a",
                SITE,
            ],
        )?
        .ok()?;
    let serving = wait_for(120, || {
        let (status, body) = server.get(&url, Some(token))?;
        Ok(status == 200 && !body.contains("iframe"))
    })?;
    assert!(serving, "{:?}", server.get(&url, Some(token))?);
    Ok(())
}

/// `domains:remove` stops routing the name; bad input is refused with the reason and
/// changes nothing.
fn removed_domain_and_bad_input(server: &Server, cli: HerokuCli, host: &str) -> Result<()> {
    server
        .heroku(cli, &["domains:remove", host, "-a", SITE])?
        .ok()?;
    let (status, body) = get_by_host(server, host, Some(&server.token))?;
    assert_eq!(status, 404, "{cli:?}: {body}");
    assert!(body.contains("No such app"), "{body}");
    for (args, says) in [
        (["domains:add", "https://x.example.com"], "is a URL"),
        (
            ["domains:add", "x.site-staging.localhost"],
            "belong to doppel",
        ),
        (
            ["domains:remove", "site-staging.localhost"],
            "cannot be removed",
        ),
    ] {
        let ran = server.heroku(cli, &[args[0], args[1], "-a", SITE])?;
        fails_saying(ran, says)?;
    }
    let ran = server.heroku(cli, &["domains", "-a", SITE])?.ok()?;
    assert!(!ran.stdout.contains("example.com"), "{}", ran.text());
    let ran = server.heroku(cli, &["stack", "-a", SITE])?.ok()?;
    assert!(
        ran.stdout.contains("* debian-testing") && ran.stdout.contains("debian-12"),
        "{cli:?}: {}",
        ran.text()
    );
    Ok(())
}

/// `stack:set` moves the next build only; the next push builds on the new stack.
fn stack_set_moves_the_next_build(server: &Server, repo: &AppRepo) -> Result<()> {
    let ran = server
        .heroku(HerokuCli::V11, &["stack:set", "heroku-24", "-a", SITE])?
        .ok()?;
    assert!(
        ran.text().contains("You will need to redeploy"),
        "{}",
        ran.text()
    );
    let ran = server
        .heroku(HerokuCli::V10, &["stack", "-a", SITE])?
        .ok()?;
    assert!(
        ran.stdout.contains("* debian-testing")
            && ran.stdout.contains("debian-12 (active on next deploy)"),
        "{}",
        ran.text()
    );
    let ran = server.heroku(HerokuCli::V10, &["stack:set", "cedar-14", "-a", SITE])?;
    fails_saying(
        ran,
        "debian-12 (alias heroku-24), debian-13, debian-testing",
    )?;
    let (_, production) = server.api("GET", "/apps/site", None)?;
    assert_eq!(
        production["build_stack"]["name"], "debian-testing",
        "production moved"
    );

    std::fs::write(
        repo.path().join("index.html"),
        "<p>hello again from static</p>\n",
    )?;
    repo.commit_all("second")?;
    let out = deploy(server, repo, SITE, "hello again")?;
    assert!(
        out.to_ascii_lowercase()
            .contains("building on the debian-12 stack"),
        "{out}"
    );
    let ran = server
        .heroku(HerokuCli::V11, &["stack", "-a", SITE])?
        .ok()?;
    assert!(ran.stdout.contains("* debian-12"), "{}", ran.text());
    let ran = server
        .heroku(HerokuCli::V11, &["apps:info", "-a", SITE])?
        .ok()?;
    assert!(ran.stdout.contains("debian-12"), "{}", ran.text());
    Ok(())
}

#[test]
fn heroku_cli_custom_domains_maintenance_and_stacks() -> Result<()> {
    let server = Server::start()?;
    server.create_app("site")?;
    let repo = AppRepo::from_fixture("static")?;
    deploy(&server, &repo, SITE, "hello from static")?;
    let dynos = server.dyno_ids(SITE)?;
    assert_eq!(dynos.len(), 1, "{dynos:?}");
    for (cli, host) in [
        (HerokuCli::V10, "www.ten.example.com"),
        (HerokuCli::V11, "www.eleven.example.com"),
    ] {
        custom_domain_reaches_the_app(&server, cli, host)?;
        maintenance_keeps_the_dyno(&server, cli, host, &dynos)?;
        removed_domain_and_bad_input(&server, cli, host)?;
    }
    custom_pages_are_framed(&server, HerokuCli::V11)?;
    stack_set_moves_the_next_build(&server, &repo)
}

/// The admin grants staging to the member with `access:add`; the lists, whoami, regions,
/// labs and the refused rename work with both CLIs.
fn grants_and_platform_lists(server: &Server) -> Result<()> {
    for cli in HerokuCli::ALL {
        server
            .heroku(
                cli,
                &["access:add", "member@example.com", "-a", "team-staging"],
            )?
            .ok()?;
        let ran = server
            .heroku(cli, &["access", "-a", "team-staging"])?
            .ok()?;
        assert!(
            ran.stdout.contains("member@example.com")
                && ran.stdout.contains("admin@localhost")
                && ran.stdout.contains("owner"),
            "{cli:?}: {}",
            ran.text()
        );
        let ran = server.heroku(cli, &["access", "-a", "team"])?.ok()?;
        assert!(
            !ran.stdout.contains("member@example.com"),
            "{cli:?}: only staging was granted: {}",
            ran.text()
        );
        let ran = server.heroku(cli, &["access:add", "nobody@example.com", "-a", "team"])?;
        fails_saying(ran, "users:create")?;
        let ran = server.heroku(cli, &["auth:whoami"])?.ok()?;
        assert!(ran.stdout.contains("admin@localhost"), "{}", ran.text());
        let ran = server.heroku(cli, &["regions"])?.ok()?;
        assert!(ran.stdout.contains("local"), "{cli:?}: {}", ran.text());
        let ran = server.heroku(cli, &["labs"])?.ok()?;
        assert!(
            ran.stdout.contains("admin@localhost"),
            "{cli:?}: {}",
            ran.text()
        );
        server.heroku(cli, &["labs", "-a", "team"])?.ok()?;
        let ran = server.heroku(cli, &["apps:rename", "renamed", "-a", "team"])?;
        fails_saying(ran, "cannot rename")?;
    }
    Ok(())
}

/// The member sees only the environment granted; other apps are not found, through the CLI,
/// git and staging's Basic auth.
fn member_sees_only_their_app(server: &Server, member: &str) -> Result<()> {
    for cli in HerokuCli::ALL {
        let ran = server.heroku_as(cli, Some(member), &["apps"])?.ok()?;
        assert!(
            ran.stdout.contains("team-staging"),
            "{cli:?}: {}",
            ran.text()
        );
        assert!(!ran.stdout.contains("other"), "{cli:?}: {}", ran.text());
        let ran = server
            .heroku_as(cli, Some(member), &["auth:whoami"])?
            .ok()?;
        assert!(ran.stdout.contains("member@example.com"), "{}", ran.text());
        let ran = server.heroku_as(cli, Some(member), &["apps:info", "-a", "other"])?;
        fails_saying(ran, "Couldn't find that app")?;
        let args = ["access:add", "admin@localhost", "-a", "team-staging"];
        fails_saying(
            server.heroku_as(cli, Some(member), &args)?,
            "Only the owner",
        )?;
    }
    // 503: admitted, nothing released yet.
    let (status, _) = server.get(&server.env_url("team-staging"), Some(member))?;
    assert_eq!(status, 503);
    let (status, _) = server.get(&server.env_url("other-staging"), Some(member))?;
    assert_eq!(status, 401, "staging of another app admitted a member");
    assert!(git_reads(server, "team-staging", member)?);
    assert!(!git_reads(server, "other-staging", member)?);
    Ok(())
}

/// A new token works for the API, git and staging; revoked, it stops working everywhere.
fn tokens_are_revocable_everywhere(server: &Server) -> Result<()> {
    let args = ["authorizations:create", "-d", "e2e deploy key", "--json"];
    let ran = server.heroku(HerokuCli::V11, &args)?.ok()?;
    let auth: serde_json::Value = serde_json::from_str(ran.stdout.trim())
        .map_err(|e| anyhow::anyhow!("{e}: {}", ran.text()))?;
    let token = auth["access_token"]["token"].as_str().unwrap_or_default();
    let id = auth["id"].as_str().unwrap_or_default();
    assert!(!token.is_empty() && !id.is_empty(), "{auth}");
    let args = ["authorizations:create", "-d", "short one", "--short"];
    let ran = server.heroku(HerokuCli::V10, &args)?.ok()?;
    assert!(ran.stdout.trim().starts_with("dpl_"), "{}", ran.text());

    let (status, body) = api_as(server, token, "GET", "/account")?;
    assert_eq!(status, 200, "{body}");
    assert!(git_reads(server, "other-staging", token)?);
    let (status, _) = server.get(&server.env_url("other-staging"), Some(token))?;
    assert_eq!(status, 503);
    let ran = server
        .heroku(HerokuCli::V10, &["authorizations:revoke", id])?
        .ok()?;
    assert!(ran.text().contains("e2e deploy key"), "{}", ran.text());
    let (status, _) = api_as(server, token, "GET", "/account")?;
    assert_eq!(status, 401);
    assert!(!git_reads(server, "other-staging", token)?);
    let (status, _) = server.get(&server.env_url("other-staging"), Some(token))?;
    assert_eq!(status, 401);
    let args = ["authorizations:create", "--expires-in", "60"];
    fails_saying(server.heroku(HerokuCli::V11, &args)?, "do not expire")
}

/// `access:remove` takes the environment away again; `apps:destroy` removes both
/// environments of an app, named by either.
fn remove_access_and_destroy(server: &Server, member: &str) -> Result<()> {
    let args = ["access:remove", "member@example.com", "-a", "team-staging"];
    server.heroku(HerokuCli::V10, &args)?.ok()?;
    let ran = server
        .heroku_as(HerokuCli::V11, Some(member), &["apps"])?
        .ok()?;
    assert!(!ran.stdout.contains("team-staging"), "{}", ran.text());
    let (status, _) = server.get(&server.env_url("team-staging"), Some(member))?;
    assert_eq!(status, 401);

    // Each environment's repository is `<data-dir>/repos/<env>.git`, made with the app and
    // removed with it (it once was `<env>.git.git`, and destroying left the real one behind).
    let repos = server.data_dir.join("repos");
    for env in ["other", "other-staging"] {
        assert!(repos.join(format!("{env}.git/HEAD")).is_file(), "{env}");
        assert!(!repos.join(format!("{env}.git.git")).exists(), "{env}");
    }
    let args = ["apps:destroy", "-a", "other", "--confirm", "other"];
    server.heroku(HerokuCli::V11, &args)?.ok()?;
    for env in ["other", "other-staging"] {
        let (status, _) = server.api("GET", &format!("/apps/{env}"), None)?;
        assert_eq!(status, 404, "{env}");
        assert!(!repos.join(format!("{env}.git")).exists(), "{env}");
    }
    let args = ["apps:destroy", "team-staging", "--confirm", "team-staging"];
    server.heroku(HerokuCli::V10, &args)?.ok()?;
    let (_, apps) = server.api("GET", "/apps", None)?;
    assert_eq!(apps, serde_json::json!([]));
    Ok(())
}

#[test]
fn heroku_cli_access_accounts_and_tokens() -> Result<()> {
    let server = Server::start()?;
    server.create_app("team")?;
    server.create_app("other")?;
    let member = create_user(&server, "member@example.com")?;
    grants_and_platform_lists(&server)?;
    member_sees_only_their_app(&server, &member)?;
    tokens_are_revocable_everywhere(&server)?;
    remove_access_and_destroy(&server, &member)
}

#[test]
fn heroku3_domains_maintenance_access_and_rename() -> Result<()> {
    let server = Server::start()?;
    server.create_app("pyapp")?;
    create_user(&server, "py@example.com")?;
    let token = server.token.clone();
    let ran = server
        .heroku3(
            "app = h.app('pyapp')\n\
             d = app.add_domain('www.py.example.com', None)\n\
             print('added', d.hostname, d.kind, d.cname)\n\
             print('domains', sorted((x.hostname, x.kind) for x in app.domains()))\n\
             app.enable_maintenance_mode()\n\
             print('maintenance', h.app('pyapp').maintenance)\n\
             c = app.add_collaborator('py@example.com')\n\
             print('collaborators', sorted(x.user.email for x in app.collaborators()))\n\
             print('features', list(app.features()), list(h.features()))\n\
             import requests\n\
             try:\n    app.rename('pynew')\n\
             except requests.HTTPError as e:\n    print('rename', e.response.status_code, e.response.json()['id'])\n",
        )?
        .ok()?;
    let out = ran.stdout.clone();
    assert!(
        out.contains("added www.py.example.com custom pyapp.localhost"),
        "{}",
        ran.text()
    );
    assert!(
        out.contains("('pyapp.localhost', 'heroku')")
            && out.contains("('www.py.example.com', 'custom')"),
        "{}",
        ran.text()
    );
    assert!(out.contains("maintenance True"), "{}", ran.text());
    assert!(
        out.contains("collaborators ['admin@localhost', 'py@example.com']"),
        "{}",
        ran.text()
    );
    assert!(
        out.contains("features [<app_feature 'http-session-affinity'>] []"),
        "{}",
        ran.text()
    );
    assert!(out.contains("rename 422 invalid_params"), "{}", ran.text());

    // Production is public: everyone gets the maintenance page, by either name.
    for (status, body) in [
        server.get(&server.env_url("pyapp"), None)?,
        get_by_host(&server, "www.py.example.com", None)?,
    ] {
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("H80"), "{body}");
    }

    let ran = server
        .heroku3(
            "app = h.app('pyapp')\n\
             app.disable_maintenance_mode()\n\
             print('maintenance', h.app('pyapp').maintenance)\n\
             app.remove_domain('www.py.example.com')\n\
             app.remove_collaborator('py@example.com')\n\
             print('domains', [x.hostname for x in app.domains()])\n\
             print('collaborators', [x.user.email for x in app.collaborators()])\n",
        )?
        .ok()?;
    assert!(ran.stdout.contains("maintenance False"), "{}", ran.text());
    assert!(
        ran.stdout.contains("domains ['pyapp.localhost']"),
        "{}",
        ran.text()
    );
    assert!(
        ran.stdout.contains("collaborators ['admin@localhost']"),
        "{}",
        ran.text()
    );
    let (status, body) = server.get(&server.env_url("pyapp"), None)?;
    assert_eq!(status, 503);
    assert!(
        body.contains("No release yet") && !body.contains("H80"),
        "{body}"
    );
    let (status, _) = get_by_host(&server, "www.py.example.com", Some(&token))?;
    assert_eq!(status, 404);

    let ran = server
        .heroku3("h.app('pyapp-staging').destroy()\nprint('apps', [a.name for a in h.apps()])\n")?
        .ok()?;
    assert!(ran.stdout.contains("apps []"), "{}", ran.text());
    Ok(())
}

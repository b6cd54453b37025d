//! A team's daily work with the tools it already has, against a live doppel: the official
//! Heroku CLI (v10 and v11) and heroku3 drive custom domains (curl reaches the app by its
//! custom host name), maintenance mode (503 H80 while the dyno keeps running), stacks,
//! access, accounts and tokens (a revoked token stops working for the API, git and staging),
//! labs, regions, the refused rename and apps:destroy. Members see only their own apps.

use anyhow::{bail, Result};
use doppel_e2e::{AppRepo, HerokuCli, Ran, Server};
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

#[test]
fn heroku_cli_custom_domains_maintenance_and_stacks() -> Result<()> {
    let server = Server::start()?;
    server.create_app("site")?;
    let repo = AppRepo::from_fixture("static")?;
    let (ok, out) = repo.push(&server, "site-staging", "main")?;
    assert!(ok, "push failed:\n{out}");
    assert!(
        server.wait_serves("site-staging", "hello from static", 90)?,
        "{}",
        server.log()
    );
    let dynos = server.dyno_ids("site-staging")?;
    assert_eq!(dynos.len(), 1, "{dynos:?}");
    let token = server.token.clone();
    let env_url = server.env_url("site-staging");

    for (cli, host) in [
        (HerokuCli::V10, "www.ten.example.com"),
        (HerokuCli::V11, "www.eleven.example.com"),
    ] {
        let ran = server
            .heroku(cli, &["domains:add", host, "-a", "site-staging"])?
            .ok()?;
        assert!(
            ran.text().contains("site-staging.localhost"),
            "{cli:?}: the DNS target is the platform host name:\n{}",
            ran.text()
        );
        let ran = server
            .heroku(cli, &["domains", "-a", "site-staging"])?
            .ok()?;
        assert!(
            ran.stdout.contains(host) && ran.stdout.contains("site-staging.localhost"),
            "{cli:?}: {}",
            ran.text()
        );
        let (status, body) = get_by_host(&server, host, Some(&token))?;
        assert_eq!(status, 200, "{cli:?} {host}: {body}");
        assert!(body.contains("hello from static"), "{body}");
        // Staging stays private under its custom name.
        let (status, _) = get_by_host(&server, host, None)?;
        assert_eq!(
            status, 401,
            "{cli:?}: a custom domain skipped staging's auth"
        );

        server
            .heroku(cli, &["maintenance:on", "-a", "site-staging"])?
            .ok()?;
        let ran = server
            .heroku(cli, &["maintenance", "-a", "site-staging"])?
            .ok()?;
        assert!(has_line(&ran, "on"), "{cli:?}: {}", ran.text());
        for (status, body) in [
            server.get(&env_url, Some(&token))?,
            get_by_host(&server, host, Some(&token))?,
        ] {
            assert_eq!(status, 503, "{cli:?}: {body}");
            assert!(body.contains("H80"), "{cli:?}: {body}");
        }
        assert_eq!(
            server.dyno_ids("site-staging")?,
            dynos,
            "{cli:?}: the dyno must keep running in maintenance"
        );
        server
            .heroku(cli, &["maintenance:off", "-a", "site-staging"])?
            .ok()?;
        let ran = server
            .heroku(cli, &["maintenance", "-a", "site-staging"])?
            .ok()?;
        assert!(has_line(&ran, "off"), "{cli:?}: {}", ran.text());
        let (status, body) = server.get(&env_url, Some(&token))?;
        assert_eq!(status, 200, "{cli:?}: {body}");

        server
            .heroku(cli, &["domains:remove", host, "-a", "site-staging"])?
            .ok()?;
        let (status, body) = get_by_host(&server, host, Some(&token))?;
        assert_eq!(status, 404, "{cli:?}: {body}");
        assert!(body.contains("No such app"), "{body}");

        // Bad input is refused with the reason, and nothing changes.
        let ran = server.heroku(
            cli,
            &["domains:add", "https://x.example.com", "-a", "site-staging"],
        )?;
        fails_saying(ran, "is a URL")?;
        let ran = server.heroku(
            cli,
            &[
                "domains:add",
                "x.site-staging.localhost",
                "-a",
                "site-staging",
            ],
        )?;
        fails_saying(ran, "platform's own domain")?;
        let ran = server.heroku(
            cli,
            &[
                "domains:remove",
                "site-staging.localhost",
                "-a",
                "site-staging",
            ],
        )?;
        fails_saying(ran, "cannot be removed")?;
        let ran = server
            .heroku(cli, &["domains", "-a", "site-staging"])?
            .ok()?;
        assert!(!ran.stdout.contains("example.com"), "{}", ran.text());

        let ran = server.heroku(cli, &["stack", "-a", "site-staging"])?.ok()?;
        assert!(
            ran.stdout.contains("* debian-testing") && ran.stdout.contains("debian-12"),
            "{cli:?}: {}",
            ran.text()
        );
    }

    // stack:set moves the next build; the running release keeps its stack until then.
    let ran = server
        .heroku(
            HerokuCli::V11,
            &["stack:set", "heroku-24", "-a", "site-staging"],
        )?
        .ok()?;
    assert!(
        ran.text().contains("You will need to redeploy"),
        "{}",
        ran.text()
    );
    let ran = server
        .heroku(HerokuCli::V10, &["stack", "-a", "site-staging"])?
        .ok()?;
    assert!(
        ran.stdout.contains("* debian-testing")
            && ran.stdout.contains("debian-12 (active on next deploy)"),
        "{}",
        ran.text()
    );
    let ran = server.heroku(
        HerokuCli::V10,
        &["stack:set", "cedar-14", "-a", "site-staging"],
    )?;
    fails_saying(
        ran,
        "debian-12 (alias heroku-24), debian-13, debian-testing",
    )?;
    // Production was not touched.
    let (_, production) = server.api("GET", "/apps/site", None)?;
    assert_eq!(production["build_stack"]["name"], "debian-testing");

    std::fs::write(
        repo.path().join("index.html"),
        "<p>hello again from static</p>\n",
    )?;
    repo.commit_all("second")?;
    let (ok, out) = repo.push(&server, "site-staging", "main")?;
    assert!(ok, "push failed:\n{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains("building on the debian-12 stack"),
        "{out}"
    );
    assert!(
        server.wait_serves("site-staging", "hello again", 90)?,
        "{}",
        server.log()
    );
    let ran = server
        .heroku(HerokuCli::V11, &["stack", "-a", "site-staging"])?
        .ok()?;
    assert!(ran.stdout.contains("* debian-12"), "{}", ran.text());
    let ran = server
        .heroku(HerokuCli::V11, &["apps:info", "-a", "site-staging"])?
        .ok()?;
    assert!(ran.stdout.contains("debian-12"), "{}", ran.text());
    Ok(())
}

#[test]
fn heroku_cli_access_accounts_and_tokens() -> Result<()> {
    let server = Server::start()?;
    server.create_app("team")?;
    server.create_app("other")?;
    let member = create_user(&server, "member@example.com")?;

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

    // The member sees only the environment granted; other apps are not found.
    for cli in HerokuCli::ALL {
        let ran = server.heroku_as(cli, Some(&member), &["apps"])?.ok()?;
        assert!(
            ran.stdout.contains("team-staging"),
            "{cli:?}: {}",
            ran.text()
        );
        assert!(!ran.stdout.contains("other"), "{cli:?}: {}", ran.text());
        let ran = server
            .heroku_as(cli, Some(&member), &["auth:whoami"])?
            .ok()?;
        assert!(ran.stdout.contains("member@example.com"), "{}", ran.text());
        let ran = server.heroku_as(cli, Some(&member), &["apps:info", "-a", "other"])?;
        fails_saying(ran, "Couldn't find that app")?;
        let ran = server.heroku_as(
            cli,
            Some(&member),
            &["access:add", "admin@localhost", "-a", "team-staging"],
        )?;
        fails_saying(ran, "Only the owner")?;
    }
    // Staging admits the member's token for its own app only (503: nothing released yet).
    let (status, _) = server.get(&server.env_url("team-staging"), Some(&member))?;
    assert_eq!(status, 503);
    let (status, _) = server.get(&server.env_url("other-staging"), Some(&member))?;
    assert_eq!(status, 401, "staging of another app admitted a member");
    assert!(git_reads(&server, "team-staging", &member)?);
    assert!(!git_reads(&server, "other-staging", &member)?);

    // A new token works for the API, git and staging; revoked, it stops working everywhere.
    let ran = server
        .heroku(
            HerokuCli::V11,
            &["authorizations:create", "-d", "e2e deploy key", "--json"],
        )?
        .ok()?;
    let auth: serde_json::Value = serde_json::from_str(ran.stdout.trim())
        .map_err(|e| anyhow::anyhow!("{e}: {}", ran.text()))?;
    let token = auth["access_token"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let id = auth["id"].as_str().unwrap_or_default().to_string();
    assert!(!token.is_empty() && !id.is_empty(), "{auth}");
    let ran = server
        .heroku(
            HerokuCli::V10,
            &["authorizations:create", "-d", "short one", "--short"],
        )?
        .ok()?;
    assert!(ran.stdout.trim().starts_with("dpl_"), "{}", ran.text());
    let (status, body) = api_as(&server, &token, "GET", "/account")?;
    assert_eq!(status, 200, "{body}");
    assert!(git_reads(&server, "other-staging", &token)?);
    let (status, _) = server.get(&server.env_url("other-staging"), Some(&token))?;
    assert_eq!(status, 503);
    let ran = server
        .heroku(HerokuCli::V10, &["authorizations:revoke", &id])?
        .ok()?;
    assert!(ran.text().contains("e2e deploy key"), "{}", ran.text());
    let (status, _) = api_as(&server, &token, "GET", "/account")?;
    assert_eq!(status, 401);
    assert!(!git_reads(&server, "other-staging", &token)?);
    let (status, _) = server.get(&server.env_url("other-staging"), Some(&token))?;
    assert_eq!(status, 401);
    let ran = server.heroku(
        HerokuCli::V11,
        &["authorizations:create", "--expires-in", "60"],
    )?;
    fails_saying(ran, "do not expire")?;

    // access:remove takes the environment away again.
    server
        .heroku(
            HerokuCli::V10,
            &["access:remove", "member@example.com", "-a", "team-staging"],
        )?
        .ok()?;
    let ran = server
        .heroku_as(HerokuCli::V11, Some(&member), &["apps"])?
        .ok()?;
    assert!(!ran.stdout.contains("team-staging"), "{}", ran.text());
    let (status, _) = server.get(&server.env_url("team-staging"), Some(&member))?;
    assert_eq!(status, 401);

    // apps:destroy removes both environments.
    server
        .heroku(
            HerokuCli::V11,
            &["apps:destroy", "-a", "other", "--confirm", "other"],
        )?
        .ok()?;
    for env in ["other", "other-staging"] {
        let (status, _) = server.api("GET", &format!("/apps/{env}"), None)?;
        assert_eq!(status, 404, "{env}");
    }
    let ran = server.heroku(
        HerokuCli::V10,
        &["apps:destroy", "team-staging", "--confirm", "team-staging"],
    )?;
    ran.ok()?;
    let (_, apps) = server.api("GET", "/apps", None)?;
    assert_eq!(apps, serde_json::json!([]));
    Ok(())
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
    assert!(out.contains("features [] []"), "{}", ran.text());
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

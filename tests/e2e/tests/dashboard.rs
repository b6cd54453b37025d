//! The web dashboard in a real headless Chromium (Debian's chromium and chromium-driver)
//! against a live doppel with the real Docker engine and git: a wrong password refused and
//! the admin's first password (from `<data-dir>/admin-password`) accepted; the apps page; the
//! pipeline view with both environments; a promotion refused with the missing config key
//! shown; the key set from production's config page; the promotion succeeding with production
//! then serving; production's log tailing a line the app printed after the page opened; a
//! rollback from the releases page; user-written text with `<script>` (a config value, a log
//! line) shown escaped and never run; a member who does not see another app; signing out ending the
//! session. With `DOPPEL_DASHBOARD_SCREENSHOTS=<dir>` the main pages are saved there as PNGs
//! (docs/dashboard/ holds the kept ones).

use std::path::PathBuf;
use std::process::Output;

use anyhow::{bail, Result};
use doppel_e2e::browser::Browser;
use doppel_e2e::{AppRepo, Server};

/// A small web app on the local stack image: answers `release <VERSION> greeting=<GREETING>`.
fn greeter(version: &str) -> Result<AppRepo> {
    let server_py = r#"import http.server, os
VERSION = open("/srv/VERSION").read().strip()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"release {VERSION} greeting={os.environ.get('GREETING', '-')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print(f"served {self.path} greeting={os.environ.get('GREETING', '-')}", flush=True)
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"#;
    AppRepo::from_files(&[
        (
            "Dockerfile",
            b"FROM doppel/heroku-24\nCOPY server.py VERSION /srv/\nCMD [\"sh\", \"-c\", \"exec python3 /srv/server.py\"]\n",
        ),
        ("server.py", server_py.as_bytes()),
        ("VERSION", version.as_bytes()),
    ])
}

fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out: Output = server.cli(args)?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "doppel {args:?} failed:\n{stdout}{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log()
        );
    }
    Ok(stdout)
}

fn dashboard(server: &Server) -> String {
    format!("https://dashboard.localhost:{}", server.https_port)
}

/// Where screenshots go, when asked for.
fn shots() -> Option<PathBuf> {
    std::env::var_os("DOPPEL_DASHBOARD_SCREENSHOTS").map(PathBuf::from)
}

fn shot(browser: &Browser, name: &str) -> Result<()> {
    if let Some(dir) = shots() {
        std::fs::create_dir_all(&dir)?;
        browser.screenshot(&dir.join(format!("{name}.png")))?;
    }
    Ok(())
}

fn sign_in(browser: &Browser, server: &Server, email: &str, password: &str) -> Result<()> {
    browser.goto(&format!("{}/login", dashboard(server)))?;
    browser.fill("#email", email)?;
    browser.fill("#password", password)?;
    browser.click("form[action='/login'] button")?;
    Ok(())
}

fn releases(server: &Server, env: &str) -> Result<Vec<serde_json::Value>> {
    let (status, list) = server.api("GET", &format!("/apps/{env}/releases"), None)?;
    if status != 200 && status != 206 {
        bail!("releases of {env}: {status} {list}");
    }
    Ok(list.as_array().cloned().unwrap_or_default())
}

fn release_descriptions(server: &Server, env: &str) -> Result<Vec<String>> {
    Ok(releases(server, env)?
        .iter()
        .map(|r| r["description"].as_str().unwrap_or_default().to_string())
        .collect())
}

/// Waits until `env` has `count` releases, the last one succeeded; returns the descriptions.
fn wait_release(server: &Server, env: &str, count: usize, secs: u64) -> Result<Vec<String>> {
    let start = std::time::Instant::now();
    loop {
        let list = releases(server, env)?;
        let last = list.last().map(|r| r["status"].clone());
        if list.len() == count && last.as_ref().and_then(|s| s.as_str()) == Some("succeeded") {
            return release_descriptions(server, env);
        }
        if list.len() > count || start.elapsed() > std::time::Duration::from_secs(secs) {
            bail!(
                "{env} never had {count} releases, the last succeeded: {list:?}\n{}",
                server.log()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn dashboard_in_chromium() -> Result<()> {
    let server = Server::start()?;
    let admin_password = std::fs::read_to_string(server.data_dir.join("admin-password"))?;
    let admin_password = admin_password.trim();
    let dash = dashboard(&server);
    let browser = Browser::start()?;

    // Signed out, every page leads to the sign-in form; a wrong password is refused.
    browser.goto(&format!("{dash}/"))?;
    browser.wait_text("Sign in to doppel", 10)?;
    sign_in(&browser, &server, "admin@localhost", "not-the-password")?;
    browser.wait_text("Wrong email or password", 10)?;
    shot(&browser, "sign-in")?;
    sign_in(&browser, &server, "admin@localhost", admin_password)?;
    browser.wait_text_or("admin@localhost", 10, Some(&format!("{dash}/")))?;
    if browser.text()?.contains("Sign in to doppel") {
        bail!("still on the sign-in page:\n{}", browser.source()?);
    }

    // An app, deployed to staging with a config var production lacks.
    cli_ok(&server, &["apps:create", "shop"])?;
    cli_ok(&server, &["apps:create", "secret"])?;
    let repo = greeter("one")?;
    let (ok, out) = repo.push(&server, "shop-staging", "main")?;
    if !ok {
        bail!("push failed:\n{out}\n{}", server.log());
    }
    cli_ok(
        &server,
        &["config:set", "GREETING=hi", "-a", "shop-staging"],
    )?;

    browser.goto(&format!("{dash}/"))?;
    let apps = browser.wait_text("shop", 10)?;
    assert!(apps.contains("secret"), "{apps}");
    shot(&browser, "apps")?;

    // The pipeline view: both environments; the promotion is refused, naming the key.
    browser.goto(&format!("{dash}/apps/shop"))?;
    let pipeline = browser.wait_text("shop-staging", 10)?;
    assert!(pipeline.contains("Promote to production"), "{pipeline}");
    shot(&browser, "pipeline")?;
    browser.click("section.promote form button.primary")?;
    let refused =
        browser.wait_text_or("Promotion refused", 30, Some(&format!("{dash}/apps/shop")))?;
    assert!(refused.contains("GREETING"), "{refused}");
    assert!(!server.wait_serves("shop", "release one", 1)?);

    // The key set from production's config page (production has no release yet).
    browser.goto(&format!("{dash}/envs/shop/config"))?;
    browser.fill("#new-key", "GREETING")?;
    browser.fill("#new-value", "<script>window.pwned=1</script>")?;
    browser.click("section.add button")?;
    browser.wait_text_or(
        "Set GREETING",
        30,
        Some(&format!("{dash}/envs/shop/config")),
    )?;
    browser.goto(&format!("{dash}/envs/shop/config?reveal=GREETING"))?;
    let revealed = browser.wait_text("<script>window.pwned=1</script>", 10)?;
    assert!(revealed.contains("Hide"), "{revealed}");
    let source = browser.source()?;
    assert!(
        source.contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"),
        "{source}"
    );
    assert_eq!(
        browser.script("return window.pwned === undefined;")?,
        serde_json::Value::Bool(true)
    );
    shot(&browser, "config")?;

    // The promotion now succeeds and production serves staging's build.
    browser.goto(&format!("{dash}/apps/shop"))?;
    browser.wait_text("Promote to production", 10)?;
    browser.click("section.promote form button.primary")?;
    browser.wait_text("Promotion of shop", 30)?;
    let done = browser.wait_text("Succeeded: production", 300)?;
    assert!(done.contains("https://shop.localhost"), "{done}");
    shot(&browser, "promotion")?;
    if !server.wait_serves("shop", "release one greeting=<script>", 60)? {
        bail!(
            "production does not serve the promoted release\n{}",
            server.log()
        );
    }

    // Production's log tails live: a line the app prints after the page opened shows up,
    // its `<script>` (production's GREETING) as text.
    browser.goto(&format!("{dash}/envs/shop/logs"))?;
    browser.wait_text("shop production logs", 10)?;
    std::thread::sleep(std::time::Duration::from_secs(1));
    server.get(&format!("{}after-open", server.env_url("shop")), None)?;
    let tailed = browser.wait_text(
        "served /after-open greeting=<script>window.pwned=1</script>",
        60,
    )?;
    assert!(tailed.contains("app[web.1]"), "{tailed}");
    // Reconnecting (Chromium does when the host's interfaces change) resumes, never repeats.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let tailed = browser.text()?;
    assert_eq!(tailed.matches("served /after-open").count(), 1, "{tailed}");
    let source = browser.source()?;
    assert!(
        source.contains("greeting=&lt;script&gt;window.pwned=1&lt;/script&gt;"),
        "{source}"
    );
    assert_eq!(
        browser.script("return window.pwned === undefined;")?,
        serde_json::Value::Bool(true)
    );
    shot(&browser, "logs")?;

    // A rollback from staging's releases page.
    let before = release_descriptions(&server, "shop-staging")?;
    browser.goto(&format!("{dash}/envs/shop-staging/releases"))?;
    browser.wait_text("Roll back to here", 10)?;
    shot(&browser, "releases")?;
    browser.click("form[action$='/rollback'] button")?;
    browser.accept_prompt()?;
    // The page answers once the new release serves (a load Chromium may drop when Docker
    // changes the host's interfaces: then the releases page is opened again).
    let after = wait_release(&server, "shop-staging", before.len() + 1, 240)?;
    assert!(
        after
            .last()
            .is_some_and(|d| d.starts_with("Rollback to v1")),
        "{after:?}"
    );
    browser.goto(&format!("{dash}/envs/shop-staging/releases"))?;
    let releases = browser.wait_text("Rollback to v1", 30)?;
    assert!(releases.contains("Roll back to here"), "{releases}");

    // Activity: the dashboard's actions are in the audit log.
    browser.goto(&format!("{dash}/apps/shop/activity"))?;
    let activity = browser.wait_text("config", 10)?;
    assert!(activity.contains("dashboard"), "{activity}");
    shot(&browser, "activity")?;

    // A member sees the app they collaborate on, not the other one.
    let created = cli_ok(&server, &["users:create", "dev@example.com", "--json"])?;
    let created: serde_json::Value = serde_json::from_str(&created)?;
    let member_password = created["password"].as_str().unwrap_or_default().to_string();
    assert!(!member_password.is_empty(), "{created}");
    cli_ok(&server, &["access:add", "dev@example.com", "-p", "shop"])?;
    let member = Browser::start()?;
    sign_in(&member, &server, "dev@example.com", &member_password)?;
    member.wait_text("dev@example.com", 10)?;
    let seen = member.wait_text("shop", 10)?;
    assert!(!seen.contains("secret"), "{seen}");
    member.goto(&format!("{dash}/apps/secret"))?;
    let hidden = member.wait_text("Not found", 10)?;
    assert!(!hidden.contains("secret-staging"), "{hidden}");

    // Signing out ends the session: the page asks for a sign-in again.
    member.goto(&format!("{dash}/"))?;
    member.wait_text("dev@example.com", 10)?;
    member.click("form[action='/logout'] button")?;
    member.wait_text("Sign in to doppel", 10)?;
    member.goto(&format!("{dash}/apps/shop"))?;
    member.wait_text("Sign in to doppel", 10)?;
    Ok(())
}

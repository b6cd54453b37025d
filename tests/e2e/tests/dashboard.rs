//! The web dashboard in a real headless Chromium (Debian's chromium and chromium-driver)
//! against a live doppel with the real Docker engine and git: a wrong password refused and
//! the admin's first password (from `<data-dir>/admin-password`) accepted; the apps page; the
//! pipeline view with both environments; a promotion refused with the missing config key
//! shown; the key set from production's config page; the promotion succeeding with production
//! then serving; production's log tailing a line the app printed after the page opened; a
//! rollback from the releases page; user-written text with `<script>` (a config value, a log
//! line) shown escaped and never run; a member who does not see another app; signing out ending the
//! session. A second walk: a `git push` whose build output, rollout steps and new release
//! stream into an open pipeline view without a reload; an add-on's backups captured and
//! restored from the resources page (a wrong confirmation restoring nothing); labels, the
//! keyboard's first stop and a phone-width layout. With `DOPPEL_DASHBOARD_SCREENSHOTS=<dir>` the main pages are saved there as PNGs
//! (docs/dashboard/ holds the kept ones).

use std::path::PathBuf;
use std::process::Output;

use anyhow::{bail, Result};
use doppel_e2e::browser::Browser;
use doppel_e2e::{AppRepo, Server};

/// A small web app on the local stack image: answers `release <VERSION> greeting=<GREETING>`.
fn greeter(version: &str) -> Result<AppRepo> {
    greeter_booting_in(version, 0, 0)
}

/// [`greeter`], built in at least `build_secs` and listening only `boot_secs` seconds after
/// it starts (a build and a rollout that take a while, to be seen step by step).
fn greeter_booting_in(version: &str, boot_secs: u32, build_secs: u32) -> Result<AppRepo> {
    // A RUN step that names this build (no cached layer answers it) and takes
    // `build_secs`, so the build is still running when a page looks at it.
    let slow_step = if build_secs == 0 {
        String::new()
    } else {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("RUN echo 'build {version} {nanos}' && sleep {build_secs}\n")
    };
    let server_py = r#"import http.server, os, time
time.sleep(int(os.environ.get("BOOT_SECS", "0")))
VERSION = open("/srv/VERSION").read().strip()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"release {VERSION} greeting={os.environ.get('GREETING', '-')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print(f"served {self.path} greeting={os.environ.get('GREETING', '-')}", flush=True)
http.server.ThreadingHTTPServer.request_queue_size = 1024  # Python's default backlog of 5 drops SYNs under load
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
"#;
    AppRepo::from_files(&[
        (
            "Dockerfile",
            format!("FROM doppel/heroku-24\nENV BOOT_SECS={boot_secs}\n{slow_step}COPY server.py VERSION /srv/\nCMD [\"sh\", \"-c\", \"exec python3 /srv/server.py\"]\n").as_bytes(),
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

/// Signs in and waits until the page shows `expect` (the signed-in user's email, or the
/// refusal of a wrong password). Chromium drops a form post when Docker adds a container's
/// network interface meanwhile (ERR_NETWORK_CHANGED) and never repeats it: then the same
/// sign-in is sent again (signing in twice, or failing twice, changes nothing else).
fn sign_in_until(
    browser: &Browser,
    server: &Server,
    email: &str,
    password: &str,
    expect: &str,
) -> Result<()> {
    let home = format!("{}/", dashboard(server));
    let mut last = anyhow::anyhow!("no sign-in was tried");
    for _ in 0..3 {
        sign_in(browser, server, email, password)?;
        match browser.wait_text_or(expect, 15, Some(&home)) {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
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
    let browser = Browser::start(&server)?;

    // Signed out, every page leads to the sign-in form; a wrong password is refused.
    browser.goto(&format!("{dash}/"))?;
    browser.wait_text("Sign in to doppel", 10)?;
    sign_in_until(
        &browser,
        &server,
        "admin@localhost",
        "not-the-password",
        "Wrong email or password",
    )?;
    shot(&browser, "sign-in")?;
    sign_in_until(
        &browser,
        &server,
        "admin@localhost",
        admin_password,
        "admin@localhost",
    )?;
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
    let refused = refused_promotion(&browser, &format!("{dash}/apps/shop"))?;
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
    let member = Browser::start(&server)?;
    sign_in_until(
        &member,
        &server,
        "dev@example.com",
        &member_password,
        "dev@example.com",
    )?;
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

/// Polls `script` (a function body returning a string) in the page until it returns `want`.
/// Clicks Promote on the pipeline page at `pipeline` and returns the page that says the
/// promotion was refused. A refused promotion changes nothing, so when its answer is lost
/// (Chromium drops a page load when Docker adds a network interface; the one-time notice then
/// went to a load nobody saw) the button is clicked again, three times at most.
fn refused_promotion(browser: &Browser, pipeline: &str) -> Result<String> {
    let mut last = None;
    for _ in 0..3 {
        browser.click("section.promote form button.primary")?;
        match browser.wait_text_or("Promotion refused", 20, Some(pipeline)) {
            Ok(text) => return Ok(text),
            Err(e) => last = Some(e),
        }
        browser.goto(pipeline)?;
        browser.wait_text("Promote to production", 10)?;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no promotion was tried")))
}

fn wait_script(browser: &Browser, script: &str, want: &str, secs: u64) -> Result<()> {
    let start = std::time::Instant::now();
    loop {
        let got = browser.script(script)?;
        if got.as_str() == Some(want) {
            return Ok(());
        }
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            bail!(
                "{script} never gave {want:?} (last {got}); the page shows:\n{}",
                browser.text()?
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// A marker set on `window`: it survives as long as the page is never reloaded.
const MARK: &str = "window.doppelMarker = 'same page'; return 'ok';";
const MARKED: &str = "return window.doppelMarker || 'reloaded';";

/// Form fields without a label (or an aria-label), by name: a keyboard or screen-reader user
/// would not know what they are.
const UNLABELLED: &str = "return Array.from(document.querySelectorAll(\
    'input:not([type=hidden]), select, textarea'))\
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))\
    .map(e => e.name || e.id).join(',');";

/// `SELECT` through `pg:psql` as the app's database user sees it.
fn rows(server: &Server, env: &str) -> Result<String> {
    cli_ok(
        server,
        &[
            "pg:psql",
            "-a",
            env,
            "-c",
            "SELECT 'rows=' || coalesce(string_agg(v, ',' ORDER BY v), '') FROM notes",
        ],
    )
}

fn restores_of(server: &Server, env: &str) -> Result<usize> {
    let (status, list) = server.api("GET", &format!("/apps/{env}/backups"), None)?;
    if status != 200 && status != 206 {
        bail!("backups of {env}: {status} {list}");
    }
    Ok(list
        .as_array()
        .map(|l| l.iter().filter(|b| b["kind"] == "restore").count())
        .unwrap_or_default())
}

/// The second dashboard walk: a `git push` whose build output, rollout steps and new release
/// stream into an open pipeline view without a reload; an add-on's backups on the resources
/// page (capture, listed verified; restore refused on a wrong confirmation with nothing
/// changed, done on the right one, from this environment and from production); labels,
/// keyboard focus and a phone-width layout.
#[test]
fn dashboard_streams_progress_and_manages_backups() -> Result<()> {
    let server = Server::start()?;
    let admin_password = std::fs::read_to_string(server.data_dir.join("admin-password"))?;
    let dash = dashboard(&server);
    let browser = Browser::start(&server)?;
    sign_in_until(
        &browser,
        &server,
        "admin@localhost",
        admin_password.trim(),
        "admin@localhost",
    )?;
    cli_ok(&server, &["apps:create", "shop"])?;

    // Keyboard: the first Tab reaches the skip link, which shows itself when focused.
    browser.goto(&format!("{dash}/apps/shop"))?;
    browser.wait_text("shop pipeline", 10)?;
    browser.press_tab(1)?;
    wait_script(
        &browser,
        "const a = document.activeElement; return a.classList.contains('skip') \
         && a.getBoundingClientRect().left >= 0 ? 'visible' : a.outerHTML;",
        "visible",
        5,
    )?;

    // The pipeline view is open before the push; everything after comes in live.
    browser.script(MARK)?;
    let repo = greeter_booting_in("one", 8, 10)?;
    let pushed = std::thread::scope(|s| -> Result<(bool, String)> {
        let push = s.spawn(|| repo.push(&server, "shop-staging", "main"));
        let built = browser.wait_text("Building with the app's Dockerfile", 120);
        let rolling = built.and_then(|_| {
            browser.wait_text("Web dynos starting, waiting for their health check", 120)?;
            browser.script("document.activeElement.blur(); return 'ok';")?;
            shot(&browser, "pipeline-rollout")
        });
        let pushed = push
            .join()
            .map_err(|_| anyhow::anyhow!("the push thread panicked"))??;
        rolling.map_err(|e| anyhow::anyhow!("{e}\npush:\n{}\n{}", pushed.1, server.log()))?;
        Ok(pushed)
    })?;
    assert!(pushed.0, "push failed:\n{}", pushed.1);
    let version = releases(&server, "shop-staging")?
        .last()
        .and_then(|r| r["version"].as_i64())
        .unwrap_or_default();
    let shown = browser.wait_text(&format!("v{version} Deploy"), 60)?;
    assert!(!shown.contains("Rolling out"), "{shown}");
    wait_script(&browser, MARKED, "same page", 1)?;
    shot(&browser, "pipeline-live")?;

    // Phone width: one column, nothing wider than the screen.
    browser.resize(390, 844)?;
    wait_script(
        &browser,
        "return document.documentElement.scrollWidth <= window.innerWidth ? 'fits' \
         : document.documentElement.scrollWidth + ' > ' + window.innerWidth;",
        "fits",
        5,
    )?;
    shot(&browser, "pipeline-phone")?;
    browser.resize(1280, 1000)?;

    // Every form field of the main pages has a label.
    for (path, heading) in [
        ("/", "shop"),
        ("/apps/shop", "shop pipeline"),
        ("/envs/shop-staging/releases", "staging releases"),
        ("/envs/shop-staging/config", "staging config vars"),
        ("/envs/shop-staging/resources", "staging resources"),
        ("/envs/shop-staging/logs", "staging logs"),
        ("/envs/shop-staging/access", "staging access"),
        ("/apps/shop/activity", "activity"),
        ("/users", "Users"),
        ("/certificates", "From doppel's own CA"),
        ("/account", "Your account"),
    ] {
        browser.goto(&format!("{dash}{path}"))?;
        browser.wait_text(heading, 10)?;
        let missing = browser.script(UNLABELLED)?;
        assert_eq!(missing.as_str(), Some(""), "unlabelled fields on {path}");
    }

    // Postgres in both environments, a table with a row in each.
    cli_ok(&server, &["addons:create", "postgres", "-p", "shop"])?;
    for (env, row) in [("shop-staging", "before"), ("shop", "production")] {
        cli_ok(
            &server,
            &[
                "pg:psql",
                "-a",
                env,
                "-c",
                &format!("CREATE TABLE notes (v text); INSERT INTO notes VALUES ('{row}')"),
            ],
        )?;
    }
    cli_ok(&server, &["pg:backups:capture", "-a", "shop"])?;

    // A capture from the page, followed live until it is verified.
    let resources = format!("{dash}/envs/shop-staging/resources");
    browser.goto(&resources)?;
    browser.wait_text("Capture a backup of", 10)?;
    wait_script(&browser, UNLABELLED, "", 1)?;
    browser.click("form.capture button")?;
    // The answer says "Capturing b001…"; when Chromium dropped it (ERR_NETWORK_CHANGED), the
    // page opened again lists b001 (staging had no backup before this one).
    browser.wait_text_or("b001", 30, Some(&resources))?;
    browser.script(MARK)?;
    wait_script(
        &browser,
        "const c = document.querySelector('#backup-b001 td.verified'); return c ? c.textContent : '';",
        "verified",
        180,
    )?;
    wait_script(&browser, MARKED, "same page", 1)?;
    cli_ok(
        &server,
        &[
            "pg:psql",
            "-a",
            "shop-staging",
            "-c",
            "INSERT INTO notes VALUES ('after')",
        ],
    )?;
    assert!(rows(&server, "shop-staging")?.contains("rows=after,before"));

    // A restore with the wrong confirmation changes nothing.
    let restore = |source: &str, confirm: &str| -> Result<()> {
        browser.goto(&resources)?;
        browser.wait_text("Capture a backup of", 10)?;
        browser.click("details.restore summary")?;
        let set = format!(
            "const s = document.querySelector('details.restore select[name=source]'); \
             s.value = '{source}'; return s.value;"
        );
        assert_eq!(browser.script(&set)?.as_str(), Some(source));
        browser.fill("details.restore input[name=confirm]", confirm)?;
        browser.click("details.restore button")
    };
    // Posts the restore form until it is answered: a post Chromium dropped on its way (Docker
    // changing the host's interfaces) is sent again only when the server's backups show it
    // never arrived (`restores` restore rows are there before it).
    let answered = |source: &str, confirm: &str, notice: &str, restores: usize| -> Result<()> {
        for _ in 0..3 {
            restore(source, confirm)?;
            let start = std::time::Instant::now();
            while start.elapsed() < std::time::Duration::from_secs(30) {
                let text = browser.text()?;
                if text.contains(notice) {
                    return Ok(());
                }
                if restores_of(&server, "shop-staging")? > restores {
                    browser.goto(&resources)?;
                    return Ok(());
                }
                if text.contains("ERR_NETWORK_CHANGED") {
                    std::thread::sleep(std::time::Duration::from_secs(2));
                    if restores_of(&server, "shop-staging")? > restores {
                        browser.goto(&resources)?;
                        return Ok(());
                    }
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        }
        bail!("the restore form was never answered:\n{}", browser.text()?)
    };
    answered("b001", "shop", "Nothing was restored", 0)?;
    assert_eq!(restores_of(&server, "shop-staging")?, 0);
    assert!(rows(&server, "shop-staging")?.contains("rows=after,before"));
    shot(&browser, "resources")?;

    // The right one restores staging's own backup, then production's; the page follows each.
    for (n, source, notice, want) in [
        (0, "b001", "Restoring shop-staging::b001", "rows=before"),
        (1, "shop::b001", "Restoring shop::b001", "rows=production"),
    ] {
        answered(source, "shop-staging", notice, n)?;
        let label = format!("r{:03}", n + 1);
        browser.script(MARK)?;
        wait_script(
            &browser,
            &format!(
                "const c = document.querySelector('#backup-{label} td.state'); \
                 return c ? c.textContent : '';"
            ),
            "succeeded",
            180,
        )?;
        wait_script(&browser, MARKED, "same page", 1)?;
        let now = rows(&server, "shop-staging")?;
        assert!(now.contains(want), "after restoring {source}: {now}");
    }
    assert!(rows(&server, "shop")?.contains("rows=production"));

    // Both are in the audit log, done via the dashboard.
    browser.goto(&format!("{dash}/apps/shop/activity"))?;
    let activity = browser.wait_text("backup.restore", 10)?;
    assert!(activity.contains("backup.capture"), "{activity}");
    assert!(activity.contains("via dashboard"), "{activity}");

    // A config var edited in place: the edit form is in the page only for its key.
    cli_ok(
        &server,
        &["config:set", "GREETING=hi", "MOOD=calm", "-a", "shop"],
    )?;
    let config = format!("{dash}/envs/shop/config");
    browser.goto(&config)?;
    browser.wait_text("MOOD", 10)?;
    assert_eq!(
        browser
            .script("return String(document.querySelectorAll('textarea[id^=edit-]').length);")?,
        serde_json::Value::String("0".into())
    );
    browser.click("#var-MOOD a.button")?;
    browser.fill("#edit-MOOD", "sunny")?;
    browser.click("#var-MOOD button")?;
    browser.wait_text_or("Set MOOD", 30, Some(&config))?;
    let (_, vars) = server.api("GET", "/apps/shop/config-vars", None)?;
    assert_eq!(vars["MOOD"], "sunny", "{vars}");
    assert_eq!(vars["GREETING"], "hi", "{vars}");
    Ok(())
}

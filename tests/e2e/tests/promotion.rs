//! Promotion and parity end to end, with the real engine, git, curl, the doppel CLI and the
//! official Heroku CLI: production refuses pushes; a promotion is refused while production
//! lacks a config key staging has (naming the key and the fix) and succeeds once it is set,
//! production then running the very image id staging runs (checked with `docker inspect`);
//! the Heroku CLI's `pipelines:promote`; a promotion of an earlier staging release; a dyno
//! container changed by hand is drift; a forced promotion is in the audit log with its
//! reason; an admin's direct push to production is drift until promoted over.

use std::process::Output;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use doppel_e2e::{docker, docker_inspect, AppRepo, HerokuCli, Server};

/// A small web app on the local stack image: answers `release <VERSION> greeting=<GREETING>`.
fn greeter(version: &str) -> Result<AppRepo> {
    let server_py = r#""""doppel e2e: says which build it is and its GREETING config var."""
import http.server
import os

VERSION = open("/srv/VERSION").read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"release {VERSION} greeting={os.environ.get('GREETING', '-')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer.request_queue_size = 1024  # Python's default backlog of 5 drops SYNs under load
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

/// Commits a new VERSION in `repo`.
fn new_version(repo: &AppRepo, version: &str) -> Result<()> {
    std::fs::write(repo.path().join("VERSION"), version)?;
    repo.commit_all(version)
}

/// Sets config vars of `env` the way the server stores them. `config:set` is not in the API
/// on this branch yet (api1's work); switch to it (`server.heroku(…, ["config:set", …])`) once
/// main has it. With no release yet, that call stores the change exactly like this.
fn set_config(server: &Server, env: &str, pairs: &[(&str, &str)]) -> Result<()> {
    let key_hex = std::fs::read_to_string(server.data_dir.join("master.key"))?;
    let key: [u8; 32] = hex::decode(key_hex.trim())?
        .try_into()
        .map_err(|_| anyhow::anyhow!("master.key is not 32 bytes"))?;
    let url = format!("sqlite://{}", server.data_dir.join("doppel.db").display());
    let changes = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
    let env = env.to_string();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let store = doppel_store::Store::open(&url, key).await?;
            let found = store.environment(&env).await?.context("no environment")?;
            store.set_config_vars(&found.id, &changes).await?;
            store.close().await;
            anyhow::Ok(())
        })
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the doppel CLI and fails unless it succeeds; returns (stdout, stderr).
fn cli_ok(server: &Server, args: &[&str]) -> Result<(String, String)> {
    let out = server.cli(args)?;
    let (stdout, stderr) = text(&out);
    if !out.status.success() {
        bail!(
            "doppel {args:?} failed:\n{stdout}{stderr}\n{}",
            server.log()
        );
    }
    Ok((stdout, stderr))
}

/// Runs the doppel CLI and fails unless it fails; returns stderr.
fn cli_refused(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    let (stdout, stderr) = text(&out);
    if out.status.success() {
        bail!("doppel {args:?} should have failed:\n{stdout}{stderr}");
    }
    Ok(stderr)
}

fn push_ok(server: &Server, repo: &AppRepo, env: &str) -> Result<()> {
    let (ok, out) = repo.push(server, env, "main")?;
    if !ok {
        bail!("push to {env} failed:\n{out}\n{}", server.log());
    }
    Ok(())
}

fn serves(server: &Server, env: &str, needle: &str) -> Result<()> {
    if !server.wait_serves(env, needle, 60)? {
        let (status, body) = server.get(&server.env_url(env), Some(&server.token))?;
        bail!("{env} does not serve {needle:?} (got {status} {body})");
    }
    Ok(())
}

/// The image ids (`docker inspect .Image`) of `env`'s running dynos.
fn running_images(server: &Server, env: &str) -> Result<Vec<String>> {
    let mut images = Vec::new();
    for id in server.dyno_ids(env)? {
        let inspected = docker_inspect(&id)?;
        images.push(inspected["Image"].as_str().unwrap_or_default().to_string());
    }
    Ok(images)
}

/// The image id of release `version` of `env`, as the API reports it.
fn release_image(server: &Server, env: &str, version: u32) -> Result<String> {
    let (status, release) = server.api("GET", &format!("/apps/{env}/releases/{version}"), None)?;
    if status != 200 {
        bail!("release {version} of {env}: {status} {release}");
    }
    Ok(release["doppel"]["image_id"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

#[test]
fn production_runs_only_what_ran_in_staging() -> Result<()> {
    let server = Server::start()?;
    server.create_app("promo")?;
    let port = server.https_port;
    let repo = greeter("one")?;

    // Production takes no pushes, and there is nothing to promote yet.
    let (ok, out) = repo.push(&server, "promo", "main")?;
    assert!(!ok, "{out}");
    assert!(
        out.contains("production deploys only by promotion: doppel promote -p promo"),
        "{out}"
    );
    let err = cli_refused(&server, &["promote", "-p", "promo"])?;
    assert!(
        err.contains("promo-staging has no release to promote yet"),
        "{err}"
    );

    set_config(&server, "promo-staging", &[("GREETING", "hello staging")])?;
    push_ok(&server, &repo, "promo-staging")?;
    serves(
        &server,
        "promo-staging",
        "release one greeting=hello staging",
    )?;

    // Refused while production lacks GREETING, naming the key and the command that fixes it.
    let err = cli_refused(&server, &["promote", "-p", "promo"])?;
    assert!(err.contains("[config/GREETING]"), "{err}");
    assert!(
        err.contains("doppel config:set GREETING=<value> -a promo"),
        "{err}"
    );
    let (_, releases) = server.api("GET", "/apps/promo/releases", None)?;
    assert_eq!(releases.as_array().map(Vec::len), Some(0), "{releases}");

    set_config(&server, "promo", &[("GREETING", "hello production")])?;
    let (stdout, stderr) = cli_ok(&server, &["promote", "-p", "promo"])?;
    assert!(
        stderr.contains("-----> Promoting promo-staging v1"),
        "{stderr}"
    );
    assert_eq!(
        stdout,
        format!(
            "Promoted promo-staging v1 to promo as release v1: https://promo.localhost:{port}/\n"
        )
    );
    serves(&server, "promo", "release one greeting=hello production")?;

    // The very image staging runs, as Docker reports it; nothing was built for production.
    let staging_images = running_images(&server, "promo-staging")?;
    let production_images = running_images(&server, "promo")?;
    assert_eq!(staging_images.len(), 1);
    assert_eq!(production_images, staging_images);
    assert_eq!(
        production_images[0],
        release_image(&server, "promo-staging", 1)?
    );
    let (_, builds) = server.api("GET", "/apps/promo/builds", None)?;
    assert_eq!(builds.as_array().map(Vec::len), Some(0), "{builds}");
    let (_, made) = server.api("GET", "/apps/promo/releases/1", None)?;
    assert_eq!(made["description"], "Promote promo-staging v1");
    let (_, source) = server.api("GET", "/apps/promo-staging/releases/1", None)?;
    assert_eq!(made["doppel"]["promoted_from"], source["id"]);
    let (stdout, _) = cli_ok(&server, &["parity", "-p", "promo"])?;
    assert!(stdout.contains("\n0 drift,"), "{stdout}");

    // A second staging release, promoted with the official Heroku CLI.
    new_version(&repo, "two")?;
    push_ok(&server, &repo, "promo-staging")?;
    serves(&server, "promo-staging", "release two")?;
    let (stdout, _) = cli_ok(&server, &["parity", "-a", "promo-staging"])?;
    assert!(
        stdout.contains("staging's v2 is not promoted yet"),
        "{stdout}"
    );
    let ran = server.heroku(
        HerokuCli::V11,
        &["pipelines:promote", "-a", "promo-staging"],
    )?;
    let ran = ran.ok()?;
    assert!(
        ran.text().contains("Promotion successful"),
        "{}",
        ran.text()
    );
    assert!(ran.text().contains("succeeded"), "{}", ran.text());
    serves(&server, "promo", "release two greeting=hello production")?;
    let listed = server.heroku(HerokuCli::V11, &["pipelines"])?.ok()?;
    assert!(listed.stdout.contains("promo"), "{}", listed.text());
    let info = server
        .heroku(HerokuCli::V11, &["pipelines:info", "promo"])?
        .ok()?;
    assert!(info.stdout.contains("promo-staging"), "{}", info.text());
    assert!(info.stdout.contains("production"), "{}", info.text());

    // An earlier staging release goes back to production: its image, production's config.
    let (stdout, _) = cli_ok(&server, &["promote", "-p", "promo", "--release", "v1"])?;
    assert!(
        stdout.starts_with("Promoted promo-staging v1 to promo as release v3"),
        "{stdout}"
    );
    serves(&server, "promo", "release one greeting=hello production")?;
    // The old dyno drains and stops behind the promotion's answer.
    let v1 = release_image(&server, "promo-staging", 1)?;
    let mut images = Vec::new();
    for _ in 0..120 {
        images = running_images(&server, "promo")?;
        if images == [v1.clone()] {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(images, [v1]);

    // The Heroku CLI v10 promotes staging's current release the same way.
    let ran = server.heroku(
        HerokuCli::V10,
        &["pipelines:promote", "-a", "promo-staging"],
    )?;
    assert!(ran.ok()?.text().contains("Promotion successful"));
    serves(&server, "promo", "release two greeting=hello production")?;
    Ok(())
}

/// Replaces `env`'s only web dyno with a copy started by hand with `GREETING` changed, and
/// waits until the reconciler has had a pass with it (a pass that ran between the removal and
/// the start would have started its own web.1; then the swap is tried again).
fn tamper(server: &Server, env: &str) -> Result<String> {
    for attempt in 0..3 {
        let ids = server.dyno_ids(env)?;
        let original = ids.first().context("no dyno")?;
        let inspected = docker_inspect(original)?;
        let config = &inspected["Config"];
        let network = inspected["NetworkSettings"]["Networks"]
            .as_object()
            .and_then(|n| n.keys().next().cloned())
            .context("no network")?;
        let name = format!("doppel-e2e-by-hand-{}-{attempt}", server.https_port);
        // Created and started in one step: the supervisor removes a dyno container that is
        // not running as soon as Docker reports it.
        let mut args: Vec<String> = ["run", "-d", "--name", &name, "--network", &network]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (k, v) in config["Labels"].as_object().context("no labels")? {
            args.push("--label".into());
            args.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
        for var in config["Env"].as_array().context("no env")? {
            let var = var.as_str().unwrap_or_default();
            args.push("-e".into());
            args.push(if var.starts_with("GREETING=") {
                "GREETING=tampered".to_string()
            } else {
                var.to_string()
            });
        }
        args.push(inspected["Image"].as_str().unwrap_or_default().to_string());
        for part in config["Cmd"].as_array().into_iter().flatten() {
            args.push(part.as_str().unwrap_or_default().to_string());
        }
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = docker(&arg_refs)?;
        if !ok {
            bail!("docker run: {out}");
        }
        let rogue = out.trim().to_string();
        let (ok, out) = docker(&["rm", "-f", original])?;
        if !ok {
            bail!("docker rm: {out}");
        }
        // One reconciler period and a bit.
        std::thread::sleep(Duration::from_secs(12));
        if server.dyno_ids(env)? == [rogue.clone()] {
            return Ok(rogue);
        }
        for id in server.dyno_ids(env)?.iter().filter(|id| **id != rogue) {
            docker(&["rm", "-f", id])?;
        }
        let _ = docker(&["rm", "-f", &rogue]);
        std::thread::sleep(Duration::from_secs(12));
    }
    bail!("the reconciler kept replacing the dyno changed by hand")
}

#[test]
fn drift_by_hand_forced_promotion_audit_and_direct_pushes() -> Result<()> {
    let server = Server::start()?;
    server.create_app("tamper")?;
    set_config(&server, "tamper-staging", &[("GREETING", "hi")])?;
    set_config(&server, "tamper", &[("GREETING", "hello production")])?;
    let repo = greeter("one")?;
    push_ok(&server, &repo, "tamper-staging")?;
    cli_ok(&server, &["promote", "-p", "tamper"])?;
    serves(&server, "tamper", "greeting=hello production")?;

    // A dyno changed by hand is drift on production; values are never shown.
    let rogue = tamper(&server, "tamper")?;
    let (stdout, _) = cli_ok(&server, &["parity", "-p", "tamper"])?;
    assert!(
        stdout.contains("DRIFT     [running/production:web.1]"),
        "{stdout}"
    );
    assert!(stdout.contains("GREETING changed"), "{stdout}");
    assert!(
        stdout.contains("fix: doppel ps:restart web.1 -a tamper"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("tampered"),
        "a config value leaked:\n{stdout}"
    );
    let err = cli_refused(&server, &["promote", "-p", "tamper"])?;
    assert!(err.contains("[running/production:web.1]"), "{err}");

    // Forced, with a reason: the release replaces the hand-made container, and it is audited.
    let reason = "incident 42: put the release back";
    cli_ok(
        &server,
        &["promote", "-p", "tamper", "--force", "--reason", reason],
    )?;
    serves(&server, "tamper", "greeting=hello production")?;
    // The hand-made container drains and goes behind the promotion's answer.
    let mut gone = false;
    for _ in 0..120 {
        if !server.dyno_ids("tamper")?.contains(&rogue) {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(gone, "the hand-made container {rogue} is still there");
    let (stdout, _) = cli_ok(&server, &["audit", "-p", "tamper"])?;
    let forced = stdout
        .lines()
        .find(|l| l.contains("promotion.forced"))
        .with_context(|| format!("no forced promotion in:\n{stdout}"))?;
    assert!(forced.contains("admin@localhost"), "{forced}");
    assert!(forced.contains("doppel-cli"), "{forced}");
    assert!(forced.contains(reason), "{forced}");
    assert!(forced.contains("running/production:web.1"), "{forced}");
    let (json, _) = cli_ok(&server, &["audit", "-p", "tamper", "--json"])?;
    let events: serde_json::Value = serde_json::from_str(&json)?;
    assert_eq!(events[0]["action"], "promotion.succeeded", "{events}");
    let (staging_only, _) = cli_ok(&server, &["audit", "-p", "tamper", "-a", "tamper-staging"])?;
    assert!(!staging_only.contains("promotion"), "{staging_only}");

    // An admin lets production take pushes: a pushed image that never ran in staging is drift.
    let (stdout, _) = cli_ok(&server, &["direct-pushes", "-p", "tamper", "--allow"])?;
    assert!(
        stdout.contains("takes promotions and git pushes"),
        "{stdout}"
    );
    new_version(&repo, "hotfix")?;
    push_ok(&server, &repo, "tamper")?;
    serves(&server, "tamper", "release hotfix")?;
    let (stdout, _) = cli_ok(&server, &["parity", "-p", "tamper"])?;
    assert!(stdout.contains("DRIFT     [release/image]"), "{stdout}");
    assert!(stdout.contains("never ran in staging"), "{stdout}");
    assert!(stdout.contains("promotions and git pushes"), "{stdout}");
    cli_ok(&server, &["direct-pushes", "-p", "tamper", "--forbid"])?;
    new_version(&repo, "again")?;
    let (ok, out) = repo.push(&server, "tamper", "main")?;
    assert!(
        !ok && out.contains("production deploys only by promotion"),
        "{out}"
    );
    Ok(())
}

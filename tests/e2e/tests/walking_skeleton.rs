//! The walking skeleton, end to end: a server started from an empty data directory, apps
//! created with the CLI and the API, pushes of Python, Node.js and Dockerfile apps with the
//! real git client, built by the real Docker engine and fetched over HTTPS with curl.

use anyhow::Result;
use doppel_e2e::{AppRepo, Server};

fn create_app(server: &Server, name: &str) -> Result<()> {
    let out = server.cli(&["apps:create", name])?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "apps:create failed: {stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{name}-staging")),
        "apps:create should show the staging environment: {stdout}"
    );
    Ok(())
}

fn assert_serves(server: &Server, env: &str, needle: &str) -> Result<()> {
    let (status, body) = server.get(&server.env_url(env), Some(&server.token))?;
    assert_eq!(
        status,
        200,
        "{env} should serve; body: {body}\n{}",
        server.log()
    );
    assert!(
        body.contains(needle),
        "{env} body should contain {needle:?}: {body}"
    );
    Ok(())
}

#[test]
fn first_start_writes_token_and_ca_and_the_cli_logs_in() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start()?;
    let mode = std::fs::metadata(server.data_dir.join("admin-token"))?
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "admin-token must be private");
    let ca = std::fs::read_to_string(server.ca())?;
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert!(
        server.log().contains("DOPPEL_API_KEY"),
        "the server says how to log in"
    );

    // `doppel login` checks the token, saves it, and later commands need no variables.
    let home = tempfile::tempdir()?;
    let host = server.platform_url();
    let ca = server.ca().display().to_string();
    let login = ["login", "--host", &host, "--ca-cert", &ca];
    let out = server.cli_logged_in(home.path(), &login, Some("wrong-token\n"))?;
    assert!(!out.status.success(), "a wrong token must not log in");
    let out = server.cli_logged_in(home.path(), &login, Some(&format!("{}\n", server.token)))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Logged in as admin@localhost"), "{text}");
    let out = server.cli_logged_in(home.path(), &["apps:create", "loginapp"], None)?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = server.cli_logged_in(home.path(), &["apps"], None)?;
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing.contains("loginapp-staging") && listing.contains("(private)"),
        "{listing}"
    );
    Ok(())
}

#[test]
fn python_app_push_staging_privacy_failed_push_and_branches() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "pyapp")?;

    // Both environments exist, identically configured, with their stages.
    let (status, staging) = server.api("GET", "/apps/pyapp-staging", None)?;
    assert_eq!(status, 200);
    assert_eq!(staging["doppel"]["stage"], "staging");
    let (status, production) = server.api("GET", "/apps/pyapp", None)?;
    assert_eq!(status, 200);
    assert_eq!(production["doppel"]["stage"], "production");

    // Production is public and says it has no release yet.
    let (status, body) = server.get(&server.env_url("pyapp"), None)?;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("No release yet"), "{body}");

    // First push builds and releases v1, streaming the build.
    let repo = AppRepo::from_fixture("python")?;
    let (ok, transcript) = repo.push(&server, "pyapp-staging", "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert!(
        transcript.contains("remote: -----> Python app detected"),
        "{transcript}"
    );
    assert!(transcript.contains("Released v1"), "{transcript}");
    assert!(
        transcript.contains(&server.env_url("pyapp-staging")),
        "{transcript}"
    );

    // Staging is private: no credentials or a wrong token → 401; the token → the app.
    let (status, _) = server.get(&server.env_url("pyapp-staging"), None)?;
    assert_eq!(status, 401);
    let headers = server.get_headers(&server.env_url("pyapp-staging"))?;
    assert!(headers.contains("www-authenticate: basic"), "{headers}");
    let (status, _) = server.get(&server.env_url("pyapp-staging"), Some("wrong-token"))?;
    assert_eq!(status, 401);
    assert_serves(&server, "pyapp-staging", "hello from python")?;

    // A failing build rejects the push and the previous release keeps serving.
    let failing = std::fs::read_to_string(
        doppel_e2e::repo_root().join("tests/fixtures/apps/failing/requirements.txt"),
    )?;
    std::fs::write(repo.path().join("requirements.txt"), failing)?;
    repo.commit_all("break the build")?;
    let (ok, transcript) = repo.push(&server, "pyapp-staging", "main")?;
    assert!(!ok, "a failing build must reject the push:\n{transcript}");
    assert!(
        transcript.contains("[remote rejected] main -> main"),
        "{transcript}"
    );
    assert!(transcript.contains("failed to compile"), "{transcript}");
    assert_serves(&server, "pyapp-staging", "hello from python")?;

    // Other branches are accepted without a build.
    let (ok, transcript) = repo.push(&server, "pyapp-staging", "main:feature")?;
    assert!(ok, "{transcript}");
    assert!(
        transcript.contains("Pushed to non-master branch, skipping build."),
        "{transcript}"
    );

    // The failed build made no release; v1 is still current.
    let (status, releases) = server.api("GET", "/apps/pyapp-staging/releases", None)?;
    assert_eq!(status, 200);
    let releases = releases.as_array().cloned().unwrap_or_default();
    let succeeded: Vec<_> = releases
        .iter()
        .filter(|r| r["status"] == "succeeded")
        .collect();
    assert_eq!(succeeded.len(), 1, "{releases:?}");
    assert_eq!(succeeded[0]["current"], true);
    assert_eq!(
        succeeded[0]["user"]["email"], "admin@localhost",
        "the pusher is recorded"
    );

    // The token went over git, the API and the router all along; it is never logged.
    assert!(
        !server.log().contains(&server.token),
        "the API token leaked into the log"
    );
    Ok(())
}

#[test]
fn node_app_builds_with_npm_and_serves() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "nodeapp")?;
    let repo = AppRepo::from_fixture("node")?;
    let (ok, transcript) = repo.push(&server, "nodeapp-staging", "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert!(transcript.contains("Node.js app detected"), "{transcript}");
    assert_serves(&server, "nodeapp-staging", "hello from node")?;

    // Heroku's usual `web: npm start` runs too: the buildpack puts npm into the slug.
    create_app(&server, "npmapp")?;
    let npm = AppRepo::from_fixture("node-npm-start")?;
    let (ok, transcript) = npm.push(&server, "npmapp-staging", "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert!(transcript.contains("Installing npm"), "{transcript}");
    assert_serves(&server, "npmapp-staging", "hello from npm start")?;

    // Destroying the app removes both environments, their dynos and their routes.
    let refused = server.cli(&["apps:destroy", "nodeapp"])?;
    assert!(
        !refused.status.success(),
        "destroy without --confirm must refuse"
    );
    let out = server.cli(&["apps:destroy", "nodeapp", "--confirm", "nodeapp"])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for env in ["nodeapp-staging", "nodeapp"] {
        let (status, _) = server.api("GET", &format!("/apps/{env}"), None)?;
        assert_eq!(status, 404, "{env} should be gone");
        let (status, _) = server.get(&server.env_url(env), Some(&server.token))?;
        assert_eq!(status, 404, "{env} should no longer be routed");
    }
    assert_eq!(
        server.running_containers()?.len(),
        1,
        "only npmapp's dyno should still run"
    );
    Ok(())
}

#[test]
fn dockerfile_app_builds_from_local_images_and_serves() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "dockapp")?;
    let repo = AppRepo::from_fixture("dockerfile")?;
    // Over 1 MiB, so git sends a probe POST and then a chunked body through the TLS router.
    write_random_file(&repo.path().join("blob.bin"), 3 * 1024 * 1024)?;
    repo.commit_all("add a 3 MiB file")?;
    let (ok, transcript) = repo.push(&server, "dockapp-staging", "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert!(transcript.contains("Released v1"), "{transcript}");
    assert_serves(&server, "dockapp-staging", "hello from dockerfile")?;
    Ok(())
}

/// Writes `len` bytes that do not compress, so the pack really is that large.
fn write_random_file(path: &std::path::Path, len: usize) -> Result<()> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    std::fs::write(path, bytes)?;
    Ok(())
}

#[test]
fn builds_over_their_limits_are_rejected_with_the_reason() -> Result<()> {
    // A 1 MiB slug limit: the Python app's virtualenv is far bigger.
    let small = Server::start_with(&["--max-slug-mb", "1"])?;
    create_app(&small, "bigapp")?;
    let repo = AppRepo::from_fixture("python")?;
    let (ok, text) = repo.push(&small, "bigapp-staging", "main")?;
    assert!(!ok, "{text}");
    assert!(text.contains("[remote rejected] main -> main"), "{text}");
    assert!(
        text.contains("too large") && text.contains("--max-slug-mb"),
        "{text}"
    );

    // A 2-second build time limit.
    let quick = Server::start_with(&["--build-timeout", "2"])?;
    create_app(&quick, "slowapp")?;
    let (ok, text) = repo.push(&quick, "slowapp-staging", "main")?;
    assert!(!ok, "{text}");
    assert!(text.contains("[remote rejected] main -> main"), "{text}");
    assert!(text.contains("time limit of 2 s"), "{text}");
    for server in [&small, &quick] {
        let env = if std::ptr::eq(server, &small) {
            "bigapp-staging"
        } else {
            "slowapp-staging"
        };
        let (_, releases) = server.api("GET", &format!("/apps/{env}/releases"), None)?;
        assert_eq!(releases.as_array().map(Vec::len), Some(0), "{releases}");
    }
    Ok(())
}

#[test]
fn bad_input_gets_clear_errors_and_changes_nothing() -> Result<()> {
    let server = Server::start()?;

    // App names: Heroku's rule, 422 with the rule in the message.
    let (status, body) = server.api(
        "POST",
        "/apps",
        Some(&serde_json::json!({"name": "Bad_Name"})),
    )?;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["id"], "invalid_params");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("lowercase letters, digits, and dashes")),
        "{body}"
    );
    let (status, _) = server.api("POST", "/apps", Some(&serde_json::json!({"name": "okapp"})))?;
    assert_eq!(status, 201);
    let (status, body) =
        server.api("POST", "/apps", Some(&serde_json::json!({"name": "okapp"})))?;
    assert_eq!(status, 422);
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("Name is already taken")));
    let (status, apps) = server.api("GET", "/apps", None)?;
    assert_eq!(status, 200);
    assert_eq!(apps.as_array().map(Vec::len), Some(2), "{apps}");

    // Wrong API token → 401 with Heroku's error shape.
    let (status, _) = server.get(&format!("{}/account", server.platform_url()), Some("nope"))?;
    assert_eq!(status, 401);

    let repo = AppRepo::from_fixture("static")?;
    // Unknown app → 404 from git with a clear message.
    let (ok, text) = repo.push(&server, "no-such-app", "main")?;
    assert!(!ok);
    assert!(text.contains("404") || text.contains("not found"), "{text}");
    // Wrong token → authentication failure.
    let url = format!(
        "https://git:wrong@localhost:{}/okapp-staging.git",
        server.https_port
    );
    let (ok, text) = repo.push_url(&server, &url, "main")?;
    assert!(!ok);
    assert!(
        text.contains("Authentication failed") || text.contains("401"),
        "{text}"
    );
    // Production takes promotions, not pushes.
    let (ok, text) = repo.push(&server, "okapp", "main")?;
    assert!(!ok, "{text}");
    assert!(
        text.contains("production deploys only by promotion: doppel promote -p okapp"),
        "{text}"
    );

    // A broken Procfile and a Procfile without web are build errors.
    let broken = AppRepo::from_fixture("broken-procfile")?;
    let (ok, text) = broken.push(&server, "okapp-staging", "main")?;
    assert!(!ok, "{text}");
    assert!(text.contains("Procfile line"), "{text}");
    let no_web = AppRepo::from_fixture("no-web")?;
    let (ok, text) = no_web.push(&server, "okapp-staging", "main")?;
    assert!(!ok, "{text}");
    assert!(text.contains("web"), "{text}");

    // Nothing was released.
    let (_, releases) = server.api("GET", "/apps/okapp-staging/releases", None)?;
    assert_eq!(releases.as_array().map(Vec::len), Some(0), "{releases}");
    Ok(())
}

#[test]
fn restart_keeps_releases_and_serves_again() -> Result<()> {
    let data = tempfile::Builder::new()
        .prefix("doppel-e2e-restart-")
        .tempdir()?;
    let mut server = Server::start_in(data.path())?;
    create_app(&server, "staticapp")?;
    let repo = AppRepo::from_fixture("static")?;
    let (ok, transcript) = repo.push(&server, "staticapp-staging", "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());
    assert_serves(&server, "staticapp-staging", "hello from static")?;
    let dynos = server.running_containers()?;
    assert_eq!(dynos.len(), 1, "one web dyno should run");
    server.stop();

    // A plain restart keeps the running dyno: nothing is restarted that did not need it.
    let mut server = Server::start_in(data.path())?;
    assert_serves(&server, "staticapp-staging", "hello from static")?;
    assert_eq!(
        server.running_containers()?,
        dynos,
        "restart replaced a healthy dyno"
    );
    server.stop();

    // Kill the dyno too, as a machine reboot would: the reconciler must bring it back.
    server.remove_containers();
    let restarted = Server::start_in(data.path())?;
    let served = restarted.wait_serves("staticapp-staging", "hello from static", 60)?;
    assert!(
        served,
        "staging did not come back after restart:\n{}",
        restarted.log()
    );
    let (_, releases) = restarted.api("GET", "/apps/staticapp-staging/releases", None)?;
    assert_eq!(releases.as_array().map(Vec::len), Some(1));

    // A dyno that dies while the server runs is replaced by the reconciler.
    let dynos = restarted.running_containers()?;
    assert_eq!(dynos.len(), 1);
    let killed = std::process::Command::new("docker")
        .args(["kill", &dynos[0]])
        .output()?;
    assert!(killed.status.success());
    let served = restarted.wait_serves("staticapp-staging", "hello from static", 60)?;
    assert!(
        served,
        "the crashed dyno was not replaced:\n{}",
        restarted.log()
    );
    assert_ne!(restarted.running_containers()?, dynos);
    restarted.remove_all();
    Ok(())
}

#[test]
fn a_crash_mid_build_loses_nothing() -> Result<()> {
    let data = tempfile::Builder::new()
        .prefix("doppel-e2e-crash-")
        .tempdir()?;
    let mut server = Server::start_in(data.path())?;
    create_app(&server, "crashapp")?;
    let repo = AppRepo::from_fixture("static")?;
    let (ok, transcript) = repo.push(&server, "crashapp-staging", "main")?;
    assert!(ok, "push failed:\n{transcript}\n{}", server.log());

    // A slow Dockerfile build, cut off by killing the server mid-build.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    std::fs::write(
        repo.path().join("Dockerfile"),
        format!("FROM doppel/heroku-24\nRUN echo {nonce} && sleep 120\nCMD [\"sh\", \"-c\", \"python3 -m http.server $PORT\"]\n"),
    )?;
    repo.commit_all("slow build")?;
    let push = {
        let url = server.git_url("crashapp-staging");
        let ca = server.ca();
        let dir = repo.path().to_path_buf();
        std::thread::spawn(move || {
            std::process::Command::new("git")
                .args(["push", &url, "main"])
                .current_dir(dir)
                .env("GIT_SSL_CAINFO", ca)
                .env("GIT_TERMINAL_PROMPT", "0")
                .output()
        })
    };
    let mut building = false;
    for _ in 0..120 {
        let (_, builds) = server.api("GET", "/apps/crashapp-staging/builds", None)?;
        if builds
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["status"] == "pending"))
        {
            building = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(building, "the slow build never started:\n{}", server.log());
    std::thread::sleep(std::time::Duration::from_secs(2));
    server.kill();
    let pushed = push
        .join()
        .map_err(|_| anyhow::anyhow!("push thread panicked"))??;
    assert!(
        !pushed.status.success(),
        "a push cut off by a crash must not succeed"
    );

    // After the restart: the build is failed, v1 is still the only release and serves.
    let restarted = Server::start_in(data.path())?;
    let (_, builds) = restarted.api("GET", "/apps/crashapp-staging/builds", None)?;
    let builds = builds.as_array().cloned().unwrap_or_default();
    assert_eq!(builds.len(), 2, "{builds:?}");
    assert!(
        builds.iter().all(|b| b["status"] != "pending"),
        "{builds:?}"
    );
    let (_, releases) = restarted.api("GET", "/apps/crashapp-staging/releases", None)?;
    assert_eq!(releases.as_array().map(Vec::len), Some(1), "{releases}");
    let served = restarted.wait_serves("crashapp-staging", "hello from static", 60)?;
    assert!(
        served,
        "v1 did not serve after the crash:\n{}",
        restarted.log()
    );

    // The repository is intact: the next push (without the slow step) deploys v2.
    std::fs::remove_file(repo.path().join("Dockerfile"))?;
    repo.commit_all("fast again")?;
    let (ok, transcript) = repo.push(&restarted, "crashapp-staging", "main")?;
    assert!(
        ok,
        "push after crash failed:\n{transcript}\n{}",
        restarted.log()
    );
    assert!(transcript.contains("Released v2"), "{transcript}");
    restarted.remove_all();
    Ok(())
}

#[test]
fn build_output_streams_live_while_the_build_runs() -> Result<()> {
    use std::io::BufRead;
    let server = Server::start()?;
    create_app(&server, "liveapp")?;
    let repo = AppRepo::from_fixture("dockerfile")?;
    // A nonce keeps Docker's layer cache from skipping the step on later runs.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    std::fs::write(
        repo.path().join("Dockerfile"),
        format!("FROM doppel/heroku-24\nRUN echo {nonce} && echo first-marker && sleep 4 && echo second-marker\nCMD [\"sh\", \"-c\", \"python3 -m http.server $PORT\"]\n"),
    )?;
    repo.commit_all("a build that pauses")?;
    let mut child = std::process::Command::new("git")
        .args(["push", &server.git_url("liveapp-staging"), "main"])
        .current_dir(repo.path())
        .env("GIT_SSL_CAINFO", server.ca())
        .env("GIT_TERMINAL_PROMPT", "0")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let start = std::time::Instant::now();
    let (mut first, mut second) = (None, None);
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line?;
        if line.contains("first-marker") && !line.contains("echo") {
            first = Some(start.elapsed());
        }
        if line.contains("second-marker") && !line.contains("echo") {
            second = Some(start.elapsed());
        }
    }
    assert!(child.wait()?.success(), "push failed:\n{}", server.log());
    let (Some(first), Some(second)) = (first, second) else {
        anyhow::bail!("markers missing from the push output");
    };
    // The first line reached the pusher while the build was still sleeping.
    assert!(
        second >= first + std::time::Duration::from_secs(2),
        "output was held back: first at {first:?}, second at {second:?}"
    );
    Ok(())
}

#[test]
fn the_server_keeps_its_state_in_postgresql_when_asked() -> Result<()> {
    let Ok(admin_url) = std::env::var("DOPPEL_TEST_DATABASE_URL") else {
        eprintln!("skipping: DOPPEL_TEST_DATABASE_URL is not set (deploy/test.sh sets it)");
        return Ok(());
    };
    let db = format!("doppel_e2e_{}", std::process::id());
    let psql = |sql: &str| -> Result<()> {
        let out = std::process::Command::new("psql")
            .args([admin_url.as_str(), "-qc", sql])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    psql(&format!("DROP DATABASE IF EXISTS {db}"))?;
    psql(&format!("CREATE DATABASE {db}"))?;
    let url = match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => anyhow::bail!("DOPPEL_TEST_DATABASE_URL has no database part"),
    };
    let result = (|| -> Result<()> {
        let server = Server::start_with(&["--database-url", &url])?;
        assert!(
            server.log().contains("backend=\"postgres\""),
            "{}",
            server.log()
        );
        assert!(
            !server.data_dir.join("doppel.db").exists(),
            "SQLite must not be used"
        );
        create_app(&server, "pgapp")?;
        let repo = AppRepo::from_fixture("static")?;
        let (ok, transcript) = repo.push(&server, "pgapp-staging", "main")?;
        assert!(ok, "push failed:\n{transcript}\n{}", server.log());
        assert_serves(&server, "pgapp-staging", "hello from static")?;
        Ok(())
    })();
    psql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
    result
}

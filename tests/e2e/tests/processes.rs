//! Process groups end to end (issue 8), with the real engine, git, curl, the doppel CLI and
//! the official Heroku CLI: deploys and rolling restarts that drop no request, a failing
//! release phase, a dyno killed by hand, a crash loop with back-off in `ps`, `doppel server`
//! killed with SIGKILL mid-rollout, `run` with a terminal and its exit code, `run:detached`,
//! and the log stream from every source, through the CLIs and a syslog drain.

use anyhow::{bail, Result};
use doppel_e2e::{docker, wait_for, AppRepo, HerokuCli, Server};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small web server: answers `hello <version>`; boots after `delay` seconds; with
/// `crash_after`, exits 1 that many seconds after it started serving.
const SERVER_PY: &str = r#"
import http.server, os, sys, threading, time
here = os.path.dirname(os.path.abspath(__file__))
version = open(os.path.join(here, "version")).read().strip()
delay = float(open(os.path.join(here, "delay")).read().strip() or 0)
crash = float(open(os.path.join(here, "crash_after")).read().strip() or 0)
print(f"booting {version} on {os.environ['PORT']}", flush=True)
time.sleep(delay)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello {version}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print("request " + fmt % args, flush=True)
if crash:
    def die():
        time.sleep(crash)
        print("crashing now", flush=True)
        os._exit(1)
    threading.Thread(target=die, daemon=True).start()
http.server.ThreadingHTTPServer.request_queue_size = 1024  # Python's default backlog of 5 drops SYNs under load
http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"#;

const DOCKERFILE: &str =
    "FROM doppel/heroku-24\nCOPY . /srv/\nCMD [\"python3\", \"/srv/server.py\"]\n";

/// The app's files for `version` with `procfile`.
fn files(version: &str, procfile: &str, delay: &str, crash_after: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        ("Dockerfile".into(), DOCKERFILE.as_bytes().to_vec()),
        ("server.py".into(), SERVER_PY.as_bytes().to_vec()),
        ("version".into(), version.as_bytes().to_vec()),
        ("delay".into(), delay.as_bytes().to_vec()),
        ("crash_after".into(), crash_after.as_bytes().to_vec()),
        ("Procfile".into(), procfile.as_bytes().to_vec()),
    ]
}

const WEB: &str = "web: python3 /srv/server.py\n";

fn repo(version: &str, procfile: &str) -> Result<AppRepo> {
    let files = files(version, procfile, "0", "0");
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    AppRepo::from_files(&refs)
}

/// Rewrites the app's files and commits them.
fn change(repo: &AppRepo, version: &str, procfile: &str, delay: &str, crash: &str) -> Result<()> {
    for (path, content) in files(version, procfile, delay, crash) {
        std::fs::write(repo.path().join(path), content)?;
    }
    repo.commit_all(version)
}

fn push(server: &Server, repo: &AppRepo, env: &str) -> Result<String> {
    let (ok, text) = repo.push(server, env, "main")?;
    if !ok {
        bail!("push to {env} failed:\n{text}\n{}", server.log());
    }
    Ok(text)
}

fn create(server: &Server, name: &str) -> Result<()> {
    server.create_app(name)
}

fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("doppel {args:?} failed: {text}");
    }
    Ok(text)
}

/// Running containers of `env` whose name has `part` (`.web.1.`, `.v2.`).
fn containers(server: &Server, env: &str, part: &str) -> Result<Vec<String>> {
    let (_, names) = docker(&[
        "ps",
        "--filter",
        &format!("label=doppel.instance={}", server.instance_id()?),
        "--filter",
        &format!("label=doppel.env={env}"),
        "--format",
        "{{.Names}}",
    ])?;
    Ok(names
        .lines()
        .filter(|n| n.contains(part))
        .map(String::from)
        .collect())
}

/// Requests `env` over and over from `threads` threads until stopped; counts answers.
struct Load {
    stop: Arc<AtomicBool>,
    results: Arc<Mutex<Vec<String>>>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(server: &Server, env: &str, threads: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let results = Arc::new(Mutex::new(Vec::new()));
        let url = server.env_url(env);
        let (ca, token) = (server.ca(), server.token.clone());
        let handles = (0..threads)
            .map(|_| {
                let (stop, results, url, ca, token) = (
                    stop.clone(),
                    results.clone(),
                    url.clone(),
                    ca.clone(),
                    token.clone(),
                );
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let out = Command::new("curl")
                            .args(["-s", "-o", "-", "-w", " %{http_code}", "--max-time", "40"])
                            .arg("--cacert")
                            .arg(&ca)
                            .args(["-u", &format!(":{token}")])
                            .arg(&url)
                            .output();
                        let text = match out {
                            Ok(o) => String::from_utf8_lossy(&o.stdout).trim().to_string(),
                            Err(e) => format!("spawn failed: {e}"),
                        };
                        if let Ok(mut r) = results.lock() {
                            r.push(text);
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            results,
            handles,
        }
    }

    /// Stops and returns every answer (`hello v1 200`, or what went wrong).
    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles {
            let _ = h.join();
        }
        self.results.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[test]
fn deploys_and_rolling_restarts_drop_no_request() -> Result<()> {
    let server = Server::start()?;
    create(&server, "steady")?;
    let app = repo("v1", WEB)?;
    push(&server, &app, "steady-staging")?;
    assert!(server.wait_serves("steady-staging", "hello v1", 30)?);

    let load = Load::start(&server, "steady-staging", 3);
    std::thread::sleep(Duration::from_secs(2));
    cli_ok(&server, &["ps:restart", "-a", "steady-staging"])?;
    assert!(wait_for(30, || Ok(containers(
        &server,
        "steady-staging",
        ".web.1."
    )?
    .len()
        == 1))?);
    std::thread::sleep(Duration::from_secs(2));
    change(&app, "v2", WEB, "2", "0")?;
    let transcript = push(&server, &app, "steady-staging")?;
    assert!(transcript.contains("Released v2"), "{transcript}");
    std::thread::sleep(Duration::from_secs(2));
    // The official CLI's restart of one process type too.
    server
        .heroku(
            HerokuCli::V11,
            &[
                "ps:restart",
                "--process-type",
                "web",
                "-a",
                "steady-staging",
            ],
        )?
        .ok()?;
    std::thread::sleep(Duration::from_secs(6));
    let answers = load.finish();
    let failed: Vec<&String> = answers.iter().filter(|a| !a.ends_with(" 200")).collect();
    assert!(answers.len() > 20, "too few requests: {}", answers.len());
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}\n{}",
        failed.len(),
        answers.len(),
        &failed[..failed.len().min(10)],
        server.log()
    );
    assert!(answers.iter().any(|a| a.starts_with("hello v1")));
    assert!(answers.iter().any(|a| a.starts_with("hello v2")));
    // Old dynos were drained and removed; one web dyno of v2 is left.
    assert!(wait_for(40, || Ok(containers(
        &server,
        "steady-staging",
        ""
    )?
    .len()
        == 1))?);
    let ps = cli_ok(&server, &["ps", "-a", "steady-staging"])?;
    assert!(ps.contains("web.1: up"), "{ps}");
    assert!(ps.contains("v2"), "{ps}");
    Ok(())
}

#[test]
fn a_failing_release_phase_keeps_the_old_release_serving() -> Result<()> {
    let server = Server::start()?;
    create(&server, "relfail")?;
    let procfile = format!("{WEB}release: echo migrating the database\n");
    let app = repo("v1", &procfile)?;
    let transcript = push(&server, &app, "relfail-staging")?;
    assert!(
        transcript.contains("Running release command..."),
        "{transcript}"
    );
    assert!(
        transcript.contains("migrating the database"),
        "{transcript}"
    );
    assert!(server.wait_serves("relfail-staging", "hello v1", 30)?);

    let failing = format!("{WEB}release: echo the migration broke; exit 4\n");
    change(&app, "v2", &failing, "0", "0")?;
    let (ok, transcript) = app.push(&server, "relfail-staging", "main")?;
    assert!(
        !ok,
        "a failed release phase rejects the push:\n{transcript}"
    );
    assert!(transcript.contains("the migration broke"), "{transcript}");
    assert!(transcript.contains("exited with status 4"), "{transcript}");
    assert!(server.wait_serves("relfail-staging", "hello v1", 5)?);
    let (_, releases) = server.api("GET", "/apps/relfail-staging/releases", None)?;
    let last = releases
        .as_array()
        .and_then(|r| r.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["status"], "failed", "{releases}");
    assert!(containers(&server, "relfail-staging", ".v2.")?.is_empty());
    let logs = cli_ok(&server, &["logs", "-a", "relfail-staging", "-n", "200"])?;
    assert!(logs.contains("the migration broke"), "{logs}");
    assert!(
        logs.contains("failed: the release command exited with status 4"),
        "{logs}"
    );
    Ok(())
}

#[test]
fn a_killed_dyno_comes_back_and_a_crash_loop_backs_off() -> Result<()> {
    let server = Server::start()?;
    create(&server, "crashy")?;
    let app = repo("v1", WEB)?;
    push(&server, &app, "crashy-staging")?;
    assert!(server.wait_serves("crashy-staging", "hello v1", 30)?);
    let before = server.dyno_ids("crashy-staging")?;
    assert_eq!(before.len(), 1);
    let (ok, out) = docker(&["kill", &before[0]])?;
    assert!(ok, "{out}");
    assert!(wait_for(20, || {
        let now = server.dyno_ids("crashy-staging")?;
        Ok(now.len() == 1 && now[0] != before[0])
    })?);
    assert!(server.wait_serves("crashy-staging", "hello v1", 20)?);
    let logs = cli_ok(
        &server,
        &["logs", "-a", "crashy-staging", "-n", "300", "--dyno", "web"],
    )?;
    assert!(
        logs.contains("heroku[web.1]: Process exited with status 137"),
        "{logs}"
    );
    assert!(
        logs.contains("heroku[web.1]: State changed from up to crashed"),
        "{logs}"
    );

    // A release whose web dyno dies 3 s after it starts serving: restarted at once, then
    // after 5 s, then 10 s; `crashed` in `ps` meanwhile.
    change(&app, "v2", WEB, "0", "3")?;
    push(&server, &app, "crashy-staging")?;
    let mut saw_crashed = false;
    let mut starts: Vec<Instant> = Vec::new();
    let mut last_id = String::new();
    let until = Instant::now() + Duration::from_secs(45);
    while Instant::now() < until && starts.len() < 4 {
        let (_, ps) = server.api("GET", "/apps/crashy-staging/dynos", None)?;
        let web = ps
            .as_array()
            .and_then(|d| d.first())
            .cloned()
            .unwrap_or_default();
        if web["state"] == "crashed" {
            saw_crashed = true;
        }
        if let Some(id) = web["id"].as_str() {
            if id != last_id && web["state"] != "crashed" {
                last_id = id.to_string();
                starts.push(Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(saw_crashed, "ps never showed the dyno crashed");
    assert!(
        starts.len() >= 3,
        "the dyno was not restarted: {} starts",
        starts.len()
    );
    let gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    // Each gap is the 3 s it ran plus its back-off (0, 5, 10 s…): they grow.
    assert!(
        gaps.windows(2).all(|g| g[1] > g[0] + 2.0),
        "restarts did not back off: {gaps:?}"
    );
    let ps = cli_ok(&server, &["ps", "-a", "crashy-staging"])?;
    assert!(ps.contains("web.1:"), "{ps}");
    let logs = cli_ok(&server, &["logs", "-a", "crashy-staging", "-n", "300"])?;
    assert!(
        logs.contains("app[web.1]: crashing now"),
        "what it printed before dying is kept: {logs}"
    );
    Ok(())
}

#[test]
fn doppel_killed_mid_rollout_converges_without_orphans() -> Result<()> {
    let mut first = Server::start()?;
    create(&first, "sigkill")?;
    let app = repo("v1", WEB)?;
    push(&first, &app, "sigkill-staging")?;
    assert!(first.wait_serves("sigkill-staging", "hello v1", 30)?);

    // v2's web dyno takes 20 s to boot: doppel is killed while it does.
    change(&app, "v2", WEB, "20", "0")?;
    let url = first.git_url("sigkill-staging");
    let ca = first.ca();
    let dir = app.path().to_path_buf();
    let pusher = std::thread::spawn(move || {
        Command::new("git")
            .args(["push", &url, "main"])
            .current_dir(dir)
            .env("GIT_SSL_CAINFO", ca)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
    });
    assert!(wait_for(120, || Ok(!containers(
        &first,
        "sigkill-staging",
        ".v2."
    )?
    .is_empty()))?);
    first.kill();
    let _ = pusher.join();
    let second = Server::start_in(&first.data_dir)?;
    // The uncommitted v2 is unwound: its dyno removed, v1 serving alone.
    assert!(wait_for(30, || Ok(containers(
        &second,
        "sigkill-staging",
        ".v2."
    )?
    .is_empty()))?);
    assert!(second.wait_serves("sigkill-staging", "hello v1", 20)?);
    assert_eq!(containers(&second, "sigkill-staging", "")?.len(), 1);
    let (_, releases) = second.api("GET", "/apps/sigkill-staging/releases", None)?;
    let statuses: Vec<String> = releases
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["status"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(statuses, ["succeeded", "failed"], "{releases}");

    // Killed just after a commit, while the old dyno drains: the new release serves alone.
    change(&app, "v3", WEB, "0", "0")?;
    push(&second, &app, "sigkill-staging")?;
    let mut second = second;
    second.kill();
    let third = Server::start_in(&first.data_dir)?;
    assert!(third.wait_serves("sigkill-staging", "hello v3", 30)?);
    assert!(wait_for(60, || Ok(containers(
        &third,
        "sigkill-staging",
        ""
    )?
    .len()
        == 1))?);
    assert_eq!(containers(&third, "sigkill-staging", ".v3.")?.len(), 1);
    drop(third);
    drop(second);
    drop(first);
    Ok(())
}

#[test]
fn run_with_a_terminal_and_its_exit_code_and_run_detached() -> Result<()> {
    let server = Server::start()?;
    create(&server, "runner")?;
    let app = repo("v1", WEB)?;
    push(&server, &app, "runner-staging")?;

    // `script` gives the CLI a terminal of 45 rows and 123 columns.
    let cli = format!(
        "stty rows 45 cols 123; {} run -a runner-staging -- sh -c 'tty; stty size; echo from $DYNO; exit 7'",
        doppel_e2e::doppel_bin().display()
    );
    let out = Command::new("script")
        .args(["-qec", &cli, "/dev/null"])
        .env("DOPPEL_HOST", server.platform_url())
        .env("DOPPEL_API_KEY", &server.token)
        .env("DOPPEL_CA_CERT", server.ca())
        .env("HOME", server.data_dir.join("cli-home"))
        .stdin(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert!(
        text.contains("/dev/pts/"),
        "the dyno had no terminal: {text}"
    );
    assert!(
        text.contains("45 123"),
        "the terminal's size did not reach the dyno: {text}"
    );
    assert!(text.contains("from run."), "{text}");
    assert!(!text.contains("heroku-command-exit-status"), "{text}");

    // Without a terminal: stdin goes through and ends, and the exit code comes back.
    let mut child = Command::new(doppel_e2e::doppel_bin())
        .args([
            "run",
            "-a",
            "runner-staging",
            "--",
            "sh",
            "-c",
            "read line; echo got $line; exit 0",
        ])
        .env("DOPPEL_HOST", server.platform_url())
        .env("DOPPEL_API_KEY", &server.token)
        .env("DOPPEL_CA_CERT", server.ca())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(b"piped-input\n")?;
    }
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("got piped-input"), "{text}");

    // run:detached: the output goes to the log stream.
    let text = cli_ok(
        &server,
        &[
            "run:detached",
            "-a",
            "runner-staging",
            "--",
            "echo",
            "detached-hello",
        ],
    )?;
    let name = text
        .split_whitespace()
        .find(|w| w.starts_with("run."))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_digit())
                .to_string()
        })
        .unwrap_or_default();
    assert!(!name.is_empty(), "{text}");
    assert!(wait_for(20, || {
        let logs = cli_ok(&server, &["logs", "-a", "runner-staging", "--dyno", &name])?;
        Ok(logs.contains(&format!("app[{name}]: detached-hello")))
    })?);
    // The official CLI's run:detached.
    let ran = server
        .heroku(
            HerokuCli::V11,
            &[
                "run:detached",
                "-a",
                "runner-staging",
                "echo",
                "heroku-detached",
            ],
        )?
        .ok()?;
    assert!(ran.text().contains("run."), "{}", ran.text());
    assert!(wait_for(20, || {
        let logs = cli_ok(&server, &["logs", "-a", "runner-staging", "-n", "300"])?;
        Ok(logs.contains("heroku-detached"))
    })?);
    // Finished one-offs are removed; nothing but the web dyno is left.
    assert!(wait_for(20, || Ok(containers(
        &server,
        "runner-staging",
        ".run."
    )?
    .is_empty()))?);
    Ok(())
}

/// A syslog receiver on the host's loopback: every line it gets.
/// Reads a child's output in a thread into a shared buffer.
fn collect(out: Option<std::process::ChildStdout>) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    if let Some(out) = out {
        let into = buf.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut b) = into.lock() {
                    b.push_str(&line);
                    b.push('\n');
                }
            }
        });
    }
    buf
}

fn syslog_listener() -> Result<(u16, Arc<Mutex<Vec<String>>>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = lines.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(conn).lines().map_while(Result::ok) {
                    if let Ok(mut k) = kept.lock() {
                        k.push(line);
                    }
                }
            });
        }
    });
    Ok((port, lines))
}

#[test]
fn logs_from_every_source_reach_the_clis_and_a_drain() -> Result<()> {
    let server = Server::start()?;
    create(&server, "logged")?;
    let (port, received) = syslog_listener()?;
    let (status, drain) = server.api(
        "POST",
        "/apps/logged-staging/log-drains",
        Some(&serde_json::json!({ "url": format!("syslog://127.0.0.1:{port}") })),
    )?;
    assert_eq!(status, 201, "{drain}");
    let token = drain["token"].as_str().unwrap_or_default().to_string();
    let procfile = format!("{WEB}release: echo release-phase-output\n");
    let app = repo("v1", &procfile)?;
    push(&server, &app, "logged-staging")?;
    assert!(server.wait_serves("logged-staging", "hello v1", 30)?);

    // A tail started now sees new lines.
    let mut tail = Command::new(doppel_e2e::doppel_bin())
        .args(["logs", "-a", "logged-staging", "--tail", "-n", "1"])
        .env("DOPPEL_HOST", server.platform_url())
        .env("DOPPEL_API_KEY", &server.token)
        .env("DOPPEL_CA_CERT", server.ca())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut heroku_tail = server
        .heroku_command(
            HerokuCli::V11,
            None,
            &["logs", "--tail", "-a", "logged-staging"],
        )?
        .stdout(Stdio::piped())
        .spawn()?;
    // Both tails read in threads; a marker request is made every second until both saw one
    // (the official CLI takes seconds to start on a loaded machine).
    let tailed = collect(tail.stdout.take());
    let heroku_tailed = collect(heroku_tail.stdout.take());
    let seen = |buf: &Arc<Mutex<String>>, needle: &str| {
        buf.lock().map(|b| b.contains(needle)).unwrap_or(false)
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60)
        && !(seen(&tailed, "path=\"/tail-marker\"") && seen(&heroku_tailed, "tail-marker"))
    {
        let (status, _) = server.get(
            &format!("{}tail-marker", server.env_url("logged-staging")),
            Some(&server.token),
        )?;
        assert_eq!(status, 200);
        std::thread::sleep(Duration::from_secs(1));
    }
    let _ = tail.kill();
    let _ = heroku_tail.kill();
    let _ = tail.wait();
    let _ = heroku_tail.wait();
    assert!(
        seen(&tailed, "path=\"/tail-marker\""),
        "doppel logs --tail: {tailed:?}"
    );
    assert!(
        seen(&heroku_tailed, "tail-marker"),
        "heroku logs --tail: {heroku_tailed:?}"
    );

    let logs = cli_ok(&server, &["logs", "-a", "logged-staging", "-n", "1500"])?;
    for needle in [
        "heroku[build]: ",
        "app[api]: Deploy ",
        "app[api]: Release v1 created by admin@localhost",
        "app[release.",
        "release-phase-output",
        "heroku[web.1]: State changed from starting to up",
        "app[web.1]: booting v1",
        "heroku[router]: at=info method=GET path=\"/tail-marker\"",
    ] {
        assert!(logs.contains(needle), "{needle:?} missing from:\n{logs}");
    }
    // Filters.
    let router = cli_ok(
        &server,
        &[
            "logs",
            "-a",
            "logged-staging",
            "-s",
            "heroku",
            "-d",
            "router",
        ],
    )?;
    assert!(
        router.lines().all(|l| l.contains("heroku[router]")),
        "{router}"
    );
    let few = cli_ok(&server, &["logs", "-a", "logged-staging", "-n", "3"])?;
    assert_eq!(few.lines().count(), 3, "{few}");
    // The official CLIs read it too (v11 over server-sent events).
    for cli in HerokuCli::ALL {
        let ran = server
            .heroku(cli, &["logs", "-a", "logged-staging", "-n", "50"])?
            .ok()?;
        assert!(
            ran.stdout.contains("heroku[router]"),
            "{cli:?}: {}",
            ran.text()
        );
    }
    // The drain got the same lines as RFC 5424 syslog with its token as the host.
    assert!(wait_for(15, || Ok(received
        .lock()
        .map(|r| r
            .iter()
            .any(|l| l.contains(&token) && l.contains("tail-marker")))
        .unwrap_or(false)))?);
    let got = received.lock().map(|r| r.clone()).unwrap_or_default();
    assert!(
        got.iter()
            .any(|l| l.contains("<190>1 ") && l.contains(" app web.1 - ")),
        "{got:?}"
    );
    // The last lines are kept across a restart of doppel.
    let mut server = server;
    server.stop();
    let again = Server::start_in(&server.data_dir)?;
    let kept = cli_ok(&again, &["logs", "-a", "logged-staging", "-n", "1500"])?;
    assert!(kept.contains("tail-marker"), "{kept}");
    drop(again);
    Ok(())
}

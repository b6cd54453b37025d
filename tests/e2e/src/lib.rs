//! End-to-end test harness: starts a real `doppel server` on free ports with its own data
//! directory, and drives it the way a user does, with `curl`, `git` and the `doppel` CLI.
//!
//! The binary comes from `DOPPEL_BIN` (set by `deploy/test.sh`), else `target/debug/doppel`.

pub mod browser;
pub mod clients;
pub mod netns;
pub mod notes_app;
pub mod pebble;

pub use clients::{HerokuCli, Ran};

use anyhow::{bail, Context, Result};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The host CA bundle trusted inside builds so pip and npm reach their registries.
pub const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Path of the doppel binary under test.
pub fn doppel_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("DOPPEL_BIN") {
        return PathBuf::from(bin);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    target.join("debug/doppel")
}

/// The repository's root, for fixtures.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether a server failed to start because a port it was given was taken meanwhile: the
/// server says so, or its router process did (in its own log, which the server points to).
fn port_taken(e: &anyhow::Error, data_dir: &Path) -> bool {
    const TAKEN: &str = "is another server using the port";
    let text = format!("{e:#}");
    text.contains(TAKEN)
        || (text.contains("the router exited at start")
            && std::fs::read_to_string(data_dir.join("router").join("router.log"))
                .is_ok_and(|log| log.contains(TAKEN)))
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running `doppel server`, stopped when dropped.
pub struct Server {
    child: Option<Child>,
    pub data_dir: PathBuf,
    _data_tmp: Option<tempfile::TempDir>,
    pub https_port: u16,
    pub http_port: u16,
    /// Where clients attach to one-off dynos.
    pub rendezvous_port: u16,
    pub token: String,
    /// The `--domain` given in the extra flags (`localhost` without one).
    pub domain: String,
}

impl Server {
    /// Starts a server on a fresh, empty data directory.
    pub fn start() -> Result<Server> {
        Server::start_with(&[])
    }

    /// Starts a server on a fresh data directory with extra `doppel server` flags.
    pub fn start_with(extra: &[&str]) -> Result<Server> {
        let tmp = tempfile::Builder::new().prefix("doppel-e2e-").tempdir()?;
        let dir = tmp.path().to_path_buf();
        let mut server = Server::launch(&dir, extra)?;
        server._data_tmp = Some(tmp);
        Ok(server)
    }

    /// Starts a server on `data_dir` (which may hold an earlier server's state).
    pub fn start_in(data_dir: &Path) -> Result<Server> {
        Server::launch(data_dir, &[])
    }

    /// Starts a server on `data_dir` (an earlier server's) with extra `doppel server` flags.
    pub fn start_in_with(data_dir: &Path, extra: &[&str]) -> Result<Server> {
        Server::launch(data_dir, extra)
    }

    /// Starts a server on a data directory the test prepared; it is cleaned up like a fresh one.
    pub fn start_in_owned(tmp: tempfile::TempDir, extra: &[&str]) -> Result<Server> {
        let dir = tmp.path().to_path_buf();
        let mut server = Server::launch(&dir, extra)?;
        server._data_tmp = Some(tmp);
        Ok(server)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The installation id that labels this server's containers and names its networks.
    pub fn instance_id(&self) -> Result<String> {
        Ok(std::fs::read_to_string(self.data_dir.join("instance-id"))?
            .trim()
            .to_string())
    }

    /// Creates an app through the API; fails unless it answers 201.
    pub fn create_app(&self, name: &str) -> Result<()> {
        let (status, body) =
            self.api("POST", "/apps", Some(&serde_json::json!({ "name": name })))?;
        if status != 201 {
            bail!("creating {name}: {status} {body}");
        }
        Ok(())
    }

    /// The container ids of `env`'s running dynos.
    pub fn dyno_ids(&self, env: &str) -> Result<Vec<String>> {
        docker_ids(&[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &self.instance_label()?,
            "--filter",
            &format!("label=doppel.env={env}"),
            "--filter",
            "label=doppel.role=dyno",
        ])
    }

    /// Launches on free ports; another test may grab a port between our probe and the
    /// server's bind, so a bind failure is retried on new ports.
    fn launch(data_dir: &Path, extra: &[&str]) -> Result<Server> {
        // The router outlives a stopped server: a restart serves on its ports.
        let router_ports = running_router_ports(data_dir);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Server::launch_once(data_dir, extra, router_ports) {
                Err(e) if attempt < 4 && port_taken(&e, data_dir) => continue,
                other => return other,
            }
        }
    }

    fn launch_once(data_dir: &Path, extra: &[&str], ports: Option<(u16, u16)>) -> Result<Server> {
        let (https_port, http_port) = match ports {
            Some(p) => p,
            None => (free_port()?, free_port()?),
        };
        let rendezvous_port = free_port()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("server.log"))?;
        let child = Command::new(doppel_bin())
            .arg("server")
            // An installed package's /etc/doppel/doppel.toml must not reach test servers.
            .args(["--config", "/dev/null"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--bind", "127.0.0.1"])
            .args(["--https-port", &https_port.to_string()])
            .args(["--http-port", &http_port.to_string()])
            .args(["--rendezvous-port", &rendezvous_port.to_string()])
            .args(["--build-ca-bundle", HOST_CA_BUNDLE])
            .args(extra)
            .env("DOPPEL_LOG", "info")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", doppel_bin().display()))?;
        let mut server = Server {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            _data_tmp: None,
            https_port,
            http_port,
            rendezvous_port,
            token: String::new(),
            domain: extra
                .iter()
                .position(|a| *a == "--domain")
                .and_then(|i| extra.get(i + 1))
                .map_or_else(|| "localhost".to_string(), |d| d.to_string()),
        };
        server.wait_ready(Duration::from_secs(900))?;
        Ok(server)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "doppel server exited early ({status}); log:\n{}",
                        self.log()
                    );
                }
            }
            if let Ok(token) = std::fs::read_to_string(self.data_dir.join("admin-token")) {
                self.token = token.trim().to_string();
                let (status, _) = self.api("GET", "/account", None)?;
                if status == 200 {
                    return Ok(());
                }
            }
            if start.elapsed() > limit {
                bail!(
                    "doppel server not ready after {limit:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("server.log")).unwrap_or_default()
    }

    pub fn ca(&self) -> PathBuf {
        self.data_dir.join("ca.pem")
    }

    /// `https://localhost:<port>`; with another `--domain` (not resolvable here),
    /// `https://127.0.0.1:<port>` (the router serves the platform on its IP too).
    pub fn platform_url(&self) -> String {
        let host = if self.domain == "localhost" {
            "localhost"
        } else {
            "127.0.0.1"
        };
        format!("https://{host}:{}", self.https_port)
    }

    /// `https://<env>.localhost:<port>/`
    pub fn env_url(&self, env: &str) -> String {
        format!("https://{env}.localhost:{}/", self.https_port)
    }

    /// git URL with the token as Basic password.
    pub fn git_url(&self, env: &str) -> String {
        format!(
            "https://git:{}@localhost:{}/{env}.git",
            self.token, self.https_port
        )
    }

    /// An API call with curl; returns status and parsed JSON (Null when not JSON).
    pub fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method])
            .arg("--cacert")
            .arg(self.ca())
            .args(["-H", "Accept: application/vnd.heroku+json; version=3"])
            .args(["-H", &format!("Authorization: Bearer {}", self.token)]);
        if let Some(body) = body {
            cmd.args([
                "-H",
                "Content-Type: application/json",
                "-d",
                &body.to_string(),
            ]);
        }
        cmd.arg(format!("{}{path}", self.platform_url()));
        let (status, text) = status_and_body(&cmd.output()?)?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// GET with curl (verifying TLS with the platform CA), optionally with a Basic password.
    pub fn get(&self, url: &str, password: Option<&str>) -> Result<(u16, String)> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "30"])
            .arg("--cacert")
            .arg(self.ca());
        if let Some(p) = password {
            cmd.args(["-u", &format!("user:{p}")]);
        }
        cmd.arg(url);
        status_and_body(&cmd.output()?)
    }

    /// The response headers of a GET (curl `-D -`), lowercased, without credentials.
    pub fn get_headers(&self, url: &str) -> Result<String> {
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-D", "-", "--max-time", "30"])
            .arg("--cacert")
            .arg(self.ca())
            .arg(url)
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).to_ascii_lowercase())
    }

    /// Runs the doppel CLI against this server.
    pub fn cli(&self, args: &[&str]) -> Result<Output> {
        Ok(Command::new(doppel_bin())
            .args(args)
            .env("DOPPEL_HOST", self.platform_url())
            .env("DOPPEL_API_KEY", &self.token)
            .env("DOPPEL_CA_CERT", self.ca())
            .env("HOME", self.data_dir.join("cli-home"))
            .output()?)
    }

    /// Kills the server at once (SIGKILL), as a crash or power loss would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs the doppel CLI with no DOPPEL_* variables: it must use what `doppel login` saved
    /// under `home`. The token, if any, is given on standard input.
    pub fn cli_logged_in(&self, home: &Path, args: &[&str], stdin: Option<&str>) -> Result<Output> {
        use std::io::Write;
        let mut child = Command::new(doppel_bin())
            .args(args)
            .env_remove("DOPPEL_HOST")
            .env_remove("DOPPEL_API_KEY")
            .env_remove("DOPPEL_CA_CERT")
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            if let Some(text) = stdin {
                input.write_all(text.as_bytes())?;
            }
        }
        Ok(child.wait_with_output()?)
    }

    /// The router process serving this data directory (`doppel router`), if one runs.
    pub fn router_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir.join("router/router.pid")).ok()?;
        text.trim().parse().ok()
    }

    /// Stops the router process (it outlives the server by design) and waits for it to exit.
    pub fn stop_router(&self) {
        let Some(pid) = self.router_pid() else { return };
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(70) {
            if !process_alive(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }

    /// Stops the server and starts it again on the same data directory with `extra` flags
    /// (the data directory stays owned as before).
    pub fn restart_with(&mut self, extra: &[&str]) -> Result<()> {
        self.stop();
        let mut new = Server::launch(&self.data_dir, extra)?;
        self.child = new.child.take();
        self.https_port = new.https_port;
        self.http_port = new.http_port;
        self.rendezvous_port = new.rendezvous_port;
        self.token = std::mem::take(&mut new.token);
        // `new` owns nothing more; its drop would stop the router this server shares.
        std::mem::forget(new);
        Ok(())
    }

    /// Stops the server (SIGTERM, then SIGKILL after 20 s); the router keeps serving.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Removes every container, network and release image this server's installation made.
    pub fn remove_all(&self) {
        self.remove_containers();
        if let Ok(label) = self.instance_label() {
            docker_remove(
                &["network", "ls", "-q", "--filter", &label],
                &["network", "rm"],
            );
        }
        if let Ok(id) = std::fs::read_to_string(self.data_dir.join("instance-id")) {
            self.remove_images(id.trim());
        }
        // Add-on data volumes (doppel.role=addon), once their containers are gone.
        if let Ok(label) = self.instance_label() {
            docker_remove(
                &["volume", "ls", "-q", "--filter", &label],
                &["volume", "rm"],
            );
        }
    }

    /// Ids of this installation's containers that are running, sorted.
    pub fn running_containers(&self) -> Result<Vec<String>> {
        let mut ids = docker_ids(&[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &self.instance_label()?,
        ])?;
        ids.sort();
        Ok(ids)
    }

    /// Removes every container this server's installation made.
    pub fn remove_containers(&self) {
        if let Ok(label) = self.instance_label() {
            docker_remove(&["ps", "-aq", "--filter", &label], &["rm", "-f"]);
        }
    }

    fn remove_images(&self, instance: &str) {
        let reference = format!("reference=doppel/app-{instance}-*");
        docker_remove(&["images", "-q", "--filter", &reference], &["rmi", "-f"]);
    }

    fn instance_label(&self) -> Result<String> {
        let id = std::fs::read_to_string(self.data_dir.join("instance-id"))?;
        Ok(format!("label=doppel.instance={}", id.trim()))
    }

    /// Polls `env` (with the token) until it answers 200 with `needle`, for up to `secs`.
    pub fn wait_serves(&self, env: &str, needle: &str, secs: u64) -> Result<bool> {
        for _ in 0..secs {
            let (status, body) = self.get(&self.env_url(env), Some(&self.token))?;
            if status == 200 && body.contains(needle) {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        Ok(false)
    }
}

/// Polls `check` every 250 ms for up to `secs` seconds; whether it held at some point.
pub fn wait_for(secs: u64, mut check: impl FnMut() -> Result<bool>) -> Result<bool> {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check()? {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    check()
}

/// `docker inspect <what>` as JSON (the first object).
pub fn docker_inspect(what: &str) -> Result<serde_json::Value> {
    let out = Command::new("docker").args(["inspect", what]).output()?;
    if !out.status.success() {
        bail!(
            "docker inspect {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let all: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(all[0].clone())
}

/// Runs `docker` with `args`; returns (success, stdout + stderr).
pub fn docker(args: &[&str]) -> Result<(bool, String)> {
    let out = Command::new("docker").args(args).output()?;
    Ok((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

/// The ids a `docker` listing command prints.
pub fn docker_ids(args: &[&str]) -> Result<Vec<String>> {
    let out = Command::new("docker").args(args).output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect())
}

/// Lists ids with `list`, then removes them with `remove` (best effort: cleanup only).
fn docker_remove(list: &[&str], remove: &[&str]) {
    let Ok(ids) = docker_ids(list) else { return };
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(remove)
            .args(&ids)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        self.stop_router();
        if self._data_tmp.is_some() {
            self.remove_all();
        }
    }
}

/// Whether `pid` runs (a zombie waiting for its reaper does not).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The HTTPS and HTTP ports of the router serving `data_dir`, if one answers.
fn running_router_ports(data_dir: &Path) -> Option<(u16, u16)> {
    let out = Command::new(doppel_bin())
        .args(["router", "--status", "--config", "/dev/null", "--data-dir"])
        .arg(data_dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let port = |v: &serde_json::Value| {
        v.as_str()?
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
    };
    Some((port(&status["https"])?, port(&status["http"])?))
}

fn status_and_body(out: &Output) -> Result<(u16, String)> {
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    let status = code.trim().parse().with_context(|| {
        format!(
            "curl gave no status: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((status, body.to_string()))
}

/// A git work tree made from a fixture app, with one commit on `main`.
pub struct AppRepo {
    pub dir: tempfile::TempDir,
}

impl AppRepo {
    /// Copies `tests/fixtures/apps/<name>` into a new repository and commits it.
    pub fn from_fixture(name: &str) -> Result<AppRepo> {
        let dir = tempfile::Builder::new().prefix("doppel-app-").tempdir()?;
        let src = repo_root().join("tests/fixtures/apps").join(name);
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", src.display()))
            .arg(dir.path())
            .status()?;
        if !status.success() {
            bail!("copying fixture {name}");
        }
        let repo = AppRepo { dir };
        repo.git(&["init", "-q", "-b", "main"])?;
        repo.commit_all("initial commit")?;
        Ok(repo)
    }

    /// A new repository holding `files` (path, content), committed on `main`.
    pub fn from_files(files: &[(&str, &[u8])]) -> Result<AppRepo> {
        let dir = tempfile::Builder::new().prefix("doppel-app-").tempdir()?;
        for (path, content) in files {
            let full = dir.path().join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(full, content)?;
        }
        let repo = AppRepo { dir };
        repo.git(&["init", "-q", "-b", "main"])?;
        repo.commit_all("initial commit")?;
        Ok(repo)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the work tree; fails unless git succeeds.
    pub fn git(&self, args: &[&str]) -> Result<Output> {
        let out = self.git_raw(args)?;
        if !out.status.success() {
            bail!(
                "git {args:?} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(out)
    }

    /// Runs git in the work tree and returns its output whatever the exit status.
    pub fn git_raw(&self, args: &[&str]) -> Result<Output> {
        Ok(Command::new("git")
            .args([
                "-c",
                "user.name=doppel-e2e",
                "-c",
                "user.email=e2e@doppel.test",
            ])
            .args(args)
            .current_dir(self.path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()?)
    }

    /// Runs git trusting the server's CA (`GIT_SSL_CAINFO` wins over git config, and may
    /// already be set in the environment to the host bundle).
    fn git_with_ca(&self, server: &Server, args: &[&str]) -> Result<Output> {
        Ok(Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_SSL_CAINFO", server.ca())
            .output()?)
    }

    pub fn commit_all(&self, message: &str) -> Result<()> {
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "--allow-empty", "-m", message])?;
        Ok(())
    }

    /// `git push <url> <refspec>` trusting the platform CA; returns (success, combined output).
    pub fn push(&self, server: &Server, env: &str, refspec: &str) -> Result<(bool, String)> {
        let url = server.git_url(env);
        let out = self.git_with_ca(server, &["push", &url, refspec])?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.success(), text))
    }

    /// Like [`AppRepo::push`] with a custom URL (wrong token, unknown app…).
    pub fn push_url(&self, server: &Server, url: &str, refspec: &str) -> Result<(bool, String)> {
        let out = self.git_with_ca(server, &["push", url, refspec])?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.success(), text))
    }
}

//! Shared harness for the integration tests: a test PushHandler, a server on 127.0.0.1:0,
//! real-git helpers and a tiny raw HTTP/1.1 client.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use doppel_git::{GitAccessError, GitService, ProgressSink, Push, PushHandler, RefUpdate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const TOKEN: &str = "s3cret-token";

/// What the handler saw of one push.
#[derive(Debug, Clone)]
pub struct Seen {
    pub repo: String,
    pub updates: Vec<RefUpdate>,
    /// Who `authorize` said was pushing.
    pub pusher: Option<String>,
    /// For each non-delete update: file names in `git archive` of the new commit.
    pub archived: Vec<Vec<String>>,
}

#[derive(Default)]
pub struct TestHandler {
    pub unknown: Mutex<HashSet<String>>,
    pub pushes: Mutex<Vec<Seen>>,
    pub reject: Mutex<Option<String>>,
    pub lines: Mutex<Vec<String>>,
    pub delay_ms: Mutex<u64>,
}

impl TestHandler {
    pub fn pushes(&self) -> Vec<Seen> {
        self.pushes.lock().unwrap().clone()
    }
    pub fn reject_with(&self, reason: &str) {
        *self.reject.lock().unwrap() = Some(reason.to_owned());
    }
    pub fn say(&self, lines: &[&str]) {
        *self.lines.lock().unwrap() = lines.iter().map(|s| s.to_string()).collect();
    }
}

#[async_trait::async_trait]
impl PushHandler for TestHandler {
    async fn authorize(
        &self,
        repo: &str,
        password: Option<&str>,
        _write: bool,
    ) -> Result<Option<String>, GitAccessError> {
        if self.unknown.lock().unwrap().contains(repo) {
            return Err(GitAccessError::NotFound);
        }
        match password {
            Some(TOKEN) => Ok(Some("tester".to_string())),
            _ => Err(GitAccessError::Unauthorized),
        }
    }

    async fn pre_receive(&self, push: Push, out: ProgressSink) -> Result<(), String> {
        let mut archived = Vec::new();
        for u in push.updates.iter().filter(|u| !u.is_delete()) {
            let dir = tempfile::tempdir().unwrap();
            let tar = dir.path().join("src.tar");
            push.archive(&u.new, &tar)
                .await
                .map_err(|e| e.to_string())?;
            let list = std::process::Command::new("tar")
                .arg("-tf")
                .arg(&tar)
                .output()
                .unwrap();
            let names = String::from_utf8_lossy(&list.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            archived.push(names);
        }
        let lines = self.lines.lock().unwrap().clone();
        for l in lines {
            out.line(&l).await;
        }
        let delay = *self.delay_ms.lock().unwrap();
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        self.pushes.lock().unwrap().push(Seen {
            repo: push.repo.clone(),
            updates: push.updates.clone(),
            pusher: push.pusher.clone(),
            archived,
        });
        match self.reject.lock().unwrap().clone() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }
}

pub struct Server {
    pub port: u16,
    pub root: tempfile::TempDir,
    pub handler: Arc<TestHandler>,
    pub svc: Arc<GitService>,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(|s| s).await
    }

    pub async fn start_with(configure: impl FnOnce(GitService) -> GitService) -> Server {
        let root = tempfile::tempdir().unwrap();
        let handler = Arc::new(TestHandler::default());
        let hook = vec![env!("CARGO_BIN_EXE_doppel-git-hook").to_owned()];
        let svc = Arc::new(configure(GitService::new(
            root.path().join("repos"),
            hook,
            handler.clone(),
        )));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = svc.clone().router();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server {
            port,
            root,
            handler,
            svc,
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("http://git:{TOKEN}@127.0.0.1:{}/{repo}.git", self.port)
    }

    pub fn url_with(&self, repo: &str, token: Option<&str>) -> String {
        match token {
            Some(t) => format!("http://git:{t}@127.0.0.1:{}/{repo}.git", self.port),
            None => format!("http://127.0.0.1:{}/{repo}.git", self.port),
        }
    }

    pub fn repo_dir(&self, repo: &str) -> PathBuf {
        self.root.path().join("repos").join(format!("{repo}.git"))
    }

    /// `git rev-parse` in the server repo; None if the ref does not exist.
    pub async fn server_ref(&self, repo: &str, refname: &str) -> Option<String> {
        let out = git_in(
            &self.repo_dir(repo),
            &["rev-parse", "--verify", "-q", refname],
        )
        .await;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    pub async fn fsck(&self, repo: &str) {
        let out = git_in(&self.repo_dir(repo), &["fsck", "--strict", "--no-dangling"]).await;
        assert!(out.status.success(), "fsck failed: {}", text(&out));
    }

    pub async fn has_object(&self, repo: &str, oid: &str) -> bool {
        git_in(&self.repo_dir(repo), &["cat-file", "-e", oid])
            .await
            .status
            .success()
    }
}

/// A client working copy with its own HOME.
pub struct Client {
    pub dir: tempfile::TempDir,
}

impl Client {
    pub async fn new() -> Client {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        let c = Client { dir };
        c.ok(&["init", "-q", "-b", "main", "work"]).await;
        c
    }

    pub async fn clone_from(url: &str) -> (Client, Output) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        let c = Client { dir };
        let out = c.git(&["clone", "-q", url, "work"]).await;
        (c, out)
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Runs git in the working copy (or in the temp dir before it exists).
    pub async fn git(&self, args: &[&str]) -> Output {
        let cwd = if self.work().exists() {
            self.work()
        } else {
            self.dir.path().to_owned()
        };
        let mut cmd = tokio::process::Command::new("git");
        cmd.args(args)
            .current_dir(cwd)
            .env("HOME", self.home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("LC_ALL", "C");
        cmd.output().await.unwrap()
    }

    pub async fn ok(&self, args: &[&str]) -> Output {
        let out = self.git(args).await;
        assert!(out.status.success(), "git {args:?} failed: {}", text(&out));
        out
    }

    pub fn write(&self, name: &str, contents: &[u8]) {
        let p = self.work().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, contents).unwrap();
    }

    /// Writes a file, commits everything, returns the new HEAD.
    pub async fn commit(&self, name: &str, contents: &[u8], msg: &str) -> String {
        self.write(name, contents);
        self.ok(&["add", "-A"]).await;
        self.ok(&["commit", "-q", "-m", msg]).await;
        self.head().await
    }

    pub async fn head(&self) -> String {
        self.rev("HEAD").await
    }

    pub async fn rev(&self, rev: &str) -> String {
        let out = self.ok(&["rev-parse", rev]).await;
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

pub async fn git_in(dir: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new("git")
        .args(args)
        .env("GIT_DIR", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .await
        .unwrap()
}

/// stdout + stderr as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Deterministic incompressible bytes.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A pkt-line.
pub fn pkt(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{:04x}", payload.len() + 4).into_bytes();
    out.extend_from_slice(payload);
    out
}

pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`).
pub async fn raw_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let rest = buf[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(&rest) } else { rest };
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_str = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

pub fn basic_auth() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("git:{TOKEN}"))
    )
}

//! A real headless Chromium for dashboard tests, driven over WebDriver: Debian's
//! `chromedriver` (package chromium-driver) started on a free port, spoken to with curl like
//! the rest of the harness. Each [`Browser`] has its own fresh profile (so its own cookies)
//! and is closed, with its driver, when dropped.

use crate::netns::Netns;
use crate::Server;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One Chromium window.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
    /// Dropped after the driver (fields drop in order), ending the forwarding.
    _netns: Option<Netns>,
}

/// chromedriver's port inside the browser's own namespace (nothing else listens there).
const DRIVER_PORT_INSIDE: u16 = 9515;

fn spawn_driver(port: u16) -> Result<Child> {
    Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chromedriver (Debian package chromium-driver)")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh `--user-data-dir`, for pages
    /// of `server`. Certificate errors are accepted (the platform's CA is a test server's
    /// own). Both run in a network namespace of their own (see [`crate::netns`]) reaching
    /// only the server's ports, so that containers starting on the host do not make Chromium
    /// drop its requests; without the right to make one (not root) they share the host's.
    pub fn start(server: &Server) -> Result<Browser> {
        let (driver, base, netns) = match Netns::new() {
            Ok(ns) => {
                ns.forward_in(server.https_port)?;
                ns.forward_in(server.http_port)?;
                let driver = ns.run(|| spawn_driver(DRIVER_PORT_INSIDE))??;
                let port = ns.forward_out(DRIVER_PORT_INSIDE)?;
                (driver, format!("http://127.0.0.1:{port}"), Some(ns))
            }
            Err(e) => {
                eprintln!("the browser shares the host's network: {e:#}");
                let port = std::net::TcpListener::bind("127.0.0.1:0")?
                    .local_addr()?
                    .port();
                (
                    spawn_driver(port)?,
                    format!("http://127.0.0.1:{port}"),
                    None,
                )
            }
        };
        let profile = tempfile::Builder::new()
            .prefix("doppel-chromium-")
            .tempdir()?;
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            _profile: profile,
            _netns: netns,
        };
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let start = Instant::now();
        let created = loop {
            match browser.call("POST", "/session", Some(&caps)) {
                Ok(v) => break v,
                Err(_) if start.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                Err(e) => return Err(e),
            }
        };
        browser.session = created["sessionId"]
            .as_str()
            .context("no sessionId from chromedriver")?
            .to_string();
        Ok(browser)
    }

    /// One WebDriver command; returns its `value` (an error answer is an `Err`).
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "120", "-X", method]);
        if method == "POST" {
            cmd.args(["-H", "Content-Type: application/json"]);
            cmd.args([
                "-d",
                &body.map(Value::to_string).unwrap_or_else(|| "{}".into()),
            ]);
        }
        cmd.arg(format!("{}{path}", self.base));
        let out = cmd.output()?;
        if !out.status.success() {
            bail!(
                "chromedriver {method} {path}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("chromedriver {method} {path}: not JSON"))?;
        if v["value"]["error"].is_string() {
            bail!(
                "chromedriver {method} {path}: {} {}",
                v["value"]["error"],
                v["value"]["message"]
            );
        }
        Ok(v["value"].clone())
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.call("POST", &self.s("/url"), Some(&json!({"url": url})))?;
        Ok(())
    }

    /// The address the window shows.
    pub fn url(&self) -> Result<String> {
        Ok(self
            .call("GET", &self.s("/url"), None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The page's current markup (as the DOM serializes it).
    pub fn source(&self) -> Result<String> {
        Ok(self
            .call("GET", &self.s("/source"), None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The text of the page as shown.
    pub fn text(&self) -> Result<String> {
        let v = self.script("return document.body ? document.body.innerText : '';")?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs `body` (a function body) in the page; returns what it returns.
    pub fn script(&self, body: &str) -> Result<Value> {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(&json!({"script": body, "args": []})),
        )
    }

    /// The first element matching `css`, waiting up to 15 s for it. A page whose load
    /// Chromium dropped (ERR_NETWORK_CHANGED, see [`wait_text`](Browser::wait_text)) is
    /// opened again with a GET of its address: a form post is never repeated.
    fn find(&self, css: &str) -> Result<String> {
        let start = Instant::now();
        loop {
            let found = self.call(
                "POST",
                &self.s("/element"),
                Some(&json!({"using": "css selector", "value": css})),
            );
            match found {
                Ok(v) => return Ok(v[ELEMENT].as_str().context("no element id")?.to_string()),
                Err(e) if start.elapsed() > Duration::from_secs(15) => return Err(e),
                Err(_) => {
                    if self
                        .text()
                        .unwrap_or_default()
                        .contains("ERR_NETWORK_CHANGED")
                    {
                        let again = self.url()?;
                        self.goto(&again)?;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
        }
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) -> Result<()> {
        let id = self.find(css).with_context(|| format!("finding {css}"))?;
        self.call("POST", &self.s(&format!("/element/{id}/click")), None)?;
        Ok(())
    }

    /// Accepts the page's `confirm()` question, when one is open (forms with `data-confirm`).
    pub fn accept_prompt(&self) -> Result<()> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.call("POST", &self.s("/alert/accept"), None).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("no confirm() question was asked")
    }

    /// Types `text` into the first element matching `css` (after clearing it).
    pub fn fill(&self, css: &str, text: &str) -> Result<()> {
        let id = self.find(css).with_context(|| format!("finding {css}"))?;
        self.call("POST", &self.s(&format!("/element/{id}/clear")), None)?;
        self.call(
            "POST",
            &self.s(&format!("/element/{id}/value")),
            Some(&json!({"text": text})),
        )?;
        Ok(())
    }

    /// Waits up to `secs` until the page's text contains `needle`. Chromium drops a page
    /// load when the host's interfaces change (Docker adding a container's veth does):
    /// then the page is loaded again (a GET: an interrupted form post is never repeated).
    pub fn wait_text(&self, needle: &str, secs: u64) -> Result<String> {
        self.wait_text_or(needle, secs, None)
    }

    /// [`wait_text`](Browser::wait_text), opening `again` instead of reloading after an
    /// interrupted load (for waits after a form post).
    pub fn wait_text_or(&self, needle: &str, secs: u64, again: Option<&str>) -> Result<String> {
        let start = Instant::now();
        loop {
            let text = self.text().unwrap_or_default();
            if text.contains(needle) {
                return Ok(text);
            }
            if text.contains("ERR_NETWORK_CHANGED") {
                match again {
                    Some(url) => self.goto(url)?,
                    None => {
                        self.call("POST", &self.s("/refresh"), None)?;
                    }
                }
                continue;
            }
            if start.elapsed() > Duration::from_secs(secs) {
                bail!(
                    "the page never showed {needle:?}; it shows:\n{text}\n\
                     the browser's console said:\n{}",
                    self.console()
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// What the page's console said since the last call (script errors, failed loads such as
    /// `net::ERR_NETWORK_CHANGED`), one entry per line, for failure messages.
    pub fn console(&self) -> String {
        let entries = self.call(
            "POST",
            &self.s("/se/log"),
            Some(&json!({"type": "browser"})),
        );
        match entries {
            Ok(Value::Array(list)) => list
                .iter()
                .map(|e| format!("{} {} {}", e["timestamp"], e["level"], e["message"]))
                .collect::<Vec<_>>()
                .join("\n"),
            Ok(other) => other.to_string(),
            Err(e) => format!("(no console log: {e:#})"),
        }
    }

    /// Resizes the window (to see a page at a phone's width).
    pub fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            "POST",
            &self.s("/window/rect"),
            Some(&json!({"width": width, "height": height})),
        )?;
        Ok(())
    }

    /// Presses Tab `times` times, as a keyboard user moving through the page does.
    pub fn press_tab(&self, times: usize) -> Result<()> {
        let mut keys = Vec::new();
        for _ in 0..times {
            keys.push(json!({"type": "keyDown", "value": "\u{E004}"}));
            keys.push(json!({"type": "keyUp", "value": "\u{E004}"}));
        }
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": keys}]});
        self.call("POST", &self.s("/actions"), Some(&actions))?;
        self.call("DELETE", &self.s("/actions"), None)?;
        Ok(())
    }

    /// Saves a PNG of the window at `path`.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let v = self.call("GET", &self.s("/screenshot"), None)?;
        let png = decode_base64(v.as_str().context("no screenshot")?)?;
        std::fs::File::create(path)?.write_all(&png)?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (screenshots), without a dependency for it.
fn decode_base64(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => bail!("not base64"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

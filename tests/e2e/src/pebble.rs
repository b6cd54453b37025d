//! Debian's `pebble` (a test ACME CA) and `pebble-challtestsrv` (its DNS, answering
//! 127.0.0.1 for every name) for the ACME tests, plus the TLS probes they share: which
//! certificate the router presents for an SNI name, and whether curl verifies it against a CA.

use crate::{free_port, wait_for, Server};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A CA named `ca_name` and a leaf for `host` it signed: (ca.pem, leaf.pem, leaf.key).
pub fn make_cert(dir: &Path, ca_name: &str, host: &str) -> Result<(PathBuf, PathBuf, PathBuf)> {
    make_cert_for(
        dir,
        ca_name,
        host,
        &format!("DNS:{host},DNS:localhost,IP:127.0.0.1"),
    )
}

/// As [`make_cert`], with the leaf's subject alternative names given (`DNS:a,DNS:*.a`).
pub fn make_cert_for(
    dir: &Path,
    ca_name: &str,
    host: &str,
    alt_names: &str,
) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let p = |n: &str| dir.join(n);
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args(["req", "-x509"])
        .args(ec)
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem"))
        .args(["-days", "2", "-subj", &format!("/CN={ca_name}")]))?;
    run(Command::new("openssl")
        .arg("req")
        .args(ec)
        .arg("-keyout")
        .arg(p("leaf.key"))
        .arg("-out")
        .arg(p("leaf.csr"))
        .args(["-subj", &format!("/CN={host}")]))?;
    std::fs::write(p("ext.cnf"), format!("subjectAltName={alt_names}\n"))?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(p("leaf.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(p("ext.cnf"))
        .arg("-out")
        .arg(p("leaf.pem")))?;
    Ok((p("ca.pem"), p("leaf.pem"), p("leaf.key")))
}

/// The certificate the router presents for SNI `host`: its `openssl x509` issuer, subject
/// and serial lines.
pub fn served(server: &Server, host: &str) -> Result<String> {
    served_on(server.https_port, host)
}

/// The certificate presented on 127.0.0.1:`port` for SNI `host` (as [`served`]).
pub fn served_on(port: u16, host: &str) -> Result<String> {
    let hello = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", host])
        .stdin(Stdio::null())
        .output()?;
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-issuer", "-subject", "-serial"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = x509.stdin.take() {
        std::io::Write::write_all(&mut stdin, &hello.stdout)?;
    }
    let out = x509.wait_with_output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `curl` to `https://host:<port>/` through the router, verifying TLS with `ca`: the HTTP
/// status, or 0 when the handshake or verification failed.
pub fn verified_status(server: &Server, host: &str, ca: &Path) -> Result<u16> {
    let port = server.https_port;
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
        ])
        .arg("--cacert")
        .arg(ca)
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .arg(format!("https://{host}:{port}/"))
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0))
}

/// `GET /account` at `https://host:<port>` through the router, trusting only `ca` (as a
/// client trusts a public CA): the HTTP status as curl prints it ("000" when TLS failed).
pub fn api_status_at(server: &Server, host: &str, ca: &Path) -> Result<String> {
    let port = server.https_port;
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(ca)
        .args(["--resolve", &format!("{host}:{port}:127.0.0.1")])
        .args(["-H", "Accept: application/vnd.heroku+json; version=3"])
        .args(["-H", &format!("Authorization: Bearer {}", server.token)])
        .arg(format!("https://{host}:{port}/account"))
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `git ls-remote https://host:<port>/<repo>.git`, trusting only `ca`; fails with git's
/// error.
pub fn git_ls_remote_at(server: &Server, host: &str, repo: &str, ca: &Path) -> Result<()> {
    let port = server.https_port;
    let git = Command::new("git")
        .args([
            "-c",
            &format!("http.curloptResolve={host}:{port}:127.0.0.1"),
        ])
        .arg("ls-remote")
        .arg(format!(
            "https://git:{}@{host}:{port}/{repo}.git",
            server.token
        ))
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_SSL_CAINFO", ca)
        .output()?;
    if !git.status.success() {
        bail!(
            "git ls-remote {repo} at {host}: {}",
            String::from_utf8_lossy(&git.stderr)
        );
    }
    Ok(())
}

/// One platform name as `doppel admin:certs --json` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownCert {
    pub hostname: String,
    pub status: String,
    pub expires_at: String,
    pub reason: String,
}

/// `doppel admin:certs --json`: the source (`ca`, `acme`, `files`) and each name.
pub fn admin_certs(server: &Server) -> Result<(String, Vec<ShownCert>)> {
    let out = server.cli(&["admin:certs", "--json"])?;
    if !out.status.success() {
        bail!(
            "admin:certs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let body: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let rows = body["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| ShownCert {
            hostname: text(&c["hostname"]),
            status: text(&c["status"]),
            expires_at: text(&c["expires_at"]),
            reason: text(&c["status_reason"]),
        })
        .collect();
    Ok((text(&body["source"]), rows))
}

/// Pebble and its DNS (pebble-challtestsrv), killed when dropped.
pub struct Pebble {
    children: Vec<Child>,
    dir: tempfile::TempDir,
    acme_port: u16,
    management_port: u16,
}

impl Pebble {
    /// Pebble's own HTTPS certificate (made before the server starts, which trusts its CA).
    pub fn prepare() -> Result<Pebble> {
        let dir = tempfile::tempdir()?;
        make_cert(dir.path(), "Pebble Listener Test CA", "localhost")?;
        Ok(Pebble {
            children: Vec::new(),
            dir,
            acme_port: free_port()?,
            management_port: free_port()?,
        })
    }

    pub fn directory(&self) -> String {
        format!("https://localhost:{}/dir", self.acme_port)
    }

    pub fn listener_ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Starts both, validating against the router's ports.
    pub fn start(&mut self, http_port: u16, tls_port: u16) -> Result<()> {
        let dns_port = free_port()?;
        let challtest_mgmt = free_port()?;
        let dns = Command::new("pebble-challtestsrv")
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{challtest_mgmt}")])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting pebble-challtestsrv (apt-get install pebble)")?;
        self.children.push(dns);
        let config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{}", self.acme_port),
            "managementListenAddress": format!("127.0.0.1:{}", self.management_port),
            "certificate": self.dir.path().join("leaf.pem"),
            "privateKey": self.dir.path().join("leaf.key"),
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        let config_path = self.dir.path().join("pebble.json");
        std::fs::write(&config_path, config.to_string())?;
        let log = std::fs::File::create(self.dir.path().join("pebble.log"))?;
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
            .args(["-strict=false"])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting pebble")?;
        self.children.push(pebble);
        let port = self.acme_port;
        if !wait_for(30, || {
            Ok(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
        })? {
            bail!("pebble did not listen; log:\n{}", self.log());
        }
        Ok(())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// Pebble's root and intermediate (regenerated at every start), for verifying its chains.
    pub fn roots(&self) -> Result<PathBuf> {
        let mut pem = String::new();
        for path in ["roots/0", "intermediates/0"] {
            pem.push_str(&run(Command::new("curl")
                .args(["-sS", "--fail", "--cacert"])
                .arg(self.listener_ca())
                .arg(format!("https://localhost:{}/{path}", self.management_port)))?);
            pem.push('\n');
        }
        let file = self.dir.path().join("pebble-roots.pem");
        std::fs::write(&file, pem)?;
        Ok(file)
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `serial=` line of [`served`]'s output.
pub fn serial(served: &str) -> String {
    served
        .lines()
        .find(|l| l.starts_with("serial="))
        .unwrap_or("")
        .to_string()
}

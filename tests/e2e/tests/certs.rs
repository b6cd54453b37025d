//! Certificates of custom domains end to end, with the real router: an uploaded certificate
//! (Heroku CLI v11 `certs:add`, doppel's `certs*`) served by SNI for its domain while the
//! environment's default host keeps the platform CA's; then ACME against Debian's `pebble` and
//! `pebble-challtestsrv` (DNS answers 127.0.0.1 for every name): `certs:auto:enable` gets a
//! certificate by HTTP-01 that the router serves (issued by Pebble, verified against Pebble's
//! root), a restart orders nothing new, and a forced renewal by TLS-ALPN-01 replaces it.

use anyhow::{bail, Context, Result};
use doppel_e2e::{wait_for, HerokuCli, Server};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn run(cmd: &mut Command) -> Result<String> {
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
fn make_cert(dir: &Path, ca_name: &str, host: &str) -> Result<(PathBuf, PathBuf, PathBuf)> {
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
    std::fs::write(
        p("ext.cnf"),
        format!("subjectAltName=DNS:{host},DNS:localhost,IP:127.0.0.1\n"),
    )?;
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
fn served(server: &Server, host: &str) -> Result<String> {
    let hello = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{}", server.https_port))
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
fn verified_status(server: &Server, host: &str, ca: &Path) -> Result<u16> {
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

fn cli_ok(server: &Server, args: &[&str]) -> Result<String> {
    let out = server.cli(args)?;
    if !out.status.success() {
        bail!(
            "doppel {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Pebble and its DNS (pebble-challtestsrv), killed when dropped.
struct Pebble {
    children: Vec<Child>,
    dir: tempfile::TempDir,
    acme_port: u16,
    management_port: u16,
}

impl Pebble {
    /// Pebble's own HTTPS certificate (made before the server starts, which trusts its CA).
    fn prepare() -> Result<Pebble> {
        let dir = tempfile::tempdir()?;
        make_cert(dir.path(), "Pebble Listener Test CA", "localhost")?;
        Ok(Pebble {
            children: Vec::new(),
            dir,
            acme_port: free_port()?,
            management_port: free_port()?,
        })
    }

    fn directory(&self) -> String {
        format!("https://localhost:{}/dir", self.acme_port)
    }

    fn listener_ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Starts both, validating against the router's ports.
    fn start(&mut self, http_port: u16, tls_port: u16) -> Result<()> {
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }

    /// Pebble's root and intermediate (regenerated at every start), for verifying its chains.
    fn roots(&self) -> Result<PathBuf> {
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

/// The domain's `acm_status` as the API shows it.
fn acm_status(server: &Server, env: &str, host: &str) -> Result<String> {
    let (status, body) = server.api("GET", &format!("/apps/{env}/domains/{host}"), None)?;
    if status != 200 {
        bail!("domain {host}: {status} {body}");
    }
    Ok(format!(
        "{} {}",
        body["acm_status"].as_str().unwrap_or("-"),
        body["acm_status_reason"].as_str().unwrap_or("")
    ))
}

fn serial(served: &str) -> String {
    served
        .lines()
        .find(|l| l.starts_with("serial="))
        .unwrap_or("")
        .to_string()
}

#[test]
fn uploaded_and_acme_certificates_are_served_by_sni() -> Result<()> {
    let mut pebble = Pebble::prepare()?;
    let directory = pebble.directory();
    let ca_file = pebble.listener_ca().display().to_string();
    let acme_flags = [
        "--acme-directory",
        directory.as_str(),
        "--acme-ca-file",
        ca_file.as_str(),
        "--acme-email",
        "ops@example.test",
    ];
    let mut server = Server::start_with(&acme_flags)?;
    pebble.start(server.http_port, server.https_port)?;
    server.create_app("tls")?;

    // --- An uploaded certificate, added with the official Heroku CLI (no domain matches yet,
    // so it asks nothing), served once the domain exists.
    let upload = tempfile::tempdir()?;
    let (upload_ca, crt, key) =
        make_cert(upload.path(), "Doppel Upload Test CA", "www.example.test")?;
    let (crt_s, key_s) = (crt.display().to_string(), key.display().to_string());
    let ran = server
        .heroku(HerokuCli::V11, &["certs:add", &crt_s, &key_s, "-a", "tls"])?
        .ok()?;
    assert!(ran.stdout.contains("www.example.test"), "{}", ran.text());
    let listed = server
        .heroku(HerokuCli::V11, &["certs", "-a", "tls"])?
        .ok()?;
    assert!(
        listed.stdout.contains("www.example.test"),
        "{}",
        listed.text()
    );
    cli_ok(&server, &["domains:add", "www.example.test", "-a", "tls"])?;
    let shown = served(&server, "www.example.test")?;
    assert!(shown.contains("Doppel Upload Test CA"), "{shown}");
    assert!(shown.contains("www.example.test"), "{shown}");
    assert_ne!(verified_status(&server, "www.example.test", &upload_ca)?, 0);
    // The environment's own name keeps the platform CA's certificate.
    let own = served(&server, "tls.localhost")?;
    assert!(!own.contains("Doppel Upload Test CA"), "{own}");
    assert_ne!(verified_status(&server, "tls.localhost", &server.ca())?, 0);
    assert_eq!(verified_status(&server, "tls.localhost", &upload_ca)?, 0);
    // The doppel CLI sees it, with its domain; a key that does not match is refused.
    let certs = cli_ok(&server, &["certs", "-a", "tls"])?;
    assert!(certs.contains("www.example.test"), "{certs}");
    let (api_status, list) = server.api("GET", "/apps/tls/sni-endpoints", None)?;
    assert_eq!(api_status, 200);
    assert_eq!(
        list[0]["domains"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    assert!(list[0].get("private_key").is_none(), "{list}");
    let other = tempfile::tempdir()?;
    let (_, _, other_key) = make_cert(other.path(), "Other CA", "www.example.test")?;
    let refused = server.cli(&[
        "certs:add",
        &crt_s,
        &other_key.display().to_string(),
        "-a",
        "tls",
    ])?;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not match"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let info = cli_ok(&server, &["certs:info", "-a", "tls"])?;
    assert!(info.contains("Doppel Upload Test CA"), "{info}");
    assert!(!server.cli(&["certs:remove", "-a", "tls"])?.status.success());
    cli_ok(&server, &["certs:remove", "-a", "tls", "--confirm", "tls"])?;
    let after = served(&server, "www.example.test")?;
    assert!(!after.contains("Doppel Upload Test CA"), "{after}");

    // --- ACME: HTTP-01 through the router's port 80 listener.
    cli_ok(&server, &["domains:add", "acme.example.test", "-a", "tls"])?;
    // Turned on with the official Heroku CLI (POST /apps/tls/acm).
    server
        .heroku(HerokuCli::V11, &["certs:auto:enable", "-a", "tls"])?
        .ok()?;
    let issued = wait_for(120, || {
        Ok(acm_status(&server, "tls", "acme.example.test")?.starts_with("cert issued"))
    })?;
    if !issued {
        bail!(
            "no ACME certificate: {}\nserver log:\n{}\npebble log:\n{}",
            acm_status(&server, "tls", "acme.example.test")?,
            server.log(),
            pebble.log()
        );
    }
    let roots = pebble.roots()?;
    let first = served(&server, "acme.example.test")?;
    assert!(first.contains("Pebble Intermediate"), "{first}");
    assert_ne!(verified_status(&server, "acme.example.test", &roots)?, 0);
    let auto = cli_ok(&server, &["certs:auto", "-a", "tls"])?;
    assert!(
        auto.contains("acme.example.test") && auto.contains("cert issued"),
        "{auto}"
    );
    let heroku_auto = server
        .heroku(HerokuCli::V11, &["certs:auto", "-a", "tls"])?
        .ok()?;
    assert!(
        heroku_auto.stdout.contains("acme.example.test"),
        "{}",
        heroku_auto.text()
    );
    let (_, app) = server.api("GET", "/apps/tls", None)?;
    assert_eq!(app["acm"], serde_json::json!(true), "{app}");

    // www.example.test lost its uploaded certificate: ACM covers it too.
    let both = wait_for(120, || {
        Ok(acm_status(&server, "tls", "www.example.test")?.starts_with("cert issued"))
    })?;
    assert!(both, "{}", acm_status(&server, "tls", "www.example.test")?);
    let www = served(&server, "www.example.test")?;
    assert!(www.contains("Pebble Intermediate"), "{www}");

    // The server saw the router answer each HTTP-01 token before asking Pebble to validate.
    let log = server.log();
    assert!(log.contains("challenge=\"http-01\""), "{log}");
    assert!(
        !log.contains("does not answer the HTTP-01 challenge"),
        "{log}"
    );

    // --- A restart orders nothing: the stored certificates are served again.
    let dir = server.data_dir.clone();
    server.stop();
    let log_before = server.log().len();
    let restarted = Server::start_in_with(&dir, &acme_flags)?;
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        serial(&served(&restarted, "acme.example.test")?),
        serial(&first)
    );
    let new_log = restarted.log()[log_before..].to_string();
    assert!(!new_log.contains("ACM: ordering"), "{new_log}");
    let mut restarted = restarted;
    restarted.stop();

    // --- A forced renewal (renew when fewer than ~100 years remain), by TLS-ALPN-01.
    let mut forced: Vec<&str> = acme_flags.to_vec();
    forced.extend([
        "--acme-renew-before-hours",
        "876000",
        "--acme-challenge",
        "tls-alpn-01",
    ]);
    let renewed = Server::start_in_with(&dir, &forced)?;
    let changed = wait_for(120, || {
        let now = serial(&served(&renewed, "acme.example.test")?);
        Ok(!now.is_empty() && now != serial(&first))
    })?;
    if !changed {
        bail!(
            "not renewed: {}\nserver log:\n{}\npebble log:\n{}",
            acm_status(&renewed, "tls", "acme.example.test")?,
            renewed.log(),
            pebble.log()
        );
    }
    let log = renewed.log();
    assert!(
        log[log_before..].contains("challenge=\"tls-alpn-01\""),
        "{}",
        &log[log_before..]
    );
    let second = served(&renewed, "acme.example.test")?;
    assert!(second.contains("Pebble Intermediate"), "{second}");
    assert_ne!(verified_status(&renewed, "acme.example.test", &roots)?, 0);
    drop(renewed);
    drop(server);
    Ok(())
}

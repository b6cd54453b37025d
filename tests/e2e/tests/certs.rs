//! Certificates of custom domains end to end, with the real router: an uploaded certificate
//! (Heroku CLI v11 `certs:add`, doppel's `certs*`) served by SNI for its domain while the
//! environment's default host keeps the platform CA's; then ACME against Debian's `pebble` and
//! `pebble-challtestsrv` (DNS answers 127.0.0.1 for every name): `certs:auto:enable` gets a
//! certificate by HTTP-01 that the router serves (issued by Pebble, verified against Pebble's
//! root), a restart orders nothing new, and a forced renewal by TLS-ALPN-01 replaces it.

use anyhow::{bail, Result};
use doppel_e2e::pebble::{make_cert, serial, served, verified_status, Pebble};
use doppel_e2e::{wait_for, HerokuCli, Server};
use std::time::Duration;

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

//! The platform's own names with ACME certificates end to end (`--domain platacme.test
//! --platform-certs acme`), against Debian's `pebble` and `pebble-challtestsrv` (DNS answers
//! 127.0.0.1 for every name): the platform host, the dashboard and an environment's default
//! host end up served by the router with Pebble-issued certificates (verified against
//! Pebble's root by curl for the API and by git; the one-off dynos' rendezvous port presents
//! the platform host's), `doppel admin:certs` shows each name issued with its expiry, a restart
//! orders nothing new, and a domain that cannot have public certificates is refused at start.

use anyhow::{bail, Result};
use doppel_e2e::pebble::{
    admin_certs, api_status_at, git_ls_remote_at, serial, served, served_on, verified_status,
    Pebble,
};
use doppel_e2e::{doppel_bin, wait_for, Server};
use std::process::Command;
use std::time::Duration;

const DOMAIN: &str = "platacme.test";

/// `doppel admin:certs --json` as (hostname, status) pairs.
fn statuses(server: &Server) -> Result<Vec<(String, String)>> {
    let (source, rows) = admin_certs(server)?;
    if source != "acme" {
        bail!("source is not acme: {source}");
    }
    Ok(rows.into_iter().map(|c| (c.hostname, c.status)).collect())
}

#[test]
fn platform_names_get_acme_certificates() -> Result<()> {
    let mut pebble = Pebble::prepare()?;
    let directory = pebble.directory();
    let ca_file = pebble.listener_ca().display().to_string();
    let flags = [
        "--domain",
        DOMAIN,
        "--platform-certs",
        "acme",
        "--acme-directory",
        directory.as_str(),
        "--acme-ca-file",
        ca_file.as_str(),
    ];
    let mut server = Server::start_with(&flags)?;
    pebble.start(server.http_port, server.https_port)?;
    // A new app wakes the ACM task: its two names are ordered at once (the platform host and
    // the dashboard, tried at start before Pebble ran, follow after their back-off).
    server.create_app("web")?;
    let names = [
        "dashboard.platacme.test",
        "platacme.test",
        "web-staging.platacme.test",
        "web.platacme.test",
    ];
    let all_issued = wait_for(300, || {
        let now = statuses(&server)?;
        Ok(now.len() == names.len() && now.iter().all(|(_, s)| s == "cert issued"))
    })?;
    let shown = statuses(&server)?;
    if !all_issued {
        bail!(
            "not all issued: {shown:?}\nserver log:\n{}\npebble log:\n{}",
            server.log(),
            pebble.log()
        );
    }
    let hosts: Vec<&str> = shown.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, names);

    // The router serves Pebble's certificates, which verify against Pebble's root.
    let roots = pebble.roots()?;
    let platform = served(&server, DOMAIN)?;
    assert!(platform.contains("Pebble Intermediate"), "{platform}");
    for host in names {
        let cert = served(&server, host)?;
        assert!(cert.contains("Pebble Intermediate"), "{host}: {cert}");
        assert_ne!(verified_status(&server, host, &roots)?, 0, "{host}");
        // No longer the platform CA's leaf.
        assert_eq!(verified_status(&server, host, &server.ca())?, 0, "{host}");
    }
    // The API and git at the platform host, trusting only Pebble's root (as a client trusts
    // a public CA), not doppel's.
    assert_eq!(api_status_at(&server, DOMAIN, &roots)?, "200");
    git_ls_remote_at(&server, DOMAIN, "web-staging", &roots)?;
    // One-off dynos' rendezvous port (`rendezvous://platacme.test:<port>/…`) presents the
    // platform host's certificate too.
    let rendezvous = served_on(server.rendezvous_port, DOMAIN)?;
    assert_eq!(serial(&rendezvous), serial(&platform), "{rendezvous}");
    // A name that is no environment's still gets the platform CA's leaf.
    let other = served(&server, "nobody.platacme.test")?;
    assert!(!other.contains("Pebble"), "{other}");
    // The human view names each with its expiry.
    let table = server.cli(&["admin:certs"])?;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("from ACME"), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("web.platacme.test"))
        .unwrap_or("");
    assert!(row.contains("cert issued") && row.contains("20"), "{text}");

    // The router answered each HTTP-01 token on port 80 before Pebble was asked to validate.
    let log = server.log();
    assert!(log.contains("challenge=\"http-01\""), "{log}");
    assert!(
        !log.contains("does not answer the HTTP-01 challenge"),
        "{log}"
    );

    // --- A restart orders nothing: the stored certificates are served again.
    let first = serial(&platform);
    let dir = server.data_dir.clone();
    server.stop();
    let log_before = server.log().len();
    let restarted = Server::start_in_with(&dir, &flags)?;
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(serial(&served(&restarted, DOMAIN)?), first);
    let new_log = restarted.log()[log_before..].to_string();
    assert!(!new_log.contains("ACM: ordering"), "{new_log}");
    drop(restarted);
    drop(server);
    Ok(())
}

#[test]
fn a_domain_without_public_certificates_is_refused_at_start() -> Result<()> {
    for domain in ["localhost", "127.0.0.1", "intranet"] {
        let dir = tempfile::tempdir()?;
        let out = Command::new(doppel_bin())
            .args(["server", "--config", "/dev/null", "--data-dir"])
            .arg(dir.path())
            .args(["--domain", domain, "--platform-certs", "acme"])
            .output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        // EX_CONFIG: doppel.service does not restart a setting that cannot work.
        assert_eq!(out.status.code(), Some(78), "{domain}: {err}");
        assert!(
            err.contains("--platform-certs acme needs a public domain") && err.contains(domain),
            "{domain}: {err}"
        );
        // Nothing was started or written.
        assert!(!dir.path().join("doppel.db").exists());
    }
    Ok(())
}

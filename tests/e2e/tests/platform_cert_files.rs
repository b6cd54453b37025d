//! The platform's own names with the admin's certificate files end to end (`--domain
//! platfiles.test --platform-certs files`): a wildcard certificate for the domain (signed by a
//! test CA made with `openssl`) is served for the platform host, the dashboard and every
//! environment's name, and verifies for curl and git; the one-off dynos' rendezvous port
//! presents it too; `doppel admin:certs` shows each name with its expiry; a renewal written
//! over the files is served without a restart; files broken in the middle of a renewal keep
//! the last good certificate serving; unusable files are refused at start.

use anyhow::Result;
use doppel_e2e::pebble::{
    admin_certs, api_status_at, git_ls_remote_at, make_cert_for, serial, served, served_on,
    verified_status,
};
use doppel_e2e::{doppel_bin, wait_for, Server};
use std::path::{Path, PathBuf};
use std::process::Command;

const DOMAIN: &str = "platfiles.test";
const NAMES: [&str; 4] = [
    "dashboard.platfiles.test",
    "platfiles.test",
    "web-staging.platfiles.test",
    "web.platfiles.test",
];

/// A CA named `ca_name` and its wildcard leaf for [`DOMAIN`]: (ca.pem, leaf.pem, leaf.key).
fn wildcard(dir: &Path, ca_name: &str) -> Result<(PathBuf, PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    make_cert_for(
        dir,
        ca_name,
        DOMAIN,
        &format!("DNS:{DOMAIN},DNS:*.{DOMAIN}"),
    )
}

/// Writes `from` over `to` as a renewal tool does: a new file renamed into place.
fn replace(from: &Path, to: &Path) -> Result<()> {
    let tmp = to.with_extension("new");
    std::fs::copy(from, &tmp)?;
    std::fs::rename(&tmp, to)?;
    Ok(())
}

#[test]
fn platform_names_are_served_from_certificate_files() -> Result<()> {
    let work = tempfile::tempdir()?;
    let (ca, leaf, key) = wildcard(&work.path().join("first"), "Files Test CA")?;
    let tls = work.path().join("tls");
    std::fs::create_dir_all(&tls)?;
    let (chain_file, key_file) = (tls.join("fullchain.pem"), tls.join("privkey.pem"));
    replace(&leaf, &chain_file)?;
    replace(&key, &key_file)?;
    let chain_arg = chain_file.display().to_string();
    let key_arg = key_file.display().to_string();
    let server = Server::start_with(&[
        "--domain",
        DOMAIN,
        "--platform-certs",
        "files",
        "--platform-cert-file",
        chain_arg.as_str(),
        "--platform-key-file",
        key_arg.as_str(),
    ])?;
    server.create_app("web")?;

    // Every platform name gets the file's certificate, which verifies against its CA.
    for host in NAMES {
        let cert = served(&server, host)?;
        assert!(cert.contains("Files Test CA"), "{host}: {cert}");
        assert_ne!(verified_status(&server, host, &ca)?, 0, "{host}");
        assert_eq!(verified_status(&server, host, &server.ca())?, 0, "{host}");
    }
    assert_eq!(api_status_at(&server, DOMAIN, &ca)?, "200");
    git_ls_remote_at(&server, DOMAIN, "web-staging", &ca)?;
    let platform = served(&server, DOMAIN)?;
    let rendezvous = served_on(server.rendezvous_port, DOMAIN)?;
    assert_eq!(serial(&rendezvous), serial(&platform), "{rendezvous}");
    // A name two labels down is no platform name: the wildcard does not cover it.
    let deeper = served(&server, "a.web.platfiles.test")?;
    assert!(!deeper.contains("Files Test CA"), "{deeper}");

    let (source, rows) = admin_certs(&server)?;
    assert_eq!(source, "files");
    let hosts: Vec<&str> = rows.iter().map(|r| r.hostname.as_str()).collect();
    assert_eq!(hosts, NAMES);
    for row in &rows {
        assert_eq!(row.status, "cert file", "{row:?}");
        assert!(row.expires_at.starts_with("20"), "{row:?}");
        assert_eq!(row.reason, "", "{row:?}");
    }
    let table = server.cli(&["admin:certs"])?;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("--platform-cert-file"), "{text}");

    // A renewal written over the files is served on a later pass, without a restart.
    let (new_ca, new_leaf, new_key) = wildcard(&work.path().join("renewed"), "Files Renewed CA")?;
    replace(&new_key, &key_file)?;
    replace(&new_leaf, &chain_file)?;
    let renewed = wait_for(90, || {
        Ok(served(&server, DOMAIN)?.contains("Files Renewed CA"))
    })?;
    assert!(renewed, "renewal not served; log:\n{}", server.log());
    assert_ne!(verified_status(&server, "web.platfiles.test", &new_ca)?, 0);

    // Files broken halfway through a renewal: the last good certificate keeps serving, and
    // admin:certs says why.
    std::fs::write(&key_file, "not a key")?;
    let noticed = wait_for(90, || {
        Ok(server
            .log()
            .contains("platform certificate files not usable"))
    })?;
    assert!(noticed, "log:\n{}", server.log());
    assert!(served(&server, DOMAIN)?.contains("Files Renewed CA"));
    assert_eq!(api_status_at(&server, DOMAIN, &new_ca)?, "200");
    let (_, rows) = admin_certs(&server)?;
    for row in &rows {
        assert_eq!(row.status, "cert file", "{row:?}");
        assert!(row.reason.contains("keeps serving"), "{row:?}");
    }
    Ok(())
}

#[test]
fn unusable_certificate_files_are_refused_at_start() -> Result<()> {
    let work = tempfile::tempdir()?;
    let (_, leaf, key) = wildcard(&work.path().join("good"), "Files Test CA")?;
    let other = work.path().join("other");
    std::fs::create_dir_all(&other)?;
    let (_, other_leaf, _) = make_cert_for(
        &other,
        "Other CA",
        "other.test",
        "DNS:other.test,DNS:*.other.test",
    )?;
    let leaf_arg = leaf.display().to_string();
    let key_arg = key.display().to_string();
    let other_arg = other_leaf.display().to_string();
    let cases: [(&str, &[&str], &str); 4] = [
        (
            DOMAIN,
            &[
                "--platform-cert-file",
                &other_arg,
                "--platform-key-file",
                &key_arg,
            ],
            "does not match",
        ),
        (
            DOMAIN,
            &["--platform-cert-file", &leaf_arg],
            "needs --platform-cert-file",
        ),
        (
            DOMAIN,
            &[
                "--platform-cert-file",
                "/nonexistent/fullchain.pem",
                "--platform-key-file",
                &key_arg,
            ],
            "cannot read /nonexistent/fullchain.pem",
        ),
        (
            "elsewhere.test",
            &[
                "--platform-cert-file",
                &leaf_arg,
                "--platform-key-file",
                &key_arg,
            ],
            "need elsewhere.test and *.elsewhere.test",
        ),
    ];
    for (domain, flags, expected) in cases {
        let dir = tempfile::tempdir()?;
        let out = Command::new(doppel_bin())
            .args(["server", "--config", "/dev/null", "--data-dir"])
            .arg(dir.path())
            .args(["--domain", domain, "--platform-certs", "files"])
            .args(flags)
            .output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        // EX_CONFIG: doppel.service does not restart a setting that cannot work.
        assert_eq!(out.status.code(), Some(78), "{flags:?}: {err}");
        assert!(err.contains(expected), "{flags:?}: {err}");
        assert!(!dir.path().join("doppel.db").exists());
    }
    // The files without `--platform-certs files` would be ignored silently: refused too.
    let dir = tempfile::tempdir()?;
    let out = Command::new(doppel_bin())
        .args(["server", "--config", "/dev/null", "--data-dir"])
        .arg(dir.path())
        .args(["--domain", DOMAIN, "--platform-cert-file", &leaf_arg])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("used only with --platform-certs files"),
        "{err}"
    );
    Ok(())
}

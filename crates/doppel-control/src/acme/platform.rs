//! The platform's own host names under `--platform-certs acme`: which names want an ACME
//! certificate (the platform host, `dashboard.<domain>`, `<env>.<domain>` of every
//! environment; one certificate per name, since HTTP-01 and TLS-ALPN-01 cannot prove a
//! wildcard), and whether the domain can have public certificates at all. Under
//! `--platform-certs files`, the certificate those names get from the admin's files
//! ([`super::files`], kept in the shared state's [`super::handle::Acme`]).

use super::settings::PlatformCerts;
use crate::state::AppState;
use crate::urls::Urls;
use doppel_router::certs::CertInfo;
use doppel_router::Certificate;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// `--platform-certs acme` with a domain no public CA issues for: a setting a restart cannot
/// fix (the server exits with EX_CONFIG, which doppel.service does not restart).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DomainRefused(String);

/// Why `--platform-certs acme` is refused for `domain`, if it is: a CA issues no public
/// certificate for `localhost` (or a name under it), an IP address, or a name without a dot.
pub fn check_domain(domain: &str) -> Result<(), DomainRefused> {
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    let why = if name.parse::<IpAddr>().is_ok() || name.starts_with('[') {
        Some("is an IP address")
    } else if name == "localhost" || name.ends_with(".localhost") {
        Some("is a loopback name")
    } else if !name.contains('.') {
        Some("has no dot (not a public DNS name)")
    } else {
        None
    };
    match why {
        Some(why) => Err(DomainRefused(format!(
            "--platform-certs acme needs a public domain, and --domain {domain} {why}: \
             an ACME CA cannot issue certificates for it. Use --domain with a name whose \
             DNS (and a wildcard record) points at this server, or --platform-certs ca."
        ))),
        None => Ok(()),
    }
}

/// The platform names for `urls` and these environments, sorted, without repeats.
pub fn names<'a>(urls: &Urls, envs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = BTreeSet::new();
    out.insert(urls.domain.to_ascii_lowercase());
    out.insert(urls.dashboard_host());
    out.extend(envs.into_iter().map(|env| urls.env_host(env)));
    out.into_iter().collect()
}

/// The platform names that want an ACME certificate now: none unless `--platform-certs
/// acme`, else [`names`] of every environment in the store.
pub async fn wanted(state: &AppState) -> Result<Vec<String>, doppel_store::StoreError> {
    if state.config().acme.platform != PlatformCerts::Acme {
        return Ok(Vec::new());
    }
    let envs = state.store().list_environments().await?;
    Ok(names(state.urls(), envs.iter().map(|e| e.name.as_str())))
}

/// The route table's entry for the platform names under `--platform-certs files` (none in
/// the other modes, or when the files were never usable).
pub async fn files_certificate(state: &AppState) -> Option<Certificate> {
    let files = state.config().acme.platform_files.clone()?;
    let domain = state.urls().domain.clone();
    let loaded = state.clone();
    tokio::task::spawn_blocking(move || {
        loaded
            .acme()
            .platform_files
            .refresh(&files, &domain)
            .map(|(cert, _)| cert)
    })
    .await
    .ok()
    .flatten()
}

/// What `admin:certs` shows under `--platform-certs files`: the certificate being served
/// (as last read) and why the files are not usable now, if they are not.
pub fn files_status(state: &AppState) -> (Option<CertInfo>, Option<String>) {
    state.acme().platform_files.current()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn public_domains_only() {
        assert!(check_domain("example.com").is_ok());
        assert!(check_domain("paas.example.co.uk.").is_ok());
        for bad in [
            "localhost",
            "apps.localhost",
            "127.0.0.1",
            "::1",
            "intranet",
        ] {
            let e = check_domain(bad).unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("--platform-certs"), "{e}");
        }
    }

    #[test]
    fn the_platform_host_the_dashboard_and_each_environment() {
        let urls = Urls {
            domain: "Example.com".into(),
            https_port: 443,
        };
        assert_eq!(
            names(&urls, ["shop-staging", "shop", "shop"]),
            [
                "dashboard.example.com",
                "example.com",
                "shop-staging.example.com",
                "shop.example.com"
            ]
        );
    }
}

//! The platform's own names under `--platform-certs files`: one certificate the admin keeps
//! in two files (`--platform-cert-file`, `--platform-key-file`), typically a wildcard for
//! `*.<domain>` bought or issued by DNS-01 outside doppel (which also avoids the CA's
//! per-domain rate limits of one ACME certificate per name).
//!
//! The files are checked at start ([`check`]: readable, the key matches, the certificate
//! covers `<domain>` and `*.<domain>`, not expired), else the server refuses to start. They
//! are read again on every route-table pass (at least every 30 s), so a renewal written over
//! them is served without a restart; while they cannot be read or no longer make a usable
//! pair (a renewal half written), the last good pair keeps serving and a warning says why.
//! Renewing is the admin's: from 14 days before expiry the log says so once a day.

use super::settings::CertFiles;
use doppel_router::certs::{self, CertInfo};
use doppel_router::Certificate;
use std::sync::Mutex;
use time::OffsetDateTime;

/// The route table's id of the certificate read from the files.
const ID: &str = "platform-files";

/// The certificate files do not make a usable certificate for the platform's names: a
/// setting a restart cannot fix (the server exits with EX_CONFIG).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FilesRefused(String);

impl FilesRefused {
    pub fn new(why: impl Into<String>) -> FilesRefused {
        FilesRefused(why.into())
    }
}

/// The pair last read from the files that made a usable certificate, and the last reason
/// a read failed (so a lasting failure is logged once, not on every pass).
#[derive(Debug, Default)]
pub struct Loaded {
    inner: Mutex<LoadedInner>,
}

#[derive(Debug, Default)]
struct LoadedInner {
    good: Option<(Certificate, CertInfo)>,
    last_error: Option<String>,
    /// When the coming expiry was last logged (once a day while it is near).
    expiry_warned: Option<OffsetDateTime>,
}

/// How long before expiry the log starts saying the files need renewing.
const RENEW_WARNING: time::Duration = time::Duration::days(14);

impl LoadedInner {
    /// Logs, at most once a day, that the certificate served expires soon.
    fn warn_if_expiring(&mut self, files: &CertFiles, now: OffsetDateTime) {
        let Some((_, info)) = &self.good else {
            return;
        };
        let left = info.not_after - now;
        let recently = self
            .expiry_warned
            .is_some_and(|at| now - at < time::Duration::days(1));
        if left > RENEW_WARNING || recently {
            return;
        }
        tracing::warn!(
            file = %files.chain.display(),
            expires = %doppel_store::stamp(info.not_after),
            days_left = left.whole_days(),
            "the platform certificate expires soon: write a renewed certificate and key over the files"
        );
        self.expiry_warned = Some(now);
    }
}

/// Reads and checks the files for `domain`: the certificate and its names.
fn read(files: &CertFiles, domain: &str) -> Result<(Certificate, CertInfo), String> {
    let (chain_pem, key_pem) = read_pems(files)?;
    parse(files, domain, chain_pem, key_pem)
}

/// The two files' text.
fn read_pems(files: &CertFiles) -> Result<(String, String), String> {
    let chain_pem = std::fs::read_to_string(&files.chain)
        .map_err(|e| format!("cannot read {}: {e}", files.chain.display()))?;
    let key_pem = std::fs::read_to_string(&files.key)
        .map_err(|e| format!("cannot read {}: {e}", files.key.display()))?;
    Ok((chain_pem, key_pem))
}

/// Checks the pair for `domain`: the certificate and its names.
fn parse(
    files: &CertFiles,
    domain: &str,
    chain_pem: String,
    key_pem: String,
) -> Result<(Certificate, CertInfo), String> {
    certs::certified_key(&chain_pem, &key_pem).map_err(|e| {
        format!(
            "{} with {}: {e}",
            files.chain.display(),
            files.key.display()
        )
    })?;
    let info = certs::inspect(&chain_pem).map_err(|e| format!("{}: {e}", files.chain.display()))?;
    let names = platform_names(&info, domain);
    if names.len() < 2 {
        return Err(format!(
            "the certificate in {} is for {}, but the platform's names need {domain} and \
             *.{domain} (the dashboard and every environment's name)",
            files.chain.display(),
            info.names.join(", ")
        ));
    }
    if info.not_after <= OffsetDateTime::now_utc() {
        return Err(format!(
            "the certificate in {} expired on {}",
            files.chain.display(),
            doppel_store::stamp(info.not_after)
        ));
    }
    let cert = Certificate {
        id: ID.to_string(),
        names,
        chain_pem,
        key_pem,
    };
    Ok((cert, info))
}

/// The platform names (`<domain>`, `*.<domain>`) the certificate covers, as route-table
/// names (the router matches `*.<domain>` for every name one label below).
fn platform_names(info: &CertInfo, domain: &str) -> Vec<String> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let probe = format!("dashboard.{domain}");
    let covers = |host: &str| info.names.iter().any(|n| certs::name_covers(n, host));
    let mut out = Vec::new();
    if covers(&domain) {
        out.push(domain.clone());
    }
    // Only a wildcard covers every environment's name; a certificate listing some of them
    // one by one does not make a usable platform certificate.
    if covers(&probe) && info.names.iter().any(|n| n == &format!("*.{domain}")) {
        out.push(format!("*.{domain}"));
    }
    out
}

/// Checks the files at start: `Err` (with what to fix) refuses the setting.
pub fn check(files: &CertFiles, domain: &str) -> Result<(), FilesRefused> {
    read(files, domain).map(|_| ()).map_err(|why| {
        FilesRefused(format!(
            "--platform-certs files: {why}. Fix the files (or the --platform-cert-file and \
             --platform-key-file settings) and start again."
        ))
    })
}

impl Loaded {
    /// Reads the files again; returns the certificate to serve (the last good one when they
    /// are not usable now) and its details.
    pub(super) fn refresh(
        &self,
        files: &CertFiles,
        domain: &str,
    ) -> Option<(Certificate, CertInfo)> {
        let pems = read_pems(files);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // The table is rebuilt on every change of any route: files as they were last taken
        // are not parsed and checked again.
        let unchanged = match (&pems, &inner.good) {
            (Ok((chain, key)), Some((cert, _))) => {
                inner.last_error.is_none() && *chain == cert.chain_pem && *key == cert.key_pem
            }
            _ => false,
        };
        if unchanged {
            inner.warn_if_expiring(files, OffsetDateTime::now_utc());
            return inner.good.clone();
        }
        let read = pems.and_then(|(chain, key)| parse(files, domain, chain, key));
        match read {
            Ok(pair) => {
                if inner.last_error.take().is_some() {
                    tracing::info!(file = %files.chain.display(), "platform certificate files usable again");
                }
                inner.good = Some(pair);
            }
            Err(why) => {
                if inner.last_error.as_deref() != Some(why.as_str()) {
                    tracing::warn!(reason = %why, "platform certificate files not usable; the last good certificate keeps serving");
                    inner.last_error = Some(why);
                }
            }
        }
        inner.warn_if_expiring(files, OffsetDateTime::now_utc());
        inner.good.clone()
    }

    /// The certificate last read (without reading the files), and the last failure.
    pub(super) fn current(&self) -> (Option<CertInfo>, Option<String>) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (
            inner.good.as_ref().map(|(_, info)| info.clone()),
            inner.last_error.clone(),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::Path;

    fn write_cert(dir: &Path, names: &[&str]) -> CertFiles {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        let files = CertFiles {
            chain: dir.join("chain.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.chain, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn a_wildcard_with_the_domain_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_cert(dir.path(), &["example.com", "*.example.com"]);
        check(&files, "example.com").unwrap();
        let (cert, _) = read(&files, "Example.com.").unwrap();
        assert_eq!(cert.names, ["example.com", "*.example.com"]);
    }

    #[test]
    fn certificates_that_miss_a_platform_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for names in [
            &["*.example.com"][..],
            &["example.com", "dashboard.example.com", "web.example.com"],
            &["example.org", "*.example.org"],
        ] {
            let files = write_cert(dir.path(), names);
            let e = check(&files, "example.com").unwrap_err().to_string();
            assert!(e.contains("need example.com and *.example.com"), "{e}");
        }
    }

    #[test]
    fn unreadable_or_mismatched_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_cert(dir.path(), &["example.com", "*.example.com"]);
        let other = tempfile::tempdir().unwrap();
        let second = write_cert(other.path(), &["example.com", "*.example.com"]);
        let mismatched = CertFiles {
            chain: files.chain.clone(),
            key: second.key.clone(),
        };
        let e = check(&mismatched, "example.com").unwrap_err().to_string();
        assert!(e.contains("does not match"), "{e}");
        let missing = CertFiles {
            chain: dir.path().join("nope.pem"),
            key: files.key.clone(),
        };
        let e = check(&missing, "example.com").unwrap_err().to_string();
        assert!(e.contains("cannot read") && e.contains("nope.pem"), "{e}");
    }

    #[test]
    fn a_near_expiry_is_logged_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_cert(dir.path(), &["example.com", "*.example.com"]);
        let loaded = Loaded::default();
        loaded.refresh(&files, "example.com").unwrap();
        let mut inner = loaded.inner.lock().unwrap();
        let not_after = inner.good.as_ref().unwrap().1.not_after;
        // Far from expiry: nothing.
        inner.warn_if_expiring(&files, not_after - time::Duration::days(30));
        assert_eq!(inner.expiry_warned, None);
        let near = not_after - time::Duration::days(10);
        inner.warn_if_expiring(&files, near);
        assert_eq!(inner.expiry_warned, Some(near));
        // Not again the same day; again the next.
        inner.warn_if_expiring(&files, near + time::Duration::hours(3));
        assert_eq!(inner.expiry_warned, Some(near));
        let next = near + time::Duration::days(1);
        inner.warn_if_expiring(&files, next);
        assert_eq!(inner.expiry_warned, Some(next));
    }

    #[test]
    fn the_last_good_pair_keeps_serving_while_the_files_are_broken() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_cert(dir.path(), &["example.com", "*.example.com"]);
        let loaded = Loaded::default();
        let (first, _) = loaded.refresh(&files, "example.com").unwrap();
        std::fs::write(&files.key, "half a renewal").unwrap();
        let (kept, _) = loaded.refresh(&files, "example.com").unwrap();
        assert_eq!(kept.chain_pem, first.chain_pem);
        let (_, why) = loaded.current();
        assert!(why.unwrap().contains("key"));
        // A renewal written whole is taken on the next pass.
        let renewed = write_cert(dir.path(), &["example.com", "*.example.com"]);
        let (now, _) = loaded.refresh(&renewed, "example.com").unwrap();
        assert_ne!(now.chain_pem, first.chain_pem);
        assert_eq!(loaded.current().1, None);
    }
}

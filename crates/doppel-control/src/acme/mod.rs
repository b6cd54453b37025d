//! Automated Certificate Management (Heroku's ACM, `certs:auto`): certificates from an ACME
//! CA for the custom domains of environments with ACM on, and (`--platform-certs acme`) for
//! the platform's own host names ([`platform`]). With `--platform-certs files` those names
//! are served instead from a certificate the admin keeps in files ([`files`]).
//!
//! The background task ([`run_forever`]) re-reads the desired state from the store on every
//! pass (ACM environments, their custom domains not covered by an uploaded certificate, the
//! platform names, the stored ACME rows) and orders what is missing or due for renewal
//! ([`schedule`]). Challenges are answered by the router from the route table
//! ([`Acme::challenges`], published by `routes.rs`): HTTP-01 on port 80, TLS-ALPN-01 by ALPN
//! `acme-tls/1`. The account and every issued certificate are stored (keys sealed), so a
//! restart orders nothing new; an order cut off by a crash is simply made again (the row says
//! `pending` without a certificate).

pub mod files;
mod order;
pub mod platform;
pub mod schedule;

use crate::state::AppState;
use doppel_router::Challenges;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Let's Encrypt's production directory: the default `--acme-directory`.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Which challenge the CA is asked to validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// A token served on port 80 (`/.well-known/acme-challenge/<token>`).
    Http01,
    /// A self-signed certificate presented on port 443 to ALPN `acme-tls/1`.
    TlsAlpn01,
}

impl ChallengeKind {
    pub fn parse(s: &str) -> Option<ChallengeKind> {
        match s {
            "http-01" => Some(ChallengeKind::Http01),
            "tls-alpn-01" => Some(ChallengeKind::TlsAlpn01),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::Http01 => "http-01",
            ChallengeKind::TlsAlpn01 => "tls-alpn-01",
        }
    }
}

/// Where the platform's own host names (platform host, dashboard, `<env>.<domain>`) get
/// their certificates (`--platform-certs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlatformCerts {
    /// Leaves of the platform CA (`<data-dir>/ca.pem`), issued by the router on first use.
    #[default]
    Ca,
    /// One ACME certificate per name; the CA's leaf serves until it is issued.
    Acme,
    /// One certificate (a wildcard) from the admin's files (`--platform-cert-file`).
    Files,
}

impl PlatformCerts {
    pub fn parse(s: &str) -> Option<PlatformCerts> {
        match s {
            "ca" => Some(PlatformCerts::Ca),
            "acme" => Some(PlatformCerts::Acme),
            "files" => Some(PlatformCerts::Files),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformCerts::Ca => "ca",
            PlatformCerts::Acme => "acme",
            PlatformCerts::Files => "files",
        }
    }
}

/// The server's ACME settings (`--acme-*` flags).
#[derive(Debug, Clone)]
pub struct AcmeSettings {
    /// The CA's directory URL.
    pub directory: String,
    /// The account's contact, if any.
    pub email: Option<String>,
    /// A PEM root to trust for the directory's HTTPS (a test CA such as Pebble's).
    pub ca_file: Option<PathBuf>,
    /// The preferred challenge; the other is used when the CA does not offer it.
    pub challenge: ChallengeKind,
    /// Renew when less than this remains; `None`: 30 days or a third of the lifetime,
    /// whichever is shorter.
    pub renew_before: Option<Duration>,
    /// Where the platform's own names get certificates (`--platform-certs`).
    pub platform: PlatformCerts,
    /// The certificate and key files of `--platform-certs files` (set exactly then).
    pub platform_files: Option<CertFiles>,
}

/// A PEM certificate chain (leaf first) and its private key, in two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    pub chain: PathBuf,
    pub key: PathBuf,
}

impl Default for AcmeSettings {
    fn default() -> Self {
        AcmeSettings {
            directory: LETS_ENCRYPT.to_string(),
            email: None,
            ca_file: None,
            challenge: ChallengeKind::Http01,
            renew_before: None,
            platform: PlatformCerts::Ca,
            platform_files: None,
        }
    }
}

/// The in-memory part of ACM: challenges in flight and the task's wake-up.
#[derive(Debug, Default)]
pub struct Acme {
    challenges: Mutex<Challenges>,
    wake: tokio::sync::Notify,
    /// The certificate last read from `--platform-cert-file` (`files`).
    platform_files: files::Loaded,
}

impl Acme {
    /// The challenges the router must answer now (for the route table).
    pub fn challenges(&self) -> Challenges {
        self.challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn edit(&self, f: impl FnOnce(&mut Challenges)) {
        f(&mut self.challenges.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Asks the task for a pass now (ACM turned on, a domain added, `PATCH /acm`, an app
    /// created or destroyed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// How long the task sleeps when nothing is due sooner.
const IDLE: Duration = Duration::from_secs(3600);

/// The ACM task: a pass at start, on every wake-up and at least hourly (sooner when a retry
/// is due). Runs until the process ends.
pub async fn run_forever(state: AppState) {
    loop {
        let next = schedule::pass(&state).await;
        let wait = next.map_or(IDLE, |d| d.min(IDLE));
        tokio::select! {
            _ = state.acme().wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

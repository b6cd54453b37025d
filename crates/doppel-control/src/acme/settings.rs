//! ACM's settings (`--acme-*`, `--platform-certs` flags): what the server's configuration
//! holds. A leaf: it names nothing else of the crate.

use std::path::PathBuf;
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

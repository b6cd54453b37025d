//! The certificates of the platform's own host names (a doppel extension, admins only):
//! `GET /platform-certs`, shown by `doppel admin:certs`.

use serde::{Deserialize, Serialize};

/// Where the platform names' certificates come from, and each name's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformCerts {
    /// `ca` (the platform CA's leaves), `acme` or `files` (`--platform-certs`).
    pub source: String,
    /// The platform host, `dashboard.<domain>`, then every environment's `<env>.<domain>`.
    pub certificates: Vec<PlatformCert>,
}

/// One platform host name's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformCert {
    pub hostname: String,
    /// `platform ca` (source `ca`), `cert file` (source `files`; `platform ca` for a name
    /// the file's certificate does not cover), else ACME's: `pending`, `cert issued`,
    /// `failing`, `failed`.
    pub status: String,
    /// Why the last order failed (a failed renewal keeps `cert issued` and says why here).
    pub status_reason: Option<String>,
    /// The issued certificate's expiry (RFC 3339).
    pub expires_at: Option<String>,
    pub issued_at: Option<String>,
    /// No new order before this time (back-off after a failure).
    pub next_attempt_at: Option<String>,
}

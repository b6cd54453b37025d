//! The certificates of the platform's own host names (admins only; `GET /platform-certs`,
//! `doppel admin:certs`): where they come from (`--platform-certs`) and, with ACME, each
//! name's status, reason and expiry as the ACM task left them; with `files`, the expiry of
//! the certificate read from the files.

use super::{access, Actor, LogicError};
use crate::acme::{platform, schedule, PlatformCerts};
use crate::state::AppState;
use doppel_store::AcmeCert;
use std::collections::HashMap;

/// The status shown for every name with `--platform-certs ca`.
pub const PLATFORM_CA: &str = "platform ca";

/// The status of a name served from the files of `--platform-certs files`.
pub const CERT_FILE: &str = "cert file";

/// One platform name's certificate state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameStatus {
    pub hostname: String,
    pub status: String,
    pub reason: Option<String>,
    pub expires_at: Option<String>,
    pub issued_at: Option<String>,
    pub next_attempt_at: Option<String>,
}

/// The source and every platform name's state: the platform host, the dashboard, then each
/// environment's name (sorted). Admins only.
pub async fn list(
    state: &AppState,
    actor: &Actor,
) -> Result<(PlatformCerts, Vec<NameStatus>), LogicError> {
    access::require_admin(actor)?;
    let source = state.config().acme.platform;
    let envs = state.store().list_environments().await?;
    let names = platform::names(state.urls(), envs.iter().map(|e| e.name.as_str()));
    let mut rows: HashMap<String, AcmeCert> = state
        .store()
        .platform_certs()
        .await?
        .into_iter()
        .map(|r| (r.hostname.clone(), r))
        .collect();
    if source == PlatformCerts::Files {
        return Ok((source, from_files(state, names)));
    }
    let out = names
        .into_iter()
        .map(|hostname| match (source, rows.remove(&hostname)) {
            (PlatformCerts::Ca | PlatformCerts::Files, _) => {
                NameStatus::bare(hostname, PLATFORM_CA)
            }
            (PlatformCerts::Acme, None) => NameStatus::bare(hostname, schedule::PENDING),
            (PlatformCerts::Acme, Some(row)) => NameStatus {
                hostname,
                status: row.status,
                reason: row.reason,
                expires_at: row.expires_at,
                issued_at: row.issued_at,
                next_attempt_at: row.next_attempt_at,
            },
        })
        .collect();
    Ok((source, out))
}

/// Under `--platform-certs files`: each name the files' certificate covers shows it, with
/// its validity and, while the files are not usable, why (the last good one serves).
fn from_files(state: &AppState, names: Vec<String>) -> Vec<NameStatus> {
    let (info, failure) = platform::files_status(state);
    let reason = failure.map(|why| format!("{why}; the certificate read before keeps serving"));
    names
        .into_iter()
        .map(|hostname| match &info {
            Some(info)
                if info
                    .names
                    .iter()
                    .any(|n| doppel_router::certs::name_covers(n, &hostname)) =>
            {
                NameStatus {
                    hostname,
                    status: CERT_FILE.to_string(),
                    reason: reason.clone(),
                    expires_at: Some(super::certs::rfc3339(info.not_after)),
                    issued_at: Some(super::certs::rfc3339(info.not_before)),
                    next_attempt_at: None,
                }
            }
            _ => NameStatus {
                reason: reason.clone(),
                ..NameStatus::bare(hostname, PLATFORM_CA)
            },
        })
        .collect()
}

impl NameStatus {
    fn bare(hostname: String, status: &str) -> NameStatus {
        NameStatus {
            hostname,
            status: status.to_string(),
            reason: None,
            expires_at: None,
            issued_at: None,
            next_attempt_at: None,
        }
    }
}

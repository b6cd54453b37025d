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
pub mod handle;
mod order;
pub mod platform;
pub mod schedule;
pub mod settings;

use crate::state::AppState;
use std::time::Duration;

pub use handle::Acme;
pub use settings::{AcmeSettings, CertFiles, ChallengeKind, PlatformCerts, LETS_ENCRYPT};

/// How long the task sleeps when nothing is due sooner.
const IDLE: Duration = Duration::from_secs(3600);

/// The ACM task: a pass at start, on every wake-up and at least hourly (sooner when a retry
/// is due). Runs until the process ends.
pub async fn run_forever(state: AppState) {
    loop {
        let next = schedule::pass(&state).await;
        let wait = next.map_or(IDLE, |d| d.min(IDLE));
        tokio::select! {
            _ = state.acme().notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

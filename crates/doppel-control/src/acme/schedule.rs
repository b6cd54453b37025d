//! One pass of the ACM task: what should have an ACME certificate (custom domains of ACM
//! environments and, with `--platform-certs acme`, the platform's own names: one [`Target`]
//! either way), what is due (missing, renewal, a retry whose back-off ended), and the
//! bookkeeping around each order.

use super::settings::PlatformCerts;
use super::{order, platform};
use crate::state::AppState;
use doppel_router::certs as pem;
use doppel_store::{AcmeAttempt, AcmeCert, AcmeTarget};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use time::OffsetDateTime;

/// Status words shown as a domain's `acm_status`.
pub const PENDING: &str = "pending";
pub const ISSUED: &str = "cert issued";
pub const FAILING: &str = "failing";
pub const FAILED: &str = "failed";

/// After this many failed attempts in a row the status says `failed` (retries go on).
const FAILED_AFTER: i64 = 5;
/// The longest back-off between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// One host name that should have an ACME certificate, and whose row keeps its state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub kind: AcmeTarget,
    pub hostname: String,
}

impl Target {
    fn of(row: &AcmeCert) -> Target {
        Target {
            kind: row.target.clone(),
            hostname: row.hostname.clone(),
        }
    }
}

/// Every host name that should have an ACME certificate: custom domains of ACM environments
/// not covered by one of the environment's uploaded certificates, then the platform's names
/// ([`platform::wanted`]).
pub async fn wanted(state: &AppState) -> anyhow::Result<Vec<Target>> {
    let mut out = wanted_domains(state).await?;
    out.extend(
        platform::wanted(state)
            .await?
            .into_iter()
            .map(|hostname| Target {
                kind: AcmeTarget::Platform,
                hostname,
            }),
    );
    Ok(out)
}

async fn wanted_domains(state: &AppState) -> anyhow::Result<Vec<Target>> {
    let store = state.store();
    let envs = store.acm_environments().await?;
    let uploads = store.all_sni_endpoints().await?;
    let mut out = Vec::new();
    for env_id in envs {
        let names: Vec<String> = uploads
            .iter()
            .filter(|e| e.env_id == env_id)
            .filter_map(|e| pem::inspect(&e.certificate_chain).ok())
            .flat_map(|i| i.names)
            .collect();
        for d in store.domains(&env_id).await? {
            if !names.iter().any(|n| pem::name_covers(n, &d.hostname)) {
                out.push(Target {
                    kind: AcmeTarget::Domain(d.id),
                    hostname: d.hostname,
                });
            }
        }
    }
    Ok(out)
}

fn parse(t: Option<&str>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(t?, &time::format_description::well_known::Rfc3339).ok()
}

/// How long before expiry a certificate is renewed: the setting, else 30 days or a third of
/// its lifetime, whichever is shorter.
fn renew_before(setting: Option<Duration>, row: &AcmeCert) -> Option<time::Duration> {
    if let Some(d) = setting {
        return time::Duration::try_from(d).ok();
    }
    let chain = row.certificate_chain.as_deref()?;
    let info = pem::inspect(chain).ok()?;
    let third: time::Duration = (info.not_after - info.not_before) / 3;
    Some(third.min(time::Duration::days(30)))
}

/// When `row`'s host name needs an order: `Some(0)` now, `Some(d)` in `d`, `None` not by time.
/// `renew`: the `--acme-renew-before` setting.
pub fn due_in(
    renew: Option<Duration>,
    row: Option<&AcmeCert>,
    now: OffsetDateTime,
) -> Option<Duration> {
    let Some(row) = row else {
        return Some(Duration::ZERO);
    };
    let retry_at = parse(row.next_attempt_at.as_deref());
    let wait_retry = retry_at.map_or(time::Duration::ZERO, |t| t - now);
    let needed_at = match (
        row.certificate_chain.as_ref(),
        parse(row.expires_at.as_deref()),
    ) {
        (Some(_), Some(expires)) => match renew_before(renew, row) {
            Some(before) => expires - before,
            None => now,
        },
        _ => now,
    };
    let wait = (needed_at - now).max(wait_retry);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// The back-off after `attempts` failures in a row: 1, 2, 4… minutes, at most 6 hours.
pub fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    Duration::from_secs(60u64.saturating_mul(2u64.saturating_pow(exp))).min(MAX_BACKOFF)
}

/// One pass: forgets platform names no longer wanted, orders what is due, one host name at
/// a time. Returns when the next thing is due.
pub async fn pass(state: &AppState) -> Option<Duration> {
    let (targets, rows) = match read(state).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "ACM: could not read the desired state; retrying later");
            return Some(Duration::from_secs(60));
        }
    };
    forget_unwanted(state, &targets, &rows).await;
    let renew = state.config().acme.renew_before;
    for target in &targets {
        let row = rows.get(target);
        if due_in(renew, row, OffsetDateTime::now_utc()).is_some_and(|d| d.is_zero()) {
            attempt(state, target, row).await;
        }
    }
    // When the next thing is due, from what the attempts left behind (at least a second
    // away, so a row that stays due cannot spin the task).
    let (targets, rows) = match read(state).await {
        Ok(x) => x,
        Err(_) => return Some(Duration::from_secs(60)),
    };
    let now = OffsetDateTime::now_utc();
    targets
        .iter()
        .filter_map(|t| due_in(renew, rows.get(t), now))
        .map(|d| d.max(Duration::from_secs(1)))
        .min()
}

async fn read(state: &AppState) -> anyhow::Result<(Vec<Target>, HashMap<Target, AcmeCert>)> {
    let targets = wanted(state).await?;
    let store = state.store();
    let rows = store
        .acme_certs()
        .await?
        .into_iter()
        .chain(store.platform_certs().await?)
        .map(|r| (Target::of(&r), r))
        .collect();
    Ok((targets, rows))
}

/// Removes the rows of platform names no longer wanted (an environment destroyed). Custom
/// domains' rows go with their domain or ACM; with `--platform-certs ca` the rows are kept
/// (not served), for a return to `acme`.
async fn forget_unwanted(state: &AppState, targets: &[Target], rows: &HashMap<Target, AcmeCert>) {
    if state.config().acme.platform != PlatformCerts::Acme {
        return;
    }
    let wanted: HashSet<&Target> = targets.iter().collect();
    for t in rows.keys() {
        if t.kind == AcmeTarget::Platform && !wanted.contains(t) {
            match state.store().remove_platform_cert(&t.hostname).await {
                Ok(_) => {
                    tracing::info!(hostname = %t.hostname, "ACM: platform name no longer wanted; its certificate is forgotten")
                }
                Err(e) => {
                    tracing::warn!(hostname = %t.hostname, error = %e, "ACM: could not forget a platform certificate")
                }
            }
        }
    }
}

/// Orders a certificate for `target` and records the outcome.
async fn attempt(state: &AppState, target: &Target, row: Option<&AcmeCert>) {
    let attempts = row.map_or(0, |r| r.attempts);
    let has_cert = row.is_some_and(|r| r.certificate_chain.is_some());
    if target.hostname.starts_with("*.") {
        // HTTP-01 and TLS-ALPN-01 cannot prove a wildcard (only DNS-01 can).
        let reason = "a wildcard domain needs a DNS-01 challenge, which doppel does not answer; upload a certificate for it (certs:add)";
        failed(state, target, FAILED_AFTER.max(attempts + 1), false, reason).await;
        return;
    }
    let before = AcmeAttempt {
        status: if has_cert { ISSUED } else { PENDING }.to_string(),
        reason: None,
        attempts,
        next_attempt_at: None,
    };
    if let Err(e) = state
        .store()
        .set_acme_attempt(&target.kind, &target.hostname, &before)
        .await
    {
        tracing::warn!(hostname = %target.hostname, error = %e, "ACM: could not record an attempt");
        return;
    }
    tracing::info!(hostname = %target.hostname, renewal = has_cert, "ACM: ordering a certificate");
    match order::obtain(state, &target.hostname).await {
        Ok(issued) => {
            let stored = state
                .store()
                .store_acme_cert(
                    &target.kind,
                    &target.hostname,
                    &issued.chain,
                    &issued.key,
                    &issued.expires_at,
                )
                .await;
            match stored {
                Ok(()) => crate::routes::publish(state).await,
                Err(e) => {
                    tracing::warn!(hostname = %target.hostname, error = %e, "ACM: could not store a certificate")
                }
            }
        }
        Err(e) => failed(state, target, attempts + 1, has_cert, &e.to_string()).await,
    }
}

async fn failed(state: &AppState, target: &Target, attempts: i64, has_cert: bool, reason: &str) {
    let wait = backoff(attempts);
    tracing::warn!(hostname = %target.hostname, attempts, retry_in_s = wait.as_secs(), reason, "ACM: order failed");
    let status = if has_cert {
        ISSUED
    } else if attempts >= FAILED_AFTER {
        FAILED
    } else {
        FAILING
    };
    let next = OffsetDateTime::now_utc() + wait;
    let record = AcmeAttempt {
        status: status.to_string(),
        reason: Some(reason.to_string()),
        attempts,
        next_attempt_at: Some(doppel_store::stamp(next)),
    };
    if let Err(e) = state
        .store()
        .set_acme_attempt(&target.kind, &target.hostname, &record)
        .await
    {
        tracing::warn!(hostname = %target.hostname, error = %e, "ACM: could not record a failure");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(chain: Option<String>, expires: Option<&str>, retry: Option<&str>) -> AcmeCert {
        AcmeCert {
            target: AcmeTarget::Domain("d".into()),
            hostname: "www.example.com".into(),
            status: FAILING.into(),
            reason: None,
            certificate_chain: chain,
            private_key: None,
            expires_at: expires.map(str::to_string),
            issued_at: None,
            attempts: 1,
            next_attempt_at: retry.map(str::to_string),
            updated_at: String::new(),
        }
    }

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(2), Duration::from_secs(120));
        assert_eq!(backoff(5), Duration::from_secs(960));
        assert_eq!(backoff(50), MAX_BACKOFF);
    }

    #[test]
    fn due_now_without_a_row_and_after_the_back_off() {
        let now = at("2030-01-01T00:00:00Z");
        assert_eq!(due_in(None, None, now), Some(Duration::ZERO));
        let waiting = row(None, None, Some("2030-01-01T00:10:00Z"));
        assert_eq!(
            due_in(None, Some(&waiting), now),
            Some(Duration::from_secs(600))
        );
        let over = row(None, None, Some("2029-12-31T00:00:00Z"));
        assert_eq!(due_in(None, Some(&over), now), Some(Duration::ZERO));
    }

    #[test]
    fn renews_thirty_days_before_or_a_third_of_the_lifetime() {
        // A 90-day certificate: renewed 30 days before it expires.
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["www.example.com".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2030, 1, 1);
        params.not_after = rcgen::date_time_ymd(2030, 4, 1);
        let pem = params.self_signed(&key).unwrap().pem();
        let issued = row(Some(pem.clone()), Some("2030-04-01T00:00:00Z"), None);
        let now = at("2030-01-01T00:00:00Z");
        let due = due_in(None, Some(&issued), now).unwrap();
        assert_eq!(due, Duration::from_secs(60 * 86_400));
        // A 9-day certificate: renewed when 3 days remain.
        let mut short = rcgen::CertificateParams::new(vec!["www.example.com".into()]).unwrap();
        short.not_before = rcgen::date_time_ymd(2030, 1, 1);
        short.not_after = rcgen::date_time_ymd(2030, 1, 10);
        let pem = short.self_signed(&key).unwrap().pem();
        let issued = row(Some(pem), Some("2030-01-10T00:00:00Z"), None);
        assert_eq!(
            due_in(None, Some(&issued), now).unwrap(),
            Duration::from_secs(6 * 86_400)
        );
        // The setting wins: renew when fewer than 100 days remain = now.
        let forced = row(Some("x".into()), Some("2030-04-01T00:00:00Z"), None);
        let setting = Some(Duration::from_secs(100 * 86_400));
        assert_eq!(due_in(setting, Some(&forced), now), Some(Duration::ZERO));
    }
}

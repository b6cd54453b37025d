//! One ACME order for one host name with instant-acme: the stored account (created once),
//! the challenge put in the route table for the router to answer, the order finalized with a
//! fresh key, and the challenge taken out again whatever happened.

use super::handle::Acme;
use super::settings::ChallengeKind;
use crate::state::AppState;
use doppel_router::Certificate;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use std::time::Duration;

/// An issued certificate: chain (leaf first), its key, and when it expires (RFC 3339).
pub struct Issued {
    pub chain: String,
    pub key: String,
    pub expires_at: String,
}

/// Why an order failed, in words for `acm_status_reason`.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("the ACME CA refused or failed: {0}")]
    Acme(#[from] instant_acme::Error),
    #[error("the ACME account could not be stored or read: {0}")]
    Store(#[from] doppel_store::StoreError),
    #[error("the ACME account credentials are unreadable: {0}")]
    Credentials(#[from] serde_json::Error),
    #[error("the CA offers no http-01 or tls-alpn-01 challenge for {0}")]
    NoChallenge(String),
    #[error("validation of {host} did not succeed (order {status:?}); is its DNS pointing at this server?")]
    NotReady { host: String, status: OrderStatus },
    #[error("the TLS-ALPN-01 certificate could not be made: {0}")]
    ChallengeCert(#[from] rcgen::Error),
    #[error("the issued certificate could not be read: {0}")]
    Issued(String),
    #[error("the order took longer than {0:?}")]
    Timeout(Duration),
}

/// The whole order may take this long.
const ORDER_TIMEOUT: Duration = Duration::from_secs(180);

fn retries() -> RetryPolicy {
    RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(Duration::from_secs(90))
}

/// Orders and fetches a certificate for `host`.
pub async fn obtain(state: &AppState, host: &str) -> Result<Issued, OrderError> {
    let result = tokio::time::timeout(ORDER_TIMEOUT, run(state, host)).await;
    // Whatever happened, the router stops answering this host's challenges.
    clear(state.acme(), host);
    crate::routes::publish(state).await;
    result.map_err(|_| OrderError::Timeout(ORDER_TIMEOUT))?
}

async fn account(state: &AppState) -> Result<Account, OrderError> {
    let settings = &state.config().acme;
    let builder = || match &settings.ca_file {
        Some(path) => Account::builder_with_root(path),
        None => Account::builder(),
    };
    if let Some(json) = state.store().acme_account(&settings.directory).await? {
        let credentials: AccountCredentials = serde_json::from_str(&json)?;
        return Ok(builder()?.from_credentials(credentials).await?);
    }
    let contact = settings.email.as_ref().map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, credentials) = builder()?
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            settings.directory.clone(),
            None,
        )
        .await?;
    state
        .store()
        .save_acme_account(&settings.directory, &serde_json::to_string(&credentials)?)
        .await?;
    tracing::info!(directory = %settings.directory, "ACM: created the ACME account");
    // Another pass may have raced and stored its own first: use the stored one.
    match state.store().acme_account(&settings.directory).await? {
        Some(json) if json != serde_json::to_string(&credentials)? => {
            let stored: AccountCredentials = serde_json::from_str(&json)?;
            Ok(builder()?.from_credentials(stored).await?)
        }
        _ => Ok(account),
    }
}

async fn run(state: &AppState, host: &str) -> Result<Issued, OrderError> {
    let account = account(state).await?;
    let identifiers = [Identifier::Dns(host.to_string())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let preferred = state.config().acme.challenge;
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        let offered: Vec<ChallengeType> =
            authz.challenges.iter().map(|c| c.r#type.clone()).collect();
        let kind =
            choose(preferred, &offered).ok_or_else(|| OrderError::NoChallenge(host.into()))?;
        let wanted = match kind {
            ChallengeKind::Http01 => ChallengeType::Http01,
            ChallengeKind::TlsAlpn01 => ChallengeType::TlsAlpn01,
        };
        let mut challenge = authz
            .challenge(wanted)
            .ok_or_else(|| OrderError::NoChallenge(host.into()))?;
        let key_auth = challenge.key_authorization();
        let mut http01 = None;
        match kind {
            ChallengeKind::Http01 => {
                let token = challenge.token.clone();
                let value = key_auth.as_str().to_string();
                http01 = Some((token.clone(), value.clone()));
                state.acme().edit(|c| {
                    c.http01.insert(token, value);
                });
            }
            ChallengeKind::TlsAlpn01 => {
                let cert = alpn_certificate(host, key_auth.digest().as_ref())?;
                state.acme().edit(|c| {
                    c.tls_alpn01.retain(|x| x.id != cert.id);
                    c.tls_alpn01.push(cert);
                });
            }
        }
        crate::routes::publish(state).await;
        // The table reaches the router process over its control socket: wait until it answers.
        match &http01 {
            Some((token, value)) => router_answers(state, host, token, value).await,
            None => tokio::time::sleep(Duration::from_millis(500)).await,
        }
        tracing::info!(host, challenge = kind.as_str(), "ACM: challenge ready");
        challenge.set_ready().await?;
    }
    let status = order.poll_ready(&retries()).await?;
    if status != OrderStatus::Ready {
        return Err(OrderError::NotReady {
            host: host.to_string(),
            status,
        });
    }
    let key = order.finalize().await?;
    let chain = order.poll_certificate(&retries()).await?;
    let info =
        doppel_router::certs::inspect(&chain).map_err(|e| OrderError::Issued(e.to_string()))?;
    tracing::info!(host, issuer = %info.issuer, "ACM: certificate issued");
    Ok(Issued {
        chain,
        key,
        expires_at: doppel_store::stamp(info.not_after),
    })
}

/// Waits (at most 5 s) until the router answers HTTP-01 `token` with `value` on port 80, so
/// the CA is not told to validate before the router has the new table.
async fn router_answers(state: &AppState, host: &str, token: &str, value: &str) {
    let config = state.config();
    let ip = if config.bind_addr.is_unspecified() {
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    } else {
        config.bind_addr
    };
    let addr = std::net::SocketAddr::new(ip, config.http_port);
    let request =
        format!("GET /.well-known/acme-challenge/{token} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    for _ in 0..50 {
        if fetch(addr, &request)
            .await
            .is_some_and(|r| r.ends_with(value))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::warn!(
        host,
        "ACM: the router does not answer the HTTP-01 challenge yet; asking the CA anyway"
    );
}

/// One plain-HTTP request's raw answer (at most 64 KiB, 2 s).
async fn fetch(addr: std::net::SocketAddr, request: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut out = Vec::new();
        stream.take(64 * 1024).read_to_end(&mut out).await.ok()?;
        Some(String::from_utf8_lossy(&out).trim_end().to_string())
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .ok()?
}

/// The preferred challenge if offered, else the other one we can answer.
fn choose(preferred: ChallengeKind, offered: &[ChallengeType]) -> Option<ChallengeKind> {
    let has = |k: ChallengeKind| {
        offered.iter().any(|t| match k {
            ChallengeKind::Http01 => *t == ChallengeType::Http01,
            ChallengeKind::TlsAlpn01 => *t == ChallengeType::TlsAlpn01,
        })
    };
    let other = match preferred {
        ChallengeKind::Http01 => ChallengeKind::TlsAlpn01,
        ChallengeKind::TlsAlpn01 => ChallengeKind::Http01,
    };
    [preferred, other].into_iter().find(|k| has(*k))
}

/// The self-signed TLS-ALPN-01 certificate for `host` (RFC 8737: the `acmeIdentifier`
/// extension carries the key authorization's digest).
fn alpn_certificate(host: &str, digest: &[u8]) -> Result<Certificate, OrderError> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec![host.to_string()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key)?;
    Ok(Certificate {
        id: format!("acme-tls-alpn:{host}"),
        names: vec![host.to_string()],
        chain_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Takes `host`'s challenges out of the table's set (HTTP-01 tokens are per order: all go
/// when no order runs, which is the case since orders run one at a time).
fn clear(acme: &Acme, host: &str) {
    acme.edit(|c| {
        c.http01.clear();
        c.tls_alpn01
            .retain(|x| x.id != format!("acme-tls-alpn:{host}"));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_the_configured_challenge_and_falls_back() {
        let both = [
            ChallengeType::Dns01,
            ChallengeType::Http01,
            ChallengeType::TlsAlpn01,
        ];
        assert_eq!(
            choose(ChallengeKind::Http01, &both),
            Some(ChallengeKind::Http01)
        );
        assert_eq!(
            choose(ChallengeKind::TlsAlpn01, &both),
            Some(ChallengeKind::TlsAlpn01)
        );
        let alpn = [ChallengeType::TlsAlpn01];
        assert_eq!(
            choose(ChallengeKind::Http01, &alpn),
            Some(ChallengeKind::TlsAlpn01)
        );
        assert_eq!(choose(ChallengeKind::Http01, &[ChallengeType::Dns01]), None);
    }
}

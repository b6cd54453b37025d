//! ACM's task on the shared fake, without a CA: which domains it wants (ACM environments
//! only, not those an upload covers, not the staging twin), and a failing order (the CA is
//! unreachable) recorded with its reason and a back-off that keeps the next pass from retrying
//! at once; the router's challenges are empty afterwards.

mod common;

use common::api_with;
use doppel_control::acme::schedule;
use doppel_control::logic::{acm, apps, certs, domains};

#[tokio::test]
async fn wants_acm_domains_and_backs_off_after_a_failure() -> anyhow::Result<()> {
    // A directory nothing listens on: every order fails fast.
    let api = api_with(|c| c.acme.directory = "https://127.0.0.1:9/dir".to_string()).await?;
    let (state, admin) = (&api.state, &api.admin);
    apps::create(state, admin, Some("shop")).await?;
    domains::add(state, admin, "shop", "www.shop.test").await?;
    domains::add(state, admin, "shop", "api.shop.test").await?;
    domains::add(state, admin, "shop-staging", "staging.shop.test").await?;
    assert!(schedule::wanted(state).await?.is_empty(), "ACM is off");

    acm::set(state, admin, "shop", true).await?;
    let key = rcgen::KeyPair::generate()?;
    let cert =
        rcgen::CertificateParams::new(vec!["api.shop.test".to_string()])?.self_signed(&key)?;
    certs::add(state, admin, "shop", &cert.pem(), &key.serialize_pem()).await?;
    let wanted: Vec<String> = schedule::wanted(state)
        .await?
        .into_iter()
        .map(|d| d.hostname)
        .collect();
    assert_eq!(wanted, ["www.shop.test"]);

    // The order fails: recorded with the reason, retried only after the back-off.
    let next = schedule::pass(state).await;
    let rows = state.store().acme_certs().await?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].hostname, "www.shop.test");
    assert_eq!(rows[0].status, schedule::FAILING);
    assert_eq!(rows[0].attempts, 1);
    assert!(rows[0].reason.as_deref().is_some_and(|r| !r.is_empty()));
    assert!(rows[0].next_attempt_at.is_some());
    let wait = next.ok_or_else(|| anyhow::anyhow!("no retry scheduled"))?;
    assert!(wait.as_secs() > 0 && wait.as_secs() <= 60, "{wait:?}");
    // A second pass right away orders nothing (still one attempt).
    schedule::pass(state).await;
    assert_eq!(state.store().acme_certs().await?[0].attempts, 1);
    let challenges = state.acme().challenges();
    assert!(challenges.http01.is_empty() && challenges.tls_alpn01.is_empty());

    // The domain shows it.
    let (_, shown) = domains::show(state, admin, "shop", "www.shop.test").await?;
    assert_eq!(shown.acm_status.as_deref(), Some(schedule::FAILING));
    assert!(shown.acm_status_reason.is_some());

    // Off: nothing wanted, the rows are gone.
    acm::set(state, admin, "shop", false).await?;
    assert!(schedule::wanted(state).await?.is_empty());
    assert!(state.store().acme_certs().await?.is_empty());
    Ok(())
}

//! `--platform-certs acme` on the shared fake, without a CA: the platform names the ACM task
//! wants (platform host, dashboard, every environment's name; nothing with `ca`), a failing
//! order recorded with its reason and back-off like a custom domain's (one pass handles both
//! kinds), a destroyed environment's row forgotten, issued certificates put in the route
//! table only while wanted and only with `acme`, and the admin-only status listing.

mod common;

use common::{api_on, api_with};
use doppel_control::acme::{schedule, PlatformCerts};
use doppel_control::logic::{acm, apps, domains, platform_certs, Actor, LogicError};
use doppel_store::AcmeTarget;

const DOMAIN: &str = "paas.example.com";

/// A directory nothing listens on: every order fails fast.
async fn api(source: PlatformCerts) -> anyhow::Result<common::Api> {
    api_with(|c| {
        c.domain = DOMAIN.to_string();
        c.acme.directory = "https://127.0.0.1:9/dir".to_string();
        c.acme.platform = source;
    })
    .await
}

fn names(targets: &[schedule::Target], kind: &AcmeTarget) -> Vec<String> {
    targets
        .iter()
        .filter(|t| &t.kind == kind)
        .map(|t| t.hostname.clone())
        .collect()
}

#[tokio::test]
async fn wants_every_platform_name_and_backs_off_like_a_custom_domain() -> anyhow::Result<()> {
    let api = api(PlatformCerts::Acme).await?;
    let (state, admin) = (&api.state, &api.admin);
    apps::create(state, admin, Some("shop")).await?;
    let wanted = schedule::wanted(state).await?;
    assert_eq!(
        names(&wanted, &AcmeTarget::Platform),
        [
            "dashboard.paas.example.com",
            "paas.example.com",
            "shop-staging.paas.example.com",
            "shop.paas.example.com"
        ]
    );
    // A custom domain with ACM on rides in the same pass.
    domains::add(state, admin, "shop", "www.shop.test").await?;
    acm::set(state, admin, "shop", true).await?;

    let next = schedule::pass(state).await;
    let rows = state.store().platform_certs().await?;
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row.status, schedule::FAILING, "{row:?}");
        assert_eq!(row.attempts, 1);
        assert!(row.reason.as_deref().is_some_and(|r| !r.is_empty()));
        assert!(row.next_attempt_at.is_some());
    }
    assert_eq!(state.store().acme_certs().await?.len(), 1);
    let wait = next.ok_or_else(|| anyhow::anyhow!("no retry scheduled"))?;
    assert!(wait.as_secs() > 0 && wait.as_secs() <= 60, "{wait:?}");
    // Backed off: a pass right away orders nothing, also after a restart.
    schedule::pass(&api_on(&api).await?).await;
    assert!(state
        .store()
        .platform_certs()
        .await?
        .iter()
        .all(|r| r.attempts == 1));

    // The admin sees each name failing with its reason; a member may not look.
    let (source, shown) = platform_certs::list(state, admin).await?;
    assert_eq!(source, PlatformCerts::Acme);
    assert_eq!(shown.len(), 4);
    assert!(shown
        .iter()
        .all(|n| n.status == schedule::FAILING && n.reason.is_some()));
    let member = Actor::api(state.store().create_user("dev@example.com", false).await?);
    assert!(matches!(
        platform_certs::list(state, &member).await,
        Err(LogicError::Forbidden(_))
    ));

    // The app destroyed: its names are no longer wanted and their rows go.
    apps::destroy(state, admin, "shop").await?;
    schedule::pass(state).await;
    let left: Vec<String> = state
        .store()
        .platform_certs()
        .await?
        .into_iter()
        .map(|r| r.hostname)
        .collect();
    assert_eq!(left, ["dashboard.paas.example.com", "paas.example.com"]);
    Ok(())
}

#[tokio::test]
async fn issued_certificates_serve_only_wanted_names_and_only_with_acme() -> anyhow::Result<()> {
    let api = api(PlatformCerts::Acme).await?;
    let (state, admin) = (&api.state, &api.admin);
    apps::create(state, admin, Some("shop")).await?;
    let store = state.store();
    for host in [
        "paas.example.com",
        "shop.paas.example.com",
        "gone.paas.example.com",
    ] {
        let key = rcgen::KeyPair::generate()?;
        let cert = rcgen::CertificateParams::new(vec![host.to_string()])?.self_signed(&key)?;
        store
            .store_acme_cert(
                &AcmeTarget::Platform,
                host,
                &cert.pem(),
                &key.serialize_pem(),
                "2031-01-01T00:00:00Z",
            )
            .await?;
    }
    doppel_control::routes::publish(state).await;
    let mut served: Vec<String> = state
        .routes()
        .load()
        .certs
        .iter()
        .flat_map(|c| c.names.clone())
        .collect();
    served.sort();
    // `gone` is no environment's name: not served (its row goes on the next pass).
    assert_eq!(served, ["paas.example.com", "shop.paas.example.com"]);
    let (_, shown) = platform_certs::list(state, admin).await?;
    let issued: Vec<&str> = shown
        .iter()
        .filter(|n| n.status == schedule::ISSUED)
        .map(|n| n.hostname.as_str())
        .collect();
    assert_eq!(issued, ["paas.example.com", "shop.paas.example.com"]);
    assert!(shown
        .iter()
        .filter(|n| n.status == schedule::ISSUED)
        .all(|n| n.expires_at.as_deref() == Some("2031-01-01T00:00:00Z")));

    // The same store with `--platform-certs ca`: nothing wanted, nothing served, rows kept.
    let mut config = state.config().clone();
    config.acme.platform = PlatformCerts::Ca;
    let ca_state = doppel_control::state::AppState::new(
        store.clone(),
        api.fake.clone(),
        doppel_router::RouteTable::new().into_shared(),
        config,
        "testinstance".into(),
    );
    assert!(schedule::wanted(&ca_state).await?.is_empty());
    schedule::pass(&ca_state).await;
    assert_eq!(store.platform_certs().await?.len(), 3);
    doppel_control::routes::publish(&ca_state).await;
    assert!(ca_state.routes().load().certs.is_empty());
    let (source, shown) = platform_certs::list(&ca_state, admin).await?;
    assert_eq!(source, PlatformCerts::Ca);
    assert!(shown
        .iter()
        .all(|n| n.status == platform_certs::PLATFORM_CA));
    Ok(())
}

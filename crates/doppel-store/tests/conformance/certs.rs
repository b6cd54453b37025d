//! Conformance bodies for certificates: SNI endpoints (keys sealed at rest), ACM switches,
//! the ACME account, per-domain ACME certificates and the platform names' ones (instantiated for both backends by
//! `conformance!` in `../conformance.rs`).

use super::{app_with_envs, Db};
use doppel_store::{AcmeAttempt, AcmeTarget, StoreError};
use sqlx::Row;
use std::sync::Arc;

const KEY_PEM: &str =
    "-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n";

/// Stores an issued certificate (with the test key) for `hostname`.
async fn issue(
    store: &doppel_store::Store,
    target: &AcmeTarget,
    hostname: &str,
    chain: &str,
    expires_at: &str,
) {
    store
        .store_acme_cert(target, hostname, chain, KEY_PEM, expires_at)
        .await
        .unwrap();
}

pub async fn sni_endpoints_round_trip_with_sealed_keys(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "certs").await;
    let a = store
        .create_sni_endpoint(&production, "CHAIN-A", KEY_PEM)
        .await
        .unwrap();
    assert!(a.name.starts_with("sni-"));
    assert!(!format!("{a:?}").contains("secret"));
    let listed = store.sni_endpoints(&production).await.unwrap();
    assert_eq!(listed, vec![a.clone()]);
    assert!(store.sni_endpoints(&staging).await.unwrap().is_empty());
    assert_eq!(store.all_sni_endpoints().await.unwrap().len(), 1);
    // The key is sealed in the row, not stored as given.
    let mut raw = db.raw().await;
    let row = sqlx::query("SELECT private_key FROM sni_endpoints WHERE id = $1")
        .bind(&a.id)
        .fetch_one(&mut raw)
        .await
        .unwrap();
    let stored: String = row.get(0);
    assert!(!stored.contains("secret"));
    assert!(!stored.contains(&hex::encode("secret")));
    // Another master key cannot read it.
    let other = db.store_with_key([9; 32]).await;
    assert!(other.sni_endpoints(&production).await.is_err());
    // Updates need the right environment.
    assert!(matches!(
        store
            .update_sni_endpoint(&staging, &a.id, "CHAIN-B", KEY_PEM)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    let b = store
        .update_sni_endpoint(&production, &a.id, "CHAIN-B", KEY_PEM)
        .await
        .unwrap();
    assert_eq!(b.certificate_chain, "CHAIN-B");
    assert_eq!(b.private_key, KEY_PEM);
    assert!(matches!(
        store
            .create_sni_endpoint("no-such-env", "C", KEY_PEM)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    assert!(!store.remove_sni_endpoint(&staging, &a.id).await.unwrap());
    assert!(store.remove_sni_endpoint(&production, &a.id).await.unwrap());
    assert!(store.sni_endpoints(&production).await.unwrap().is_empty());
}

pub async fn acme_state_survives_and_follows_acm(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "acme").await;
    let domain = store
        .add_domain(&production, "www.example.com", 10)
        .await
        .unwrap();
    assert!(!store.acm_enabled(&production).await.unwrap());
    store.set_acm(&production, true).await.unwrap();
    store.set_acm(&production, true).await.unwrap();
    assert!(store.acm_enabled(&production).await.unwrap());
    assert!(!store.acm_enabled(&staging).await.unwrap());
    assert_eq!(
        store.acm_environments().await.unwrap(),
        vec![production.clone()]
    );
    assert!(matches!(
        store.set_acm("no-such-env", true).await.unwrap_err(),
        StoreError::NotFound(_)
    ));

    // The account: the first one stays; sealed.
    assert_eq!(store.acme_account("https://ca/dir").await.unwrap(), None);
    store
        .save_acme_account("https://ca/dir", "{\"id\":\"secret-1\"}")
        .await
        .unwrap();
    store
        .save_acme_account("https://ca/dir", "{\"id\":\"two\"}")
        .await
        .unwrap();
    assert_eq!(
        store
            .acme_account("https://ca/dir")
            .await
            .unwrap()
            .as_deref(),
        Some("{\"id\":\"secret-1\"}")
    );

    // An attempt, then a certificate, then a failing renewal that keeps the certificate.
    let target = AcmeTarget::Domain(domain.id.clone());
    let failing = AcmeAttempt {
        status: "failing".into(),
        reason: Some("connection refused".into()),
        attempts: 1,
        next_attempt_at: Some("2030-01-01T00:00:00Z".into()),
    };
    store
        .set_acme_attempt(&target, &domain.hostname, &failing)
        .await
        .unwrap();
    let rows = store.acme_certs().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "failing");
    assert_eq!(rows[0].attempts, 1);
    assert_eq!(rows[0].private_key, None);
    issue(
        &store,
        &target,
        &domain.hostname,
        "CHAIN",
        "2031-01-01T00:00:00Z",
    )
    .await;
    store
        .set_acme_attempt(&target, &domain.hostname, &failing)
        .await
        .unwrap();
    let reopened = db.store().await;
    let rows = reopened.acme_certs().await.unwrap();
    assert_eq!(rows[0].status, "failing");
    assert_eq!(rows[0].certificate_chain.as_deref(), Some("CHAIN"));
    assert_eq!(rows[0].private_key.as_deref(), Some(KEY_PEM));
    assert_eq!(rows[0].expires_at.as_deref(), Some("2031-01-01T00:00:00Z"));
    assert!(!format!("{:?}", rows[0]).contains("secret"));
    issue(
        &store,
        &target,
        &domain.hostname,
        "CHAIN2",
        "2032-01-01T00:00:00Z",
    )
    .await;
    let rows = store.acme_certs().await.unwrap();
    assert_eq!(
        (rows[0].status.as_str(), rows[0].attempts),
        ("cert issued", 0)
    );
    assert_eq!(rows[0].next_attempt_at, None);
    assert!(matches!(
        store
            .set_acme_attempt(&AcmeTarget::Domain("no-such-domain".into()), "x", &failing)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));

    // ACM off forgets the environment's certificates; removing a domain forgets its own.
    store.set_acm(&production, false).await.unwrap();
    assert!(store.acme_certs().await.unwrap().is_empty());
    issue(
        &store,
        &target,
        &domain.hostname,
        "C",
        "2032-01-01T00:00:00Z",
    )
    .await;
    assert!(store.remove_domain(&production, &domain.id).await.unwrap());
    assert!(store.acme_certs().await.unwrap().is_empty());
}

pub async fn platform_certs_are_kept_by_host_name_with_sealed_keys(db: Arc<Db>) {
    let store = db.store().await;
    let target = AcmeTarget::Platform;
    let failing = AcmeAttempt {
        status: "failing".into(),
        reason: Some("DNS points elsewhere".into()),
        attempts: 2,
        next_attempt_at: Some("2030-01-01T00:00:00Z".into()),
    };
    store
        .set_acme_attempt(&target, "shop.example.com", &failing)
        .await
        .unwrap();
    issue(
        &store,
        &target,
        "example.com",
        "CHAIN",
        "2031-01-01T00:00:00Z",
    )
    .await;
    // A failing renewal keeps the issued certificate.
    store
        .set_acme_attempt(&target, "example.com", &failing)
        .await
        .unwrap();
    let reopened = db.store().await;
    let rows = reopened.platform_certs().await.unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.hostname.as_str()).collect();
    assert_eq!(names, ["example.com", "shop.example.com"]);
    assert_eq!(rows[0].target, AcmeTarget::Platform);
    assert_eq!(rows[0].status, "failing");
    assert_eq!(rows[0].attempts, 2);
    assert_eq!(rows[0].certificate_chain.as_deref(), Some("CHAIN"));
    assert_eq!(rows[0].private_key.as_deref(), Some(KEY_PEM));
    assert_eq!(rows[0].expires_at.as_deref(), Some("2031-01-01T00:00:00Z"));
    assert_eq!(rows[1].private_key, None);
    assert!(!format!("{:?}", rows[0]).contains("secret"));
    // Custom domains' rows are another table.
    assert!(store.acme_certs().await.unwrap().is_empty());
    // The key is sealed in the row, bound to its host name; another master key cannot read it.
    let mut raw = db.raw().await;
    let row = sqlx::query("SELECT private_key FROM platform_certs WHERE hostname = $1")
        .bind("example.com")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    let stored: String = row.get(0);
    assert!(!stored.contains("secret") && !stored.contains(&hex::encode("secret")));
    assert!(db
        .store_with_key([9; 32])
        .await
        .platform_certs()
        .await
        .is_err());
    // A new certificate resets the failure count.
    issue(
        &store,
        &target,
        "example.com",
        "CHAIN2",
        "2032-01-01T00:00:00Z",
    )
    .await;
    let rows = store.platform_certs().await.unwrap();
    assert_eq!(
        (
            rows[0].status.as_str(),
            rows[0].attempts,
            rows[0].next_attempt_at.as_deref()
        ),
        ("cert issued", 0, None)
    );
    assert_eq!(rows[0].certificate_chain.as_deref(), Some("CHAIN2"));
    // A name no longer wanted is removed; removing it again finds nothing.
    assert!(store
        .remove_platform_cert("shop.example.com")
        .await
        .unwrap());
    assert!(!store
        .remove_platform_cert("shop.example.com")
        .await
        .unwrap());
    let names: Vec<String> = store
        .platform_certs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.hostname)
        .collect();
    assert_eq!(names, ["example.com"]);
}

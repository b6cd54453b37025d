//! Conformance bodies for environments' IP allow-lists (instantiated for both backends by
//! `conformance!` in `../conformance.rs`).

use super::{app_with_envs, Db};
use doppel_store::StoreError;
use std::sync::Arc;

pub async fn allowed_ips_are_per_environment_and_go_with_the_app(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "fenced").await;
    let (_, other_staging, _) = app_with_envs(&store, "open").await;
    assert!(store.allowed_ips(&staging).await.unwrap().is_empty());
    assert!(store.all_allowed_ips().await.unwrap().is_empty());

    let office = vec!["10.1.0.0/16".to_string(), "192.0.2.7/32".to_string()];
    store.set_allowed_ips(&staging, &office).await.unwrap();
    assert_eq!(store.allowed_ips(&staging).await.unwrap(), office);
    assert!(store.allowed_ips(&production).await.unwrap().is_empty());
    // Replacing keeps one row, in the order given.
    let vpn = vec!["2001:db8::/32".to_string()];
    store.set_allowed_ips(&staging, &vpn).await.unwrap();
    store
        .set_allowed_ips(&other_staging, &office)
        .await
        .unwrap();
    let all = store.all_allowed_ips().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[&staging], vpn);
    assert_eq!(all[&other_staging], office);

    // An unknown environment changes nothing; an empty list removes the row.
    assert!(matches!(
        store.set_allowed_ips("no-such-env", &office).await,
        Err(StoreError::NotFound(_))
    ));
    store.set_allowed_ips(&other_staging, &[]).await.unwrap();
    assert!(store.allowed_ips(&other_staging).await.unwrap().is_empty());

    // Deleting the app removes its lists.
    store.delete_app(&app.id).await.unwrap();
    assert!(store.all_allowed_ips().await.unwrap().is_empty());
}

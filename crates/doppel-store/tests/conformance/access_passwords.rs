//! Conformance bodies for private environments' access passwords (instantiated for both
//! backends by `conformance!` in `../conformance.rs`).

use super::{app_with_envs, Db};
use doppel_store::StoreError;
use doppel_types::token_digest;
use sqlx::Row;
use std::sync::Arc;

pub async fn access_passwords_keep_only_a_digest(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "guarded").await;
    let (_, other_staging, _) = app_with_envs(&store, "other").await;
    assert!(store.access_password(&staging).await.unwrap().is_none());
    assert!(store.access_password_digests().await.unwrap().is_empty());

    let set = store
        .set_access_password(&staging, "first secret passphrase", Some("u1"))
        .await
        .unwrap();
    assert_eq!(set.env_id, staging);
    assert_eq!(set.set_by.as_deref(), Some("u1"));
    let shown = store.access_password(&staging).await.unwrap().unwrap();
    assert_eq!(shown, set);
    assert!(store.access_password(&production).await.unwrap().is_none());
    let digests = store.access_password_digests().await.unwrap();
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[&staging], token_digest("first secret passphrase"));

    // At rest: the digest, never the password.
    let mut conn = db.raw().await;
    let rows = sqlx::query("SELECT digest FROM env_access_passwords")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].get("digest");
    assert!(!stored.contains("first secret passphrase"));

    // Rotating replaces the one row.
    store
        .set_access_password(&staging, "second secret passphrase", None)
        .await
        .unwrap();
    let digests = store.access_password_digests().await.unwrap();
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[&staging], token_digest("second secret passphrase"));
    assert_eq!(
        store
            .access_password(&staging)
            .await
            .unwrap()
            .unwrap()
            .set_by,
        None
    );

    // Bad input changes nothing.
    assert!(matches!(
        store.set_access_password(&staging, "", None).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .set_access_password("no-such-env", "whatever secret", None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.access_password_digests().await.unwrap().len(), 1);

    // Per environment; removing says whether there was one; deleting the app removes it.
    store
        .set_access_password(&other_staging, "third secret passphrase", None)
        .await
        .unwrap();
    assert!(store.remove_access_password(&staging).await.unwrap());
    assert!(!store.remove_access_password(&staging).await.unwrap());
    assert!(store.access_password(&staging).await.unwrap().is_none());
    store
        .set_access_password(&staging, "fourth secret passphrase", None)
        .await
        .unwrap();
    store.delete_app(&app.id).await.unwrap();
    let digests = store.access_password_digests().await.unwrap();
    assert_eq!(digests.keys().collect::<Vec<_>>(), vec![&other_staging]);
}

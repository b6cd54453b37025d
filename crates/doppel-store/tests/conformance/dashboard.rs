//! Conformance bodies for the dashboard's sign-in: passwords and sessions (instantiated for
//! both backends by `conformance!` in `../conformance.rs`).

use super::{admin, Db};
use doppel_store::{StoreError, MAX_PASSWORD_BYTES};
use doppel_types::token_digest;
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

pub async fn passwords_are_hashed_and_checked(db: Arc<Db>) {
    let store = db.store().await;
    let (user, _) = admin(&store).await;
    let member = store.create_user("dev@example.com", false).await.unwrap();
    assert!(!store.has_password(&user.id).await.unwrap());
    // No password yet: nothing signs in, not even an empty one.
    assert!(store
        .check_password(&user.email, "anything")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .check_password(&user.email, "")
        .await
        .unwrap()
        .is_none());

    store
        .set_password(&user.id, "correct horse battery")
        .await
        .unwrap();
    assert!(store.has_password(&user.id).await.unwrap());
    assert!(!store.has_password(&member.id).await.unwrap());
    let who = store
        .check_password(&user.email, "correct horse battery")
        .await
        .unwrap();
    assert_eq!(who.map(|u| u.id), Some(user.id.clone()));
    for (email, password) in [
        (user.email.as_str(), "correct horse batter"),
        (user.email.as_str(), "Correct horse battery"),
        ("nobody@example.com", "correct horse battery"),
        (member.email.as_str(), "correct horse battery"),
        // A user id is not an email: sign-in names people by email only.
        (user.id.as_str(), "correct horse battery"),
    ] {
        assert!(
            store
                .check_password(email, password)
                .await
                .unwrap()
                .is_none(),
            "{email} / {password}"
        );
    }

    // Stored as an Argon2id PHC string with its own salt, never the password.
    store
        .set_password(&member.id, "correct horse battery")
        .await
        .unwrap();
    let mut raw = db.raw().await;
    let hashes: Vec<String> = sqlx::query("SELECT hash FROM user_passwords ORDER BY user_id")
        .fetch_all(&mut raw)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("hash"))
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$v=19$")));
    assert!(hashes.iter().all(|h| !h.contains("horse")));
    assert_ne!(hashes[0], hashes[1], "each hash has its own salt");

    // A new password replaces the old one.
    store
        .set_password(&user.id, "new and better")
        .await
        .unwrap();
    assert!(store
        .check_password(&user.email, "correct horse battery")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .check_password(&user.email, "new and better")
        .await
        .unwrap()
        .is_some());

    let too_long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    for bad in ["", too_long.as_str()] {
        let err = store.set_password(&user.id, bad).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
    let err = store
        .set_password("no-such-user", "whatever1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

pub async fn sessions_expire_end_and_follow_passwords(db: Arc<Db>) {
    let store = db.store().await;
    let (user, _) = admin(&store).await;
    let hour = Duration::from_secs(3600);
    let (secret, session) = store
        .create_session(&user.id, hour, Some("127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(secret.len(), 64);
    assert_eq!(session.digest, token_digest(&secret));
    assert!(session.expires_at > session.created_at);
    let (found, who) = store.session(&secret).await.unwrap().unwrap();
    assert_eq!(
        (found, who.id.as_str()),
        (session.clone(), user.id.as_str())
    );
    assert!(store.session("not-a-secret").await.unwrap().is_none());

    // Only the digest is stored.
    let mut raw = db.raw().await;
    let digests: Vec<String> = sqlx::query("SELECT digest FROM dashboard_sessions")
        .fetch_all(&mut raw)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("digest"))
        .collect();
    assert_eq!(digests, [token_digest(&secret)]);

    // Ending it on the server: the secret no longer works, and ending twice says so.
    assert!(store.end_session(&secret).await.unwrap());
    assert!(store.session(&secret).await.unwrap().is_none());
    assert!(!store.end_session(&secret).await.unwrap());

    // An expired session is refused, then swept.
    let (expired, _) = store
        .create_session(&user.id, Duration::ZERO, None)
        .await
        .unwrap();
    assert!(store.session(&expired).await.unwrap().is_none());
    let (live, _) = store.create_session(&user.id, hour, None).await.unwrap();
    assert_eq!(store.delete_expired_sessions().await.unwrap(), 1);
    assert!(store.session(&live).await.unwrap().is_some());

    // A new password ends every session of its user; others' stay.
    let member = store.create_user("dev@example.com", false).await.unwrap();
    let (theirs, _) = store.create_session(&member.id, hour, None).await.unwrap();
    store
        .set_password(&user.id, "a new password")
        .await
        .unwrap();
    assert!(store.session(&live).await.unwrap().is_none());
    assert!(store.session(&theirs).await.unwrap().is_some());
    assert_eq!(store.end_sessions_of(&member.id).await.unwrap(), 1);
    assert!(store.session(&theirs).await.unwrap().is_none());

    let err = store
        .create_session("no-such-user", hour, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

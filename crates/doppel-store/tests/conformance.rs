//! The store's conformance suite: every test body is written once and instantiated for SQLite
//! (a temp file, always) and PostgreSQL (a fresh database per test, when
//! `DOPPEL_TEST_DATABASE_URL` names a superuser URL; skipped with a notice otherwise).

#![allow(clippy::unwrap_used)]

use doppel_store::{
    BuildOutcome, BuildStatus, FormationChange, NewPromotion, NewRelease, PromotionStatus,
    QuantityChange, ReleaseStatus, Store, StoreError, INTERRUPTED_REASON,
};
use doppel_types::{token_digest, AppName, ImageKind, ProcessTypes, Stage};
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;

const KEY: [u8; 32] = [42; 32];

/// One database for one test, on one backend.
struct Db {
    url: String,
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the superuser URL and the database to drop afterwards.
    pg: Option<(String, String)>,
}

fn install_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// Replaces the database name in a postgres URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Db {
    async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doppel.db");
        Db {
            url: format!("sqlite://{}", path.display()),
            _dir: Some(dir),
            pg: None,
        }
    }

    async fn postgres() -> Option<Db> {
        let admin = std::env::var("DOPPEL_TEST_DATABASE_URL").ok()?;
        install_drivers();
        let name = format!("doppel_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::Connection::close(conn).await.unwrap();
        Some(Db {
            url: with_database(&admin, &name),
            _dir: None,
            pg: Some((admin, name)),
        })
    }

    async fn store(&self) -> Store {
        Store::open(&self.url, KEY).await.unwrap()
    }

    async fn store_with_key(&self, key: [u8; 32]) -> Store {
        Store::open(&self.url, key).await.unwrap()
    }

    /// A raw connection to the same database, for looking under the store.
    async fn raw(&self) -> sqlx::AnyConnection {
        install_drivers();
        <sqlx::AnyConnection as sqlx::Connection>::connect(&self.url)
            .await
            .unwrap()
    }

    async fn cleanup(&self) {
        if let Some((admin, name)) = &self.pg {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
}

/// Runs a test body against `db`, dropping the database afterwards even if the body panics.
async fn run<F, Fut>(db: Db, body: F)
where
    F: FnOnce(Arc<Db>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let db = Arc::new(db);
    let result = tokio::spawn(body(db.clone())).await;
    db.cleanup().await;
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Db::sqlite().await, super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::Db::postgres().await {
                        Some(db) => super::run(db, super::$name).await,
                        None => eprintln!(
                            "skipping postgres::{}: DOPPEL_TEST_DATABASE_URL is not set",
                            stringify!($name)
                        ),
                    }
                }
            )*
        }
    };
}

conformance!(
    opens_twice_and_reports_backend,
    create_app_makes_both_environments,
    duplicate_app_name_is_taken,
    environment_name_collisions_are_taken,
    tokens_authenticate_by_digest,
    ensure_admin_only_once,
    config_vars_round_trip_and_delete,
    config_values_are_encrypted_at_rest,
    config_rejects_bad_keys_and_unknown_envs,
    release_versions_increase,
    concurrent_releases_get_distinct_versions,
    release_config_is_a_snapshot,
    a_release_config_applies_only_when_it_succeeds,
    collaborators_cover_one_or_both_environments,
    tokens_list_and_revoke_by_id,
    audit_events_filter_by_environment_and_user,
    current_release_ignores_failed,
    interrupted_releases_fail,
    builds_finish_and_interrupted_builds_fail,
    formation_ensure_keeps_existing,
    formation_changes_apply_all_or_none,
    capabilities_outlive_a_reopen,
    delete_app_cascades,
    promotions_get_one_release_and_never_interleave,
    direct_pushes_to_production_are_off_until_allowed,
    parity_marks_need_a_reason_and_replace_each_other,
    environment_settings_round_trip,
    existing_environments_build_on_debian_12,
    domains_are_unique_and_bounded,
    access_narrows_to_one_environment,
    passwords_are_hashed_and_checked,
    sessions_expire_end_and_follow_passwords,
    addons_round_trip_with_sealed_credentials,
    attachments_are_unique_per_environment,
    backups_are_numbered_per_environment_and_kind,
    delete_app_removes_addon_rows,
    rollouts_record_steps_and_recovery_unwinds_uncommitted,
    log_drains_are_unique_per_environment_and_encrypted,
    snapshots_restore_into_an_empty_database_only,
    rebuilt_images_replace_the_old_id_everywhere,
    sni_endpoints_round_trip_with_sealed_keys,
    acme_state_survives_and_follows_acm,
    the_schema_records_the_doppel_that_first_opened_it,
    a_store_a_newer_doppel_migrated_is_refused_unchanged,
    a_newer_store_without_a_recorded_version_is_refused_too,
    access_passwords_keep_only_a_digest,
    allowed_ips_are_per_environment_and_go_with_the_app,
    platform_certs_are_kept_by_host_name_with_sealed_keys,
);

#[path = "conformance/access_passwords.rs"]
mod access_passwords;
use access_passwords::access_passwords_keep_only_a_digest;

#[path = "conformance/allowed_ips.rs"]
mod allowed_ips;
use allowed_ips::allowed_ips_are_per_environment_and_go_with_the_app;

#[path = "conformance/dashboard.rs"]
mod dashboard;
use dashboard::{passwords_are_hashed_and_checked, sessions_expire_end_and_follow_passwords};
#[path = "conformance/schema_guard.rs"]
mod schema_guard;
use schema_guard::{
    a_newer_store_without_a_recorded_version_is_refused_too,
    a_store_a_newer_doppel_migrated_is_refused_unchanged,
    the_schema_records_the_doppel_that_first_opened_it,
};

#[path = "conformance/certs.rs"]
mod certs;
use certs::{
    acme_state_survives_and_follows_acm, platform_certs_are_kept_by_host_name_with_sealed_keys,
    sni_endpoints_round_trip_with_sealed_keys,
};

// ---------------------------------------------------------------------------------------
// helpers

async fn admin(store: &Store) -> (doppel_store::User, String) {
    store
        .ensure_admin("admin@example.com")
        .await
        .unwrap()
        .unwrap()
}

async fn app_with_envs(store: &Store, name: &str) -> (doppel_store::App, String, String) {
    let (user, _) = match store.ensure_admin("admin@example.com").await.unwrap() {
        Some(x) => x,
        None => (
            store.user("admin@example.com").await.unwrap().unwrap(),
            String::new(),
        ),
    };
    let app = store
        .create_app(&AppName::parse(name).unwrap(), &user.id, "debian-testing")
        .await
        .unwrap();
    let staging = app.environments[0].id.clone();
    let production = app.environments[1].id.clone();
    (app, staging, production)
}

fn web_types() -> ProcessTypes {
    let mut t = ProcessTypes::new();
    t.insert("web".into(), "python app.py".into());
    t
}

fn new_release(env_id: &str, status: ReleaseStatus) -> NewRelease {
    NewRelease {
        env_id: env_id.to_string(),
        build_id: None,
        image_id: "sha256:abc".into(),
        image_kind: ImageKind::Buildpack,
        process_types: web_types(),
        description: "Deploy abc".into(),
        user_id: None,
        status,
        config: None,
    }
}

fn set(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// test bodies

async fn opens_twice_and_reports_backend(db: Arc<Db>) {
    let store = db.store().await;
    let expected = if db.pg.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(store.backend(), expected);
    // Migrations are idempotent across opens.
    let again = db.store().await;
    assert_eq!(again.backend(), expected);
    assert!(format!("{store:?}").contains(expected));
    if db.pg.is_none() {
        // WAL is persistent in the file; a plain path opens the same database.
        let mut raw = db.raw().await;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut raw)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let (user, _) = admin(&store).await;
        let plain = db.url.trim_start_matches("sqlite://").to_string();
        let by_path = Store::open(&plain, KEY).await.unwrap();
        assert_eq!(by_path.user(&user.id).await.unwrap(), Some(user));
    }
}

async fn create_app_makes_both_environments(db: Arc<Db>) {
    let store = db.store().await;
    let (app, _, _) = app_with_envs(&store, "myapp").await;
    assert_eq!(app.name, "myapp");
    assert_eq!(app.environments.len(), 2);
    let (s, p) = (&app.environments[0], &app.environments[1]);
    assert_eq!(
        (s.name.as_str(), s.stage, s.private),
        ("myapp-staging", Stage::Staging, true)
    );
    assert_eq!(
        (p.name.as_str(), p.stage, p.private),
        ("myapp", Stage::Production, false)
    );
    assert_eq!(s.app_name, "myapp");
    assert_eq!(s.created_at.len(), "2026-01-01T12:00:00Z".len());
    assert!(s.created_at.ends_with('Z'));

    let by_name = store.app("myapp").await.unwrap().unwrap();
    assert_eq!(by_name, app);
    let by_id = store.app(&app.id).await.unwrap().unwrap();
    assert_eq!(by_id, app);
    assert!(store.app("nope").await.unwrap().is_none());

    let env = store.environment("myapp-staging").await.unwrap().unwrap();
    assert_eq!(&env, s);
    assert_eq!(store.environment(&p.id).await.unwrap().as_ref(), Some(p));

    app_with_envs(&store, "another").await;
    let apps = store.list_apps().await.unwrap();
    assert_eq!(
        apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["another", "myapp"]
    );
    assert!(apps
        .iter()
        .all(|a| a.environments.len() == 2 && a.environments[0].stage == Stage::Staging));
    let envs = store.list_environments().await.unwrap();
    assert_eq!(
        envs.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["another-staging", "another", "myapp-staging", "myapp"]
    );
}

async fn duplicate_app_name_is_taken(db: Arc<Db>) {
    let store = db.store().await;
    let (app, _, _) = app_with_envs(&store, "dup").await;
    let err = store
        .create_app(
            &AppName::parse("dup").unwrap(),
            &app.owner_id,
            "debian-testing",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NameTaken(_)), "{err:?}");
    assert!(err.to_string().contains("Name is already taken"), "{err}");
    assert_eq!(store.list_apps().await.unwrap().len(), 1);
    assert_eq!(store.list_environments().await.unwrap().len(), 2);
}

async fn environment_name_collisions_are_taken(db: Arc<Db>) {
    let store = db.store().await;
    let (app, _, _) = app_with_envs(&store, "base").await;
    // Environments can be renamed (Heroku allows renaming apps), so an environment's name
    // need not match its app's: simulate renamed environments under the store.
    let mut raw = db.raw().await;
    sqlx::query("UPDATE environments SET name = $1 WHERE app_id = $2 AND stage = $3")
        .bind("foo")
        .bind(&app.id)
        .bind("production")
        .execute(&mut raw)
        .await
        .unwrap();
    sqlx::query("UPDATE environments SET name = $1 WHERE app_id = $2 AND stage = $3")
        .bind("bar-staging")
        .bind(&app.id)
        .bind("staging")
        .execute(&mut raw)
        .await
        .unwrap();
    // App "foo" collides with the environment named "foo".
    let err = store
        .create_app(
            &AppName::parse("foo").unwrap(),
            &app.owner_id,
            "debian-testing",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Name is already taken"), "{err}");
    // App "bar" would create "bar-staging", which exists.
    let err = store
        .create_app(
            &AppName::parse("bar").unwrap(),
            &app.owner_id,
            "debian-testing",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NameTaken(_)), "{err:?}");
    // Nothing half-created.
    assert_eq!(store.list_apps().await.unwrap().len(), 1);
    assert_eq!(store.list_environments().await.unwrap().len(), 2);
    // A free name still works, and an unknown owner is NotFound.
    app_with_envs(&store, "free").await;
    let err = store
        .create_app(
            &AppName::parse("orphan").unwrap(),
            "no-such-user",
            "debian-testing",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn tokens_authenticate_by_digest(db: Arc<Db>) {
    let store = db.store().await;
    let (user, token) = admin(&store).await;
    assert!(token.starts_with("dpl_"));
    assert_eq!(token.len(), 4 + 64);
    let who = store.authenticate(&token).await.unwrap().unwrap();
    assert_eq!(who, user);
    assert!(who.admin);

    // Wrong token, and one with the same prefix but a different tail.
    assert!(store.authenticate("dpl_nope").await.unwrap().is_none());
    let mut same_prefix = token[..token.len() - 1].to_string();
    same_prefix.push(if token.ends_with('0') { '1' } else { '0' });
    assert!(store.authenticate(&same_prefix).await.unwrap().is_none());
    assert!(store.authenticate(&token[..20]).await.unwrap().is_none());
    assert!(store.authenticate("").await.unwrap().is_none());

    // Stored only as a digest; last_used_at recorded.
    let mut raw = db.raw().await;
    let rows = sqlx::query("SELECT digest, last_used_at FROM api_tokens")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let digest: String = rows[0].get("digest");
    assert_eq!(digest, token_digest(&token));
    assert!(!digest.contains(&token[4..]));
    let last_used: Option<String> = rows[0].get("last_used_at");
    assert!(last_used.is_some());

    let second = store.create_token(&user.id, "ci").await.unwrap();
    assert_ne!(second, token);
    assert_eq!(
        store.authenticate(&second).await.unwrap().unwrap().id,
        user.id
    );
    let digests = store.token_digests().await.unwrap();
    assert_eq!(digests.len(), 2);
    assert!(digests.contains(&token_digest(&token)) && digests.contains(&token_digest(&second)));

    assert!(store.revoke_token(&second).await.unwrap());
    assert!(store.authenticate(&second).await.unwrap().is_none());
    assert_eq!(store.token_digests().await.unwrap().len(), 1);

    let err = store.create_token("no-such-user", "x").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn ensure_admin_only_once(db: Arc<Db>) {
    let store = db.store().await;
    let (user, token) = store
        .ensure_admin("root@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.admin);
    assert_eq!(user.email, "root@example.com");
    assert!(store.authenticate(&token).await.unwrap().is_some());
    assert!(store
        .ensure_admin("root@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .ensure_admin("other@example.com")
        .await
        .unwrap()
        .is_none());
    // Also after a restart.
    let reopened = db.store().await;
    assert!(reopened
        .ensure_admin("x@example.com")
        .await
        .unwrap()
        .is_none());
    assert_eq!(reopened.token_digests().await.unwrap().len(), 1);
}

async fn config_vars_round_trip_and_delete(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "cfg").await;
    assert!(store.config_vars(&staging).await.unwrap().is_empty());
    let vars = store
        .set_config_vars(
            &staging,
            &set(&[
                ("DATABASE_URL", Some("postgres://s3cret@db/x")),
                ("EMPTY", Some("")),
                ("B", Some("ünïcode ✓")),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(vars.len(), 3);
    assert_eq!(vars["DATABASE_URL"], "postgres://s3cret@db/x");
    assert_eq!(vars["EMPTY"], "");
    assert_eq!(store.config_vars(&staging).await.unwrap(), vars);
    // Environments are separate.
    assert!(store.config_vars(&production).await.unwrap().is_empty());

    // Update one, delete one, delete a missing one.
    let vars = store
        .set_config_vars(
            &staging,
            &set(&[
                ("DATABASE_URL", Some("changed")),
                ("EMPTY", None),
                ("NEVER_SET", None),
            ]),
        )
        .await
        .unwrap();
    let want: BTreeMap<String, String> = [("B", "ünïcode ✓"), ("DATABASE_URL", "changed")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(vars, want);
    assert_eq!(store.config_vars(&staging).await.unwrap(), want);

    // One var of every environment that has it (the router's page URLs).
    store
        .set_config_vars(&production, &set(&[("CFG_PAGE_URL", Some("https://p/x"))]))
        .await
        .unwrap();
    store
        .set_config_vars(&staging, &set(&[("CFG_PAGE_URL", Some("https://s/x"))]))
        .await
        .unwrap();
    let all = store.config_var_of_all("CFG_PAGE_URL").await.unwrap();
    assert_eq!(all.get(&staging).map(String::as_str), Some("https://s/x"));
    assert_eq!(
        all.get(&production).map(String::as_str),
        Some("https://p/x")
    );
    assert!(store
        .config_var_of_all("CFG_NOBODY_HAS")
        .await
        .unwrap()
        .is_empty());
}

async fn config_values_are_encrypted_at_rest(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "enc").await;
    let secret = "hunter2-very-secret-value";
    store
        .set_config_vars(&staging, &set(&[("SECRET", Some(secret))]))
        .await
        .unwrap();
    let mut raw = db.raw().await;
    let stored: String =
        sqlx::query_scalar("SELECT value FROM config_vars WHERE env_id = $1 AND key = $2")
            .bind(&staging)
            .bind("SECRET")
            .fetch_one(&mut raw)
            .await
            .unwrap();
    assert!(!stored.contains(secret));
    assert!(!stored.contains(&hex::encode(secret)));
    assert!(stored.starts_with("01"), "format version byte");

    // A different key cannot decrypt.
    let wrong = db.store_with_key([7; 32]).await;
    let err = wrong.config_vars(&staging).await.unwrap_err();
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    assert!(!err.to_string().contains(secret));

    // The ciphertext copied to another environment (or key) does not decrypt there.
    sqlx::query(
        "INSERT INTO config_vars (env_id, key, value, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(&production)
    .bind("SECRET")
    .bind(&stored)
    .bind("2026-01-01T12:00:00Z")
    .execute(&mut raw)
    .await
    .unwrap();
    let err = store.config_vars(&production).await.unwrap_err();
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    sqlx::query(
        "INSERT INTO config_vars (env_id, key, value, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(&staging)
    .bind("OTHER_KEY")
    .bind(&stored)
    .bind("2026-01-01T12:00:00Z")
    .execute(&mut raw)
    .await
    .unwrap();
    assert!(matches!(
        store.config_vars(&staging).await.unwrap_err(),
        StoreError::Crypto(_)
    ));
}

async fn config_rejects_bad_keys_and_unknown_envs(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "keys").await;
    for bad in ["", "A-B", "A B", "A=B", "É"] {
        let err = store
            .set_config_vars(&staging, &set(&[(bad, Some("v"))]))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{bad}: {err:?}");
    }
    assert!(store.config_vars(&staging).await.unwrap().is_empty());
    let err = store
        .set_config_vars("no-such-env", &set(&[("A", Some("v"))]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn release_versions_increase(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "rel").await;
    for want in 1..=3 {
        let r = store
            .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
            .await
            .unwrap();
        assert_eq!(r.version, want);
        assert_eq!(r.status, ReleaseStatus::Succeeded);
        assert_eq!(r.process_types, web_types());
    }
    // Versions are per environment.
    let p = store
        .create_release(&new_release(&production, ReleaseStatus::Pending))
        .await
        .unwrap();
    assert_eq!(p.version, 1);
    let list = store.list_releases(&staging).await.unwrap();
    assert_eq!(
        list.iter().map(|r| r.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(list[0].image_kind, ImageKind::Buildpack);
    assert_eq!(store.release(&p.id).await.unwrap().unwrap(), p);
    let err = store
        .create_release(&new_release("no-such-env", ReleaseStatus::Pending))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = store
        .set_release_status("no-such-release", ReleaseStatus::Failed)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn concurrent_releases_get_distinct_versions(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "conc").await;
    store
        .set_config_vars(&staging, &set(&[("A", Some("1"))]))
        .await
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let store = store.clone();
        let staging = staging.clone();
        set.spawn(async move {
            store
                .create_release(&new_release(&staging, ReleaseStatus::Pending))
                .await
        });
    }
    let mut versions = Vec::new();
    while let Some(res) = set.join_next().await {
        versions.push(res.unwrap().unwrap().version);
    }
    versions.sort();
    assert_eq!(versions, (1..=10).collect::<Vec<i64>>());
}

async fn release_config_is_a_snapshot(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "snap").await;
    let empty = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    store
        .set_config_vars(&staging, &set(&[("A", Some("1")), ("B", Some("2"))]))
        .await
        .unwrap();
    let r = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    store
        .set_config_vars(
            &staging,
            &set(&[("A", Some("changed")), ("B", None), ("C", Some("3"))]),
        )
        .await
        .unwrap();
    let snap = store.release_config(&r.id).await.unwrap();
    assert_eq!(snap.get("A").map(String::as_str), Some("1"));
    assert_eq!(snap.get("B").map(String::as_str), Some("2"));
    assert!(!snap.contains_key("C"));
    assert!(store.release_config(&empty.id).await.unwrap().is_empty());
    assert!(matches!(
        store.release_config("no-such-release").await.unwrap_err(),
        StoreError::NotFound(_)
    ));
    // Snapshot values are encrypted too.
    let mut raw = db.raw().await;
    let values: Vec<String> =
        sqlx::query_scalar("SELECT value FROM release_config_vars WHERE release_id = $1")
            .bind(&r.id)
            .fetch_all(&mut raw)
            .await
            .unwrap();
    assert_eq!(values.len(), 2);
    assert!(values.iter().all(|v| v.starts_with("01") && v.len() > 50));
}

async fn a_release_config_applies_only_when_it_succeeds(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "apply").await;
    store
        .set_config_vars(&staging, &set(&[("A", Some("old"))]))
        .await
        .unwrap();
    let wanted = BTreeMap::from([
        ("A".to_string(), "new".to_string()),
        ("B".to_string(), "2".to_string()),
    ]);
    let mut new = new_release(&staging, ReleaseStatus::Pending);
    new.config = Some(wanted.clone());
    let r = store.create_release(&new).await.unwrap();
    assert_eq!(store.release_config(&r.id).await.unwrap(), wanted);
    // Pending: the environment's config is still the old one.
    assert_eq!(
        store
            .config_vars(&staging)
            .await
            .unwrap()
            .get("A")
            .map(String::as_str),
        Some("old")
    );
    store.succeed_release(&r.id, true).await.unwrap();
    assert_eq!(store.config_vars(&staging).await.unwrap(), wanted);
    assert_eq!(
        store.current_release(&staging).await.unwrap().map(|c| c.id),
        Some(r.id.clone())
    );
    // Only a pending release can succeed.
    assert!(matches!(
        store.succeed_release(&r.id, true).await.unwrap_err(),
        StoreError::Conflict(_)
    ));
    // A failed one changes nothing.
    let mut other = new_release(&staging, ReleaseStatus::Pending);
    other.config = Some(BTreeMap::new());
    let failed = store.create_release(&other).await.unwrap();
    store
        .set_release_status(&failed.id, ReleaseStatus::Failed)
        .await
        .unwrap();
    assert_eq!(store.config_vars(&staging).await.unwrap(), wanted);
    let mut bad = new_release(&staging, ReleaseStatus::Pending);
    bad.config = Some(BTreeMap::from([("NOT-OK".to_string(), "x".to_string())]));
    assert!(matches!(
        store.create_release(&bad).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
}

async fn collaborators_cover_one_or_both_environments(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "collab").await;
    let owners = store.collaborators(&app.id).await.unwrap();
    assert_eq!(owners.len(), 1, "the owner collaborates from the start");
    assert_eq!(owners[0].user_id, app.owner_id);
    assert!(owners[0].covers(&staging) && owners[0].covers(&production));
    let member = store
        .create_user("member@example.com", false)
        .await
        .unwrap();
    let token = store.create_token(&member.id, "t").await.unwrap();
    let digest = doppel_types::token_digest(&token);
    assert!(!store
        .env_token_digests(&app.id, &staging)
        .await
        .unwrap()
        .contains(&digest));
    let c = store
        .grant_access(&app.id, &member.id, Some(&staging))
        .await
        .unwrap();
    assert!(c.covers(&staging) && !c.covers(&production));
    assert!(store
        .env_token_digests(&app.id, &staging)
        .await
        .unwrap()
        .contains(&digest));
    assert!(!store
        .env_token_digests(&app.id, &production)
        .await
        .unwrap()
        .contains(&digest));
    // Granting the other environment too widens to both.
    let c = store
        .grant_access(&app.id, &member.id, Some(&production))
        .await
        .unwrap();
    assert!(c.env_id.is_none());
    assert_eq!(store.access_of(&member.id).await.unwrap().len(), 1);
    assert!(store.revoke_access(&app.id, &member.id).await.unwrap());
    assert!(!store.revoke_access(&app.id, &member.id).await.unwrap());
    assert!(store.access_of(&member.id).await.unwrap().is_empty());
}

async fn tokens_list_and_revoke_by_id(db: Arc<Db>) {
    let store = db.store().await;
    let (user, first) = admin(&store).await;
    let (id, second) = store.issue_token(&user.id, "laptop").await.unwrap();
    let tokens = store.tokens(&user.id).await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens
        .iter()
        .any(|t| t.id == id && t.description == "laptop"));
    assert!(store.authenticate(&second).await.unwrap().is_some());
    assert!(store.revoke_token_id(&user.id, &id).await.unwrap());
    assert!(!store.revoke_token_id(&user.id, &id).await.unwrap());
    assert!(store.authenticate(&second).await.unwrap().is_none());
    assert!(store.authenticate(&first).await.unwrap().is_some());
    assert!(store
        .token(&id)
        .await
        .unwrap()
        .is_some_and(|t| t.revoked_at.is_some()));
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

async fn audit_events_filter_by_environment_and_user(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "audited").await;
    for (env, email, action) in [
        (Some(&staging), "a@example.com", "config.set"),
        (Some(&production), "b@example.com", "release.rollback"),
        (None, "a@example.com", "app.create"),
    ] {
        store
            .record_audit(&doppel_store::NewAuditEvent {
                app_id: app.id.clone(),
                app_name: app.name.clone(),
                env_id: env.cloned(),
                env_name: env.map(|_| "x".to_string()),
                user_id: None,
                user_email: Some(email.to_string()),
                action: action.to_string(),
                details: "{}".to_string(),
                client: "api".to_string(),
                address: Some("127.0.0.1".to_string()),
            })
            .await
            .unwrap();
    }
    let all = store
        .audit_events(&app.id, &doppel_store::AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].action, "app.create", "newest first");
    let staging_only = store
        .audit_events(
            &app.id,
            &doppel_store::AuditFilter {
                env_id: Some(staging.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(staging_only.len(), 1);
    let by_b = store
        .audit_events(
            &app.id,
            &doppel_store::AuditFilter {
                user: Some("b@example.com".into()),
                limit: Some(5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_b.len(), 1);
    assert_eq!(by_b[0].action, "release.rollback");
    // The log outlives the app.
    store.delete_app(&app.id).await.unwrap();
    assert_eq!(
        store
            .audit_events(&app.id, &doppel_store::AuditFilter::default())
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn interrupted_releases_fail(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "intr").await;
    let v1 = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    let v2 = store
        .create_release(&new_release(&staging, ReleaseStatus::Pending))
        .await
        .unwrap();
    let reopened = db.store().await;
    assert_eq!(reopened.fail_interrupted_releases().await.unwrap(), 1);
    assert_eq!(
        reopened.release(&v2.id).await.unwrap().unwrap().status,
        ReleaseStatus::Failed
    );
    assert_eq!(
        reopened
            .current_release(&staging)
            .await
            .unwrap()
            .unwrap()
            .id,
        v1.id
    );
    assert_eq!(reopened.fail_interrupted_releases().await.unwrap(), 0);
}

async fn current_release_ignores_failed(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "cur").await;
    assert!(store.current_release(&staging).await.unwrap().is_none());
    let v1 = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    let v2 = store
        .create_release(&new_release(&staging, ReleaseStatus::Pending))
        .await
        .unwrap();
    assert_eq!(
        store.current_release(&staging).await.unwrap().unwrap().id,
        v1.id
    );
    store
        .set_release_status(&v2.id, ReleaseStatus::Failed)
        .await
        .unwrap();
    assert_eq!(
        store.current_release(&staging).await.unwrap().unwrap().id,
        v1.id
    );
    let v3 = store
        .create_release(&new_release(&staging, ReleaseStatus::Pending))
        .await
        .unwrap();
    store
        .set_release_status(&v3.id, ReleaseStatus::Succeeded)
        .await
        .unwrap();
    let current = store.current_release(&staging).await.unwrap().unwrap();
    assert_eq!((current.id.as_str(), current.version), (v3.id.as_str(), 3));
    assert_eq!(current.status, ReleaseStatus::Succeeded);
    let statuses: Vec<_> = store
        .list_releases(&staging)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [
            ReleaseStatus::Succeeded,
            ReleaseStatus::Failed,
            ReleaseStatus::Succeeded
        ]
    );
}

async fn builds_finish_and_interrupted_builds_fail(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "bld").await;
    let b1 = store
        .create_build(&staging, "aaaa", Some(&app.owner_id))
        .await
        .unwrap();
    assert_eq!(b1.status, BuildStatus::Pending);
    assert_eq!(b1.commit, "aaaa");
    assert!(b1.process_types.is_empty() && b1.image_id.is_none());
    let b2 = store.create_build(&staging, "bbbb", None).await.unwrap();
    let b3 = store.create_build(&production, "cccc", None).await.unwrap();

    let done = store
        .finish_build(
            &b1.id,
            &BuildOutcome::Succeeded {
                image_id: "sha256:img".into(),
                image_kind: ImageKind::Dockerfile,
                process_types: web_types(),
                buildpack: None,
                stack: "heroku-24".into(),
                size_bytes: 1234,
            },
            "-----> built\n",
        )
        .await
        .unwrap();
    assert_eq!(done.status, BuildStatus::Succeeded);
    assert_eq!(done.image_id.as_deref(), Some("sha256:img"));
    assert_eq!(done.image_kind, Some(ImageKind::Dockerfile));
    assert_eq!(done.process_types, web_types());
    assert_eq!(done.stack.as_deref(), Some("heroku-24"));
    assert_eq!(done.size_bytes, Some(1234));
    assert_eq!(
        store.build_output(&b1.id).await.unwrap().as_deref(),
        Some("-----> built\n")
    );
    // Finishing twice is a conflict.
    let err = store
        .finish_build(&b1.id, &BuildOutcome::Failed { reason: "x".into() }, "")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let listed = store.list_builds(&staging).await.unwrap();
    assert_eq!(
        listed.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        [b1.id.as_str(), b2.id.as_str()]
    );

    // Restart: pending builds fail with the interruption reason, finished ones stay.
    let reopened = db.store().await;
    assert_eq!(reopened.fail_interrupted_builds().await.unwrap(), 2);
    for id in [&b2.id, &b3.id] {
        let b = reopened.build(id).await.unwrap().unwrap();
        assert_eq!(b.status, BuildStatus::Failed);
        assert_eq!(b.failure.as_deref(), Some(INTERRUPTED_REASON));
    }
    assert_eq!(
        reopened.build(&b1.id).await.unwrap().unwrap().status,
        BuildStatus::Succeeded
    );
    assert_eq!(reopened.fail_interrupted_builds().await.unwrap(), 0);

    let failed = store.create_build(&staging, "dddd", None).await.unwrap();
    let failed = store
        .finish_build(
            &failed.id,
            &BuildOutcome::Failed {
                reason: "no buildpack".into(),
            },
            "log",
        )
        .await
        .unwrap();
    assert_eq!(failed.status, BuildStatus::Failed);
    assert_eq!(failed.failure.as_deref(), Some("no buildpack"));
    assert!(store.build("no-such-build").await.unwrap().is_none());
    assert!(matches!(
        store
            .create_build("no-such-env", "x", None)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
}

async fn formation_ensure_keeps_existing(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "form").await;
    assert!(store.formation(&staging).await.unwrap().is_empty());
    let mut types = web_types();
    types.insert("worker".into(), "python worker.py".into());
    let f = store.ensure_formation(&staging, &types).await.unwrap();
    let got: Vec<_> = f
        .iter()
        .map(|e| (e.process_type.as_str(), e.quantity, e.size.as_str()))
        .collect();
    assert_eq!(
        got,
        [("web", 1, "standard-1X"), ("worker", 0, "standard-1X")]
    );

    // Scaling survives a later ensure, which only adds what is missing.
    let scaled = store
        .update_formation(&staging, "web", Some(3), Some("performance-M"))
        .await
        .unwrap();
    assert_eq!(
        (scaled.quantity, scaled.size.as_str()),
        (3, "performance-M")
    );
    types.insert("clock".into(), "python clock.py".into());
    let f = store.ensure_formation(&staging, &types).await.unwrap();
    let got: Vec<_> = f
        .iter()
        .map(|e| (e.process_type.as_str(), e.quantity, e.size.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("clock", 0, "standard-1X"),
            ("web", 3, "performance-M"),
            ("worker", 0, "standard-1X")
        ]
    );
    // Types no longer declared are not removed by ensure.
    let f = store
        .ensure_formation(&staging, &web_types())
        .await
        .unwrap();
    assert_eq!(f.len(), 3);
    assert!(matches!(
        store
            .ensure_formation("no-such-env", &types)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        store
            .update_formation(&staging, "nope", Some(1), None)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
}

fn change(
    process_type: &str,
    quantity: Option<QuantityChange>,
    size: Option<&str>,
) -> FormationChange {
    FormationChange {
        process_type: process_type.to_string(),
        quantity,
        size: size.map(str::to_string),
    }
}

async fn formation_changes_apply_all_or_none(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "scale").await;
    let mut types = web_types();
    types.insert("worker".into(), "python worker.py".into());
    store.ensure_formation(&staging, &types).await.unwrap();
    store.ensure_formation(&production, &types).await.unwrap();
    let shape = |f: &[doppel_store::FormationEntry]| -> Vec<(String, i64, String)> {
        f.iter()
            .map(|e| (e.process_type.clone(), e.quantity, e.size.clone()))
            .collect()
    };

    // Absolute, relative and size changes together; answered in the order named.
    let changed = store
        .change_formation(
            &staging,
            &[
                change("worker", Some(QuantityChange::Add(2)), Some("standard-2X")),
                change("web", Some(QuantityChange::Set(3)), None),
                change("worker", Some(QuantityChange::Add(-1)), None),
            ],
            100,
        )
        .await
        .unwrap();
    assert_eq!(
        shape(&changed),
        [
            ("worker".to_string(), 1, "standard-2X".to_string()),
            ("web".to_string(), 3, "standard-1X".to_string())
        ]
    );
    let before = store.formation(&staging).await.unwrap();
    // Production is a separate formation.
    assert_eq!(store.formation(&production).await.unwrap()[0].quantity, 1);

    // Below zero, over the limit, or an unknown type: nothing of the batch is applied.
    for bad in [
        vec![
            change("web", Some(QuantityChange::Set(1)), None),
            change("worker", Some(QuantityChange::Add(-2)), None),
        ],
        vec![
            change("web", Some(QuantityChange::Set(0)), None),
            change("worker", Some(QuantityChange::Set(11)), None),
        ],
        vec![
            change("web", None, Some("performance-L")),
            change("clock", Some(QuantityChange::Set(1)), None),
        ],
    ] {
        let err = store
            .change_formation(&staging, &bad, 10)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(_) | StoreError::NotFound(_)),
            "{err:?}"
        );
        assert_eq!(
            shape(&store.formation(&staging).await.unwrap()),
            shape(&before)
        );
    }
    let err = store
        .change_formation(
            &staging,
            &[change("worker", Some(QuantityChange::Set(11)), None)],
            10,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("10"), "the limit is named: {err}");
    assert!(matches!(
        store
            .change_formation("no-such-env", &[change("web", None, None)], 10)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));

    // Concurrent relative changes both count.
    let plus_one = [change("web", Some(QuantityChange::Add(1)), None)];
    let (a, b) = tokio::join!(
        store.change_formation(&staging, &plus_one, 100),
        store.change_formation(&staging, &plus_one, 100),
    );
    a.unwrap();
    b.unwrap();
    let web = store.formation(&staging).await.unwrap();
    assert_eq!(
        web.iter()
            .find(|e| e.process_type == "web")
            .unwrap()
            .quantity,
        5
    );
}

async fn capabilities_outlive_a_reopen(db: Arc<Db>) {
    let store = db.store().await;
    let token = store.capability("build-output", "b-1");
    assert!(store.check_capability("build-output", "b-1", &token));
    assert!(!store.check_capability("build-output", "b-2", &token));
    let reopened = db.store().await;
    assert_eq!(reopened.capability("build-output", "b-1"), token);
    let other_key = db.store_with_key([9; 32]).await;
    assert!(!other_key.check_capability("build-output", "b-1", &token));
}

async fn delete_app_cascades(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "gone").await;
    let (_, keep_staging, _) = app_with_envs(&store, "kept").await;
    for env in [&staging, &production, &keep_staging] {
        store
            .set_config_vars(env, &set(&[("A", Some("1"))]))
            .await
            .unwrap();
        let b = store.create_build(env, "abc", None).await.unwrap();
        let mut r = new_release(env, ReleaseStatus::Succeeded);
        r.build_id = Some(b.id);
        store.create_release(&r).await.unwrap();
        store.ensure_formation(env, &web_types()).await.unwrap();
        let host = format!("{env}.example.com");
        store.add_domain(env, &host, 10).await.unwrap();
    }
    let source = store.current_release(&staging).await.unwrap().unwrap();
    let promotion = store
        .create_promotion(&NewPromotion {
            app_id: app.id.clone(),
            source_env_id: staging.clone(),
            target_env_id: production.clone(),
            source_release_id: source.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    store
        .create_promoted_release(
            &new_release(&production, ReleaseStatus::Pending),
            &promotion.id,
            &source.id,
        )
        .await
        .unwrap();
    store
        .set_parity_mark(&app.id, "config", "A", "because", None)
        .await
        .unwrap();
    store.delete_app(&app.id).await.unwrap();
    assert!(store.app("gone").await.unwrap().is_none());
    assert!(store.environment(&staging).await.unwrap().is_none());
    assert_eq!(store.list_apps().await.unwrap().len(), 1);

    let mut raw = db.raw().await;
    for table in [
        "environments",
        "builds",
        "releases",
        "config_vars",
        "formations",
        "domains",
    ] {
        let col = if table == "environments" {
            "id"
        } else {
            "env_id"
        };
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE {col} IN ($1, $2)"
        )))
        .bind(&staging)
        .bind(&production)
        .fetch_one(&mut raw)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    for table in ["promotions", "parity_marks"] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE app_id = $1"
        )))
        .bind(&app.id)
        .fetch_one(&mut raw)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM release_config_vars")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(n, 1, "only the kept app's snapshot remains");
    // The other app is untouched.
    assert_eq!(store.list_releases(&keep_staging).await.unwrap().len(), 1);
    assert_eq!(store.all_domains().await.unwrap().len(), 1);
    assert_eq!(store.config_vars(&keep_staging).await.unwrap().len(), 1);
    // The name is free again.
    app_with_envs(&store, "gone").await;
    assert!(matches!(
        store.delete_app("no-such-app").await.unwrap_err(),
        StoreError::NotFound(_)
    ));
}

async fn promotions_get_one_release_and_never_interleave(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "promo").await;
    let user = store.user("admin@example.com").await.unwrap().unwrap();
    let source = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    let new = NewPromotion {
        app_id: app.id.clone(),
        source_env_id: staging.clone(),
        target_env_id: production.clone(),
        source_release_id: source.id.clone(),
        forced: true,
        reason: Some("hotfix".into()),
        user_id: Some(user.id.clone()),
    };
    let first = store.create_promotion(&new).await.unwrap();
    assert_eq!(first.status, PromotionStatus::Pending);
    assert!(first.forced && first.reason.as_deref() == Some("hotfix"));
    assert_ne!(first.id, first.target_id);
    assert_eq!(
        store.promotion(&first.target_id).await.unwrap().unwrap(),
        first,
        "found by its target's id too"
    );
    // A second promotion to the same environment waits its turn.
    let err = store.create_promotion(&new).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.list_promotions(&app.id).await.unwrap().len(), 1);

    let made = store
        .create_promoted_release(
            &new_release(&production, ReleaseStatus::Pending),
            &first.id,
            &source.id,
        )
        .await
        .unwrap();
    assert_eq!(made.source_release_id.as_deref(), Some(source.id.as_str()));
    assert_eq!(store.release(&made.id).await.unwrap().unwrap(), made);
    let linked = store.promotion(&first.id).await.unwrap().unwrap();
    assert_eq!(linked.target_release_id.as_deref(), Some(made.id.as_str()));
    // Running the step twice makes no second release.
    let err = store
        .create_promoted_release(
            &new_release(&production, ReleaseStatus::Pending),
            &first.id,
            &source.id,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.list_releases(&production).await.unwrap().len(), 1);
    assert_eq!(store.pending_promotions().await.unwrap().len(), 1);

    let err = store
        .finish_promotion(&first.id, PromotionStatus::Pending, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let done = store
        .finish_promotion(&first.id, PromotionStatus::Succeeded, None)
        .await
        .unwrap();
    assert_eq!(done.status, PromotionStatus::Succeeded);
    let err = store
        .finish_promotion(&first.id, PromotionStatus::Failed, Some("late"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(store.pending_promotions().await.unwrap().is_empty());
    // Once it ended, the next promotion may start; a finished one cannot get a release.
    let second = store.create_promotion(&new).await.unwrap();
    let failed = store
        .finish_promotion(&second.id, PromotionStatus::Failed, Some("no"))
        .await
        .unwrap();
    assert_eq!(failed.error_message.as_deref(), Some("no"));
    let err = store
        .create_promoted_release(
            &new_release(&production, ReleaseStatus::Pending),
            &second.id,
            &source.id,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.list_promotions(&app.id).await.unwrap().len(), 2);
    // Plain releases record no source.
    let plain = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    assert!(plain.source_release_id.is_none());
    let err = store
        .finish_promotion("no-such-promotion", PromotionStatus::Failed, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn direct_pushes_to_production_are_off_until_allowed(db: Arc<Db>) {
    let store = db.store().await;
    let (app, _, _) = app_with_envs(&store, "pushy").await;
    assert!(!store.direct_pushes_allowed(&app.id).await.unwrap());
    store.set_direct_pushes(&app.id, true).await.unwrap();
    assert!(store.direct_pushes_allowed(&app.id).await.unwrap());
    store.set_direct_pushes(&app.id, false).await.unwrap();
    assert!(!store.direct_pushes_allowed(&app.id).await.unwrap());
    for err in [
        store.set_direct_pushes("nope", true).await.unwrap_err(),
        store.direct_pushes_allowed("nope").await.unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    }
}

async fn parity_marks_need_a_reason_and_replace_each_other(db: Arc<Db>) {
    let store = db.store().await;
    let (app, _, _) = app_with_envs(&store, "marks").await;
    let user = store.user("admin@example.com").await.unwrap().unwrap();
    for (aspect, item, reason) in [("config", "A", " "), ("", "A", "r"), ("config", "", "r")] {
        let err = store
            .set_parity_mark(&app.id, aspect, item, reason, None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
    assert!(store.parity_marks(&app.id).await.unwrap().is_empty());
    store
        .set_parity_mark(&app.id, "config", "A", "first", Some(&user.id))
        .await
        .unwrap();
    let mark = store
        .set_parity_mark(&app.id, "config", "A", " second ", Some(&user.id))
        .await
        .unwrap();
    store
        .set_parity_mark(&app.id, "addons", "redis", "cache only in staging", None)
        .await
        .unwrap();
    let marks = store.parity_marks(&app.id).await.unwrap();
    assert_eq!(marks.len(), 2);
    assert_eq!(marks[1], mark);
    assert_eq!(mark.reason, "second");
    store
        .delete_parity_mark(&app.id, "config", "A")
        .await
        .unwrap();
    let err = store
        .delete_parity_mark(&app.id, "config", "A")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let err = store
        .set_parity_mark("no-such-app", "config", "A", "r", None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn environment_settings_round_trip(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "settings").await;
    for env in &app.environments {
        assert_eq!(env.build_stack, "debian-testing", "{}", env.name);
        assert!(!env.maintenance);
    }
    let env = store.set_build_stack(&staging, "debian-12").await.unwrap();
    assert_eq!(env.build_stack, "debian-12");
    let env = store.set_maintenance(&production, true).await.unwrap();
    assert!(env.maintenance);
    // Each setting is the one environment's.
    let staging_now = store.environment(&staging).await.unwrap().unwrap();
    assert!(!staging_now.maintenance);
    let production_now = store.environment("settings").await.unwrap().unwrap();
    assert_eq!(production_now.build_stack, "debian-testing");
    assert!(production_now.maintenance);
    let listed = store.list_environments().await.unwrap();
    assert_eq!(listed[0].build_stack, "debian-12");
    assert!(listed[1].maintenance);
    let app = store.app("settings").await.unwrap().unwrap();
    assert_eq!(app.environments[0].build_stack, "debian-12");
    let env = store.set_maintenance(&production, false).await.unwrap();
    assert!(!env.maintenance);
    assert!(matches!(
        store
            .set_build_stack("nope", "debian-12")
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        store.set_maintenance("nope", true).await.unwrap_err(),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        store.set_build_stack(&staging, " ").await.unwrap_err(),
        StoreError::Invalid(_)
    ));
}

/// What the migration gives environments made before stacks were per environment.
async fn existing_environments_build_on_debian_12(db: Arc<Db>) {
    let store = db.store().await;
    let (app, _, _) = app_with_envs(&store, "fresh").await;
    let mut raw = db.raw().await;
    sqlx::query(
        "INSERT INTO environments (id, app_id, name, stage, private, created_at, updated_at) \
         VALUES ('old-env', $1, 'old-env-name', 'review', 0, 'x', 'x')",
    )
    .bind(&app.id)
    .execute(&mut raw)
    .await
    .unwrap();
    let row = sqlx::query("SELECT build_stack, maintenance FROM environments WHERE id = 'old-env'")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("build_stack"), "debian-12");
    assert_eq!(row.get::<i64, _>("maintenance"), 0);
}

async fn domains_are_unique_and_bounded(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "dom").await;
    let (_, other, _) = app_with_envs(&store, "other").await;
    let a = store
        .add_domain(&production, "www.example.com", 2)
        .await
        .unwrap();
    assert_eq!(a.env_id, production);
    assert_eq!(a.hostname, "www.example.com");
    // One host name, one environment: not the twin, not another app.
    for env in [&production, &staging, &other] {
        assert!(matches!(
            store
                .add_domain(env, "www.example.com", 2)
                .await
                .unwrap_err(),
            StoreError::NameTaken(_)
        ));
    }
    store
        .add_domain(&production, "api.example.com", 2)
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_domain(&production, "three.example.com", 2)
            .await
            .unwrap_err(),
        StoreError::Invalid(_)
    ));
    store
        .add_domain(&staging, "staging.example.com", 2)
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_domain("no-such-env", "x.example.com", 2)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    let names: Vec<String> = store
        .domains(&production)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.hostname)
        .collect();
    assert_eq!(names, ["api.example.com", "www.example.com"]);
    assert_eq!(store.all_domains().await.unwrap().len(), 3);
    assert_eq!(
        store.domain("www.example.com").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.domain(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.domain("nope.example.com").await.unwrap(), None);
    // Removing needs the right environment.
    assert!(!store.remove_domain(&staging, &a.id).await.unwrap());
    assert!(store.remove_domain(&production, &a.id).await.unwrap());
    assert!(!store.remove_domain(&production, &a.id).await.unwrap());
    // The name is free again, for anyone.
    store
        .add_domain(&other, "www.example.com", 2)
        .await
        .unwrap();
}

async fn access_narrows_to_one_environment(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "narrow").await;
    let member = store
        .create_user("narrow@example.com", false)
        .await
        .unwrap();
    assert!(!store
        .restrict_access(&app.id, &member.id, &staging)
        .await
        .unwrap());
    store.grant_access(&app.id, &member.id, None).await.unwrap();
    assert!(store
        .restrict_access(&app.id, &member.id, &staging)
        .await
        .unwrap());
    let rows = store.access_of(&member.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].covers(&staging) && !rows[0].covers(&production));
    // The owner's row is untouched.
    let owner = store
        .collaborators(&app.id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.user_id == app.owner_id)
        .unwrap();
    assert!(owner.env_id.is_none());
}

// ---------------------------------------------------------------------------------------
// add-ons (issue 11)

fn new_addon(env_id: &str, name: &str) -> doppel_store::NewAddon {
    doppel_store::NewAddon {
        name: name.to_string(),
        env_id: env_id.to_string(),
        service: "postgres".into(),
        plan: "essential-0".into(),
        volume: format!("vol-{name}"),
        color: "AMBER".into(),
        credentials: doppel_store::AddonCredentials {
            user: "u_abc".into(),
            password: "pw-very-secret-123".into(),
            database: "d_abc".into(),
            pending_password: None,
        },
    }
}

async fn addons_round_trip_with_sealed_credentials(db: Arc<Db>) {
    use doppel_store::{AddonState, BackupSchedule};
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "adds").await;
    let a = store
        .create_addon(&new_addon(&staging, "postgresql-curly-1"))
        .await
        .unwrap();
    assert_eq!(a.state, AddonState::Provisioning);
    assert_eq!(a.credentials.password, "pw-very-secret-123");
    assert!(
        !format!("{a:?}").contains("pw-very-secret"),
        "Debug redacts"
    );
    assert_eq!(
        store.addon("postgresql-curly-1").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.addon(&a.id).await.unwrap(), Some(a.clone()));
    assert!(matches!(
        store
            .create_addon(&new_addon(&production, "postgresql-curly-1"))
            .await,
        Err(StoreError::NameTaken(_))
    ));
    assert!(matches!(
        store.create_addon(&new_addon("no-such-env", "x-1")).await,
        Err(StoreError::NotFound(_))
    ));
    let b = store
        .create_addon(&new_addon(&production, "postgresql-curly-2"))
        .await
        .unwrap();

    // Sealed at rest, and bound to its row.
    let mut raw = db.raw().await;
    let stored: String = sqlx::query_scalar("SELECT credentials FROM addons WHERE id = $1")
        .bind(&a.id)
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert!(!stored.contains("pw-very-secret"));
    sqlx::query("UPDATE addons SET credentials = $1 WHERE id = $2")
        .bind(&stored)
        .bind(&b.id)
        .execute(&mut raw)
        .await
        .unwrap();
    assert!(matches!(
        store.addon(&b.id).await,
        Err(StoreError::Crypto(_))
    ));
    store
        .set_addon_credentials(&b.id, &b.credentials)
        .await
        .unwrap();
    assert_eq!(
        store.addon(&b.id).await.unwrap().unwrap().credentials,
        b.credentials
    );

    store
        .set_addon_provisioned(&a.id, "doppel/addon-postgres:x", "PostgreSQL 17.6")
        .await
        .unwrap();
    let mut creds = a.credentials.clone();
    creds.pending_password = Some("next".into());
    store.set_addon_credentials(&a.id, &creds).await.unwrap();
    let utc = BackupSchedule {
        hour: 2,
        keep: 7,
        zone: None,
    };
    store
        .set_addon_schedule(&a.id, Some(utc.clone()))
        .await
        .unwrap();
    let got = store.addon(&a.id).await.unwrap().unwrap();
    assert_eq!(got.schedule, Some(utc));
    let schedule = BackupSchedule {
        hour: 2,
        keep: 7,
        zone: Some("Europe/Paris".into()),
    };
    store
        .set_addon_schedule(&a.id, Some(schedule.clone()))
        .await
        .unwrap();
    let got = store.addon(&a.id).await.unwrap().unwrap();
    assert_eq!(got.state, AddonState::Provisioned);
    assert_eq!(got.version.as_deref(), Some("PostgreSQL 17.6"));
    assert_eq!(got.image.as_deref(), Some("doppel/addon-postgres:x"));
    assert_eq!(got.credentials.pending_password.as_deref(), Some("next"));
    assert_eq!(got.schedule, Some(schedule));
    store.set_addon_schedule(&a.id, None).await.unwrap();
    store.set_addon_plan(&a.id, "standard-0").await.unwrap();
    assert_eq!(
        store.addon(&a.id).await.unwrap().unwrap().plan,
        "standard-0"
    );
    store
        .set_addon_state(&b.id, AddonState::Failed, Some("image build failed"))
        .await
        .unwrap();
    let got_b = store.addon(&b.id).await.unwrap().unwrap();
    assert_eq!(got_b.failure.as_deref(), Some("image build failed"));
    assert_eq!(store.addon(&a.id).await.unwrap().unwrap().schedule, None);

    assert_eq!(store.addons_of_env(&staging).await.unwrap().len(), 1);
    assert_eq!(store.list_addons().await.unwrap().len(), 2);
    store.delete_addon(&a.id).await.unwrap();
    assert!(store.addon(&a.id).await.unwrap().is_none());
    assert!(matches!(
        store.set_addon_state(&a.id, AddonState::Failed, None).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn attachments_are_unique_per_environment(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "atts").await;
    let a = store
        .create_addon(&new_addon(&staging, "pg-a-1"))
        .await
        .unwrap();
    let b = store
        .create_addon(&new_addon(&production, "pg-b-1"))
        .await
        .unwrap();
    let first = store
        .create_attachment(&a.id, &staging, "DATABASE")
        .await
        .unwrap();
    store
        .create_attachment(&a.id, &staging, "HEROKU_POSTGRESQL_AMBER")
        .await
        .unwrap();
    assert!(matches!(
        store.create_attachment(&a.id, &staging, "DATABASE").await,
        Err(StoreError::NameTaken(_))
    ));
    store
        .create_attachment(&b.id, &production, "DATABASE")
        .await
        .unwrap();
    let names: Vec<String> = store
        .attachments_of_env(&staging)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"DATABASE".to_string()));
    assert_eq!(store.attachments_of_addon(&b.id).await.unwrap().len(), 1);
    assert_eq!(
        store.attachment(&first.id).await.unwrap(),
        Some(first.clone())
    );
    store.delete_attachment(&first.id).await.unwrap();
    assert!(matches!(
        store.delete_attachment(&first.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_addon(&a.id).await.unwrap();
    assert!(store.attachments_of_env(&staging).await.unwrap().is_empty());
    assert_eq!(
        store.attachments_of_env(&production).await.unwrap().len(),
        1
    );
}

async fn backups_are_numbered_per_environment_and_kind(db: Arc<Db>) {
    use doppel_store::{BackupKind, BackupStatus, NewBackup};
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "bkps").await;
    let new = |env: &str| NewBackup {
        env_id: env.to_string(),
        addon_id: Some("addon-1".into()),
        addon_name: "postgresql-x-1".into(),
        service: "postgres".into(),
        version: Some("PostgreSQL 17".into()),
        ..Default::default()
    };
    let b1 = store
        .create_backup(&new(&staging), BackupKind::Manual)
        .await
        .unwrap();
    let b2 = store
        .create_backup(&new(&staging), BackupKind::Manual)
        .await
        .unwrap();
    let a1 = store
        .create_backup(&new(&staging), BackupKind::Scheduled)
        .await
        .unwrap();
    let p1 = store
        .create_backup(&new(&production), BackupKind::Manual)
        .await
        .unwrap();
    let r1 = store
        .create_backup(&new(&staging), BackupKind::Restore)
        .await
        .unwrap();
    assert_eq!(
        [b1.label(), b2.label(), a1.label(), p1.label(), r1.label()],
        ["b001", "b002", "a001", "b001", "r001"]
    );
    assert_eq!(b1.status, BackupStatus::Running);

    let counts = BTreeMap::from([("public.items".to_string(), 1000i64)]);
    store
        .finish_backup(&b1.id, 4096, "blake3:abc", "backups/x/b001.dump", &counts)
        .await
        .unwrap();
    assert!(matches!(
        store.finish_backup(&b1.id, 1, "x", "y", &counts).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .set_backup_verified(&b1.id, true, "1 table, 1000 rows")
        .await
        .unwrap();
    store.fail_backup(&b2.id, "pg_dump failed").await.unwrap();
    store.succeed_backup(&r1.id).await.unwrap();
    let got = store
        .backup_by_label(&staging, "b001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.status, BackupStatus::Succeeded);
    assert_eq!(got.size_bytes, Some(4096));
    assert_eq!(got.counts, counts);
    assert_eq!(got.verified, Some(true));
    assert_eq!(got.file.as_deref(), Some("backups/x/b001.dump"));
    let failed = store.backup(&b2.id).await.unwrap().unwrap();
    assert_eq!(failed.status, BackupStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("pg_dump failed"));
    assert!(store
        .backup_by_label(&staging, "b009")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .backup_by_label(&staging, "zz1")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .backup_by_label(&production, "b001")
            .await
            .unwrap()
            .map(|b| b.id),
        Some(p1.id.clone())
    );

    // A restart fails what was running.
    assert_eq!(store.fail_interrupted_backups().await.unwrap(), 2);
    let a1 = store.backup(&a1.id).await.unwrap().unwrap();
    assert_eq!(a1.status, BackupStatus::Failed);
    assert_eq!(store.backups_of_env(&staging).await.unwrap().len(), 4);
    store.delete_backup(&b2.id).await.unwrap();
    assert_eq!(store.backups_of_env(&staging).await.unwrap().len(), 3);
}

async fn delete_app_removes_addon_rows(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, _) = app_with_envs(&store, "adel").await;
    let (_, kept, _) = app_with_envs(&store, "akept").await;
    for (env, name) in [(&staging, "pg-del-1"), (&kept, "pg-kept-1")] {
        let a = store.create_addon(&new_addon(env, name)).await.unwrap();
        store
            .create_attachment(&a.id, env, "DATABASE")
            .await
            .unwrap();
        let backup = doppel_store::NewBackup {
            env_id: env.to_string(),
            addon_id: Some(a.id.clone()),
            addon_name: name.into(),
            service: "postgres".into(),
            ..Default::default()
        };
        store
            .create_backup(&backup, doppel_store::BackupKind::Manual)
            .await
            .unwrap();
    }
    store.delete_app(&app.id).await.unwrap();
    assert!(store.addon("pg-del-1").await.unwrap().is_none());
    assert!(store.backups_of_env(&staging).await.unwrap().is_empty());
    assert!(store.addon("pg-kept-1").await.unwrap().is_some());
    assert_eq!(store.attachments_of_env(&kept).await.unwrap().len(), 1);
    assert_eq!(store.backups_of_env(&kept).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// process groups: rollouts and log drains

async fn rollouts_record_steps_and_recovery_unwinds_uncommitted(db: Arc<Db>) {
    use doppel_store::{RolloutKind, RolloutPhase};
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "roll").await;
    let v1 = store
        .create_release(&new_release(&staging, ReleaseStatus::Pending))
        .await
        .unwrap();
    let cut = store
        .create_rollout(&staging, Some(&v1.id), RolloutKind::Release)
        .await
        .unwrap();
    assert_eq!(cut.phase, RolloutPhase::Started);
    store
        .set_rollout_phase(&cut.id, RolloutPhase::ReleasePhase, "")
        .await
        .unwrap();
    store
        .set_rollout_output(&cut.id, &"x".repeat(doppel_store::MAX_ROLLOUT_OUTPUT + 10))
        .await
        .unwrap();
    let committed = store
        .create_rollout(&production, None, RolloutKind::Restart)
        .await
        .unwrap();
    store
        .set_rollout_phase(&committed.id, RolloutPhase::Committed, "")
        .await
        .unwrap();
    // Setting the phase it has is harmless (a step run twice).
    store
        .set_rollout_phase(&committed.id, RolloutPhase::Committed, "")
        .await
        .unwrap();
    assert_eq!(store.unfinished_rollouts().await.unwrap().len(), 2);

    let reopened = db.store().await;
    assert_eq!(reopened.interrupt_rollouts("interrupted").await.unwrap(), 1);
    let unwound = reopened.rollout(&cut.id).await.unwrap().unwrap();
    assert_eq!(unwound.phase, RolloutPhase::Failed);
    assert_eq!(unwound.detail, "interrupted");
    assert_eq!(unwound.output.len(), doppel_store::MAX_ROLLOUT_OUTPUT);
    let left = reopened.unfinished_rollouts().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, committed.id);
    assert_eq!(left[0].kind, RolloutKind::Restart);
    // A finished rollout stays as recovery left it.
    assert!(matches!(
        reopened
            .set_rollout_phase(&cut.id, RolloutPhase::Committed, "")
            .await,
        Err(StoreError::Conflict(_))
    ));
    reopened
        .set_rollout_phase(&committed.id, RolloutPhase::Done, "")
        .await
        .unwrap();
    assert!(reopened.unfinished_rollouts().await.unwrap().is_empty());
    assert_eq!(
        reopened
            .release_rollout(&v1.id)
            .await
            .unwrap()
            .map(|r| r.id),
        Some(cut.id.clone())
    );
    assert_eq!(reopened.env_rollouts(&staging, 10).await.unwrap().len(), 1);
    assert!(matches!(
        reopened
            .create_rollout("no-such-env", None, RolloutKind::Restart)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn log_drains_are_unique_per_environment_and_encrypted(db: Arc<Db>) {
    let store = db.store().await;
    let (app, staging, production) = app_with_envs(&store, "drn").await;
    let url = "https://user:s3cret@logs.example.com/ingest";
    let d = store.add_log_drain(&staging, url).await.unwrap();
    assert!(d.token.starts_with("d."));
    assert!(matches!(
        store.add_log_drain(&staging, url).await,
        Err(StoreError::Conflict(_))
    ));
    // The same URL on the other environment is another drain.
    store.add_log_drain(&production, url).await.unwrap();
    store
        .add_log_drain(&staging, "syslog+tls://logs.example.com:6514")
        .await
        .unwrap();
    let listed = store.log_drains(&staging).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|l| l.url == url));
    assert_eq!(store.all_log_drains().await.unwrap().len(), 3);

    let mut raw = db.raw().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT url FROM log_drains")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert!(stored.iter().all(|u| !u.contains("s3cret")), "{stored:?}");

    let removed = store.remove_log_drain(&staging, &d.token).await.unwrap();
    assert_eq!(removed.id, d.id);
    assert!(matches!(
        store.remove_log_drain(&staging, &d.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_app(&app.id).await.unwrap();
    assert!(store.all_log_drains().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// schema

#[test]
fn migration_folders_list_the_same_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let list = |dir: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, list("postgres"));
}

#[test]
fn postgres_urls_get_the_test_database() {
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1:5432/postgres", "t1"),
        "postgres://u:p@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u@h/postgres?sslmode=disable", "t1"),
        "postgres://u@h/t1?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
}

async fn snapshots_restore_into_an_empty_database_only(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, _) = app_with_envs(&store, "snap").await;
    store
        .set_config_vars(&staging, &set(&[("SECRET", Some("s3cret"))]))
        .await
        .unwrap();
    let release = store
        .create_release(&new_release(&staging, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.snapshot");
    // The store stays open (a running server) while the snapshot is taken.
    let info = doppel_store::snapshot(&db.url, &file).await.unwrap();
    assert_eq!(info.backend, store.backend());
    assert_eq!(info.schema_version, doppel_store::latest_schema_version());
    // A second snapshot never overwrites a file.
    assert!(doppel_store::snapshot(&db.url, &file).await.is_err());

    let target = match db.pg {
        Some(_) => Db::postgres().await.unwrap(),
        None => Db::sqlite().await,
    };
    let target = Arc::new(target);
    let t = target.clone();
    let outcome = async move {
        doppel_store::restore_snapshot(&t.url, info.backend, &file)
            .await
            .unwrap();
        let restored = t.store().await;
        let app = restored.app("snap").await.unwrap().unwrap();
        assert_eq!(app.environments[0].id, staging);
        assert_eq!(
            restored.config_vars(&staging).await.unwrap()["SECRET"],
            "s3cret"
        );
        let releases = restored.list_releases(&staging).await.unwrap();
        assert_eq!(releases.len(), 1);
        assert_eq!(releases[0].id, release.id);
        // A database that holds anything is refused, and keeps what it holds.
        let again = doppel_store::restore_snapshot(&t.url, info.backend, &file).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert!(restored.app("snap").await.unwrap().is_some());
        // A snapshot of the other backend is refused too.
        let other = if info.backend == "sqlite" {
            "postgres"
        } else {
            "sqlite"
        };
        assert!(doppel_store::restore_snapshot(&t.url, other, &file)
            .await
            .is_err());
        restored.close().await;
    };
    let result = tokio::spawn(outcome).await;
    target.cleanup().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn rebuilt_images_replace_the_old_id_everywhere(db: Arc<Db>) {
    let store = db.store().await;
    let (_, staging, production) = app_with_envs(&store, "rebuilt").await;
    let build = store
        .create_build(&staging, &"a".repeat(40), None)
        .await
        .unwrap();
    let outcome = BuildOutcome::Succeeded {
        image_id: "sha256:abc".into(),
        image_kind: ImageKind::Buildpack,
        process_types: web_types(),
        buildpack: None,
        stack: "debian-testing".into(),
        size_bytes: 1,
    };
    store.finish_build(&build.id, &outcome, "").await.unwrap();
    let mut new = new_release(&staging, ReleaseStatus::Succeeded);
    new.build_id = Some(build.id.clone());
    store.create_release(&new).await.unwrap();
    store
        .create_release(&new_release(&production, ReleaseStatus::Succeeded))
        .await
        .unwrap();
    let other = NewRelease {
        image_id: "sha256:other".into(),
        ..new_release(&staging, ReleaseStatus::Failed)
    };
    store.create_release(&other).await.unwrap();
    assert_eq!(
        store
            .replace_image_id("sha256:abc", "sha256:new")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .current_release(&production)
            .await
            .unwrap()
            .unwrap()
            .image_id,
        "sha256:new"
    );
    assert_eq!(
        store
            .build(&build.id)
            .await
            .unwrap()
            .unwrap()
            .image_id
            .as_deref(),
        Some("sha256:new")
    );
    let images: Vec<String> = store
        .list_releases(&staging)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.image_id)
        .collect();
    assert!(images.contains(&"sha256:other".to_string()), "{images:?}");
    assert!(store.replace_image_id("", "x").await.is_err());
}

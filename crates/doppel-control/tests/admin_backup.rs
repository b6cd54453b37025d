//! `admin:backup` and `admin:restore` on a real SQLite store in temporary data directories:
//! what the archive holds (and does not), its mode, a restore that brings the state back
//! readable with the restored key, and the refusals that change nothing.

use doppel_control::admin::archive::{self, ArchiveWriter, Manifest, FORMAT};
use doppel_control::admin::{backup::backup, restore::restore, AdminError};
use doppel_control::secrets;
use doppel_store::Store;
use doppel_types::AppName;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const SECRET: &str = "postgres://user:hunter2@db/app";

fn url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("doppel.db").display())
}

/// A data directory with a key, a store holding one app with a secret config var, a CA file,
/// the admin token and one repository; the store stays open, as a running server's would.
async fn installation(dir: &Path) -> anyhow::Result<(Store, String)> {
    std::fs::create_dir_all(dir)?;
    let key = secrets::load_or_create_master_key(dir)?;
    secrets::load_or_create_instance_id(dir)?;
    let store = Store::open(&url(dir), key).await?;
    let (admin, token) = store
        .ensure_admin("admin@localhost")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    secrets::write_private(&dir.join("admin-token"), token.as_bytes())?;
    std::fs::write(dir.join("ca.pem"), "-----BEGIN CERTIFICATE-----\n")?;
    let app = store
        .create_app(&AppName::parse("shop")?, &admin.id, "debian-testing")
        .await?;
    let staging = app.environments[0].id.clone();
    let vars = BTreeMap::from([("DATABASE_URL".to_string(), Some(SECRET.to_string()))]);
    store.set_config_vars(&staging, &vars).await?;
    let repo = dir.join("repos/shop-staging.git/refs/heads");
    std::fs::create_dir_all(&repo)?;
    std::fs::write(
        repo.join("main"),
        "0123456789abcdef0123456789abcdef01234567\n",
    )?;
    std::fs::create_dir_all(dir.join("repos/shop-staging.git/objects/pack"))?;
    std::fs::create_dir_all(dir.join("cache/env"))?;
    std::fs::write(dir.join("cache/env/big"), "cache")?;
    Ok((store, staging))
}

fn archive_text(file: &Path) -> anyhow::Result<String> {
    let mut text = String::new();
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(file)?);
    let mut bytes = Vec::new();
    gz.read_to_end(&mut bytes)?;
    text.push_str(&String::from_utf8_lossy(&bytes));
    Ok(text)
}

#[tokio::test]
async fn a_backup_restores_into_an_empty_directory_with_its_secrets_readable() -> anyhow::Result<()>
{
    let tmp = tempfile::tempdir()?;
    let live = tmp.path().join("live");
    let (store, staging) = installation(&live).await?;
    let file = tmp.path().join("doppel.backup.tgz");
    let manifest = backup(&live, &url(&live), &file).await?;

    let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        manifest.schema_version,
        doppel_store::latest_schema_version()
    );
    assert_eq!(manifest.store_backend, "sqlite");
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for want in [
        "store/doppel.db",
        "data/master.key",
        "data/admin-token",
        "data/ca.pem",
        "data/instance-id",
        "data/repos/shop-staging.git/refs/heads/main",
    ] {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    assert!(!paths.iter().any(|p| p.contains("cache")), "{paths:?}");
    let manifest_json = serde_json::to_string(&manifest)?;
    let key_hex = std::fs::read_to_string(live.join("master.key"))?;
    let token = std::fs::read_to_string(live.join("admin-token"))?;
    for secret in [SECRET, key_hex.trim(), token.trim()] {
        assert!(
            !manifest_json.contains(secret),
            "the manifest shows a secret"
        );
    }
    // Config values stay encrypted inside the archive's store.
    assert!(!archive_text(&file)?.contains(SECRET));

    let restored = tmp.path().join("restored");
    restore(&file, &restored, &url(&restored)).await?;
    for name in ["master.key", "admin-token", "ca.pem", "instance-id"] {
        assert_eq!(
            std::fs::read(live.join(name))?,
            std::fs::read(restored.join(name))?,
            "{name}"
        );
    }
    let key_mode = std::fs::metadata(restored.join("master.key"))?
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(key_mode, 0o600);
    assert!(restored
        .join("repos/shop-staging.git/refs/heads/main")
        .is_file());
    let key = secrets::load_or_create_master_key(&restored)?;
    let again = Store::open(&url(&restored), key).await?;
    assert_eq!(again.config_vars(&staging).await?["DATABASE_URL"], SECRET);
    assert!(again.app("shop").await?.is_some());
    again.close().await;
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn a_non_empty_directory_is_refused_and_left_alone() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let live = tmp.path().join("live");
    let (store, _) = installation(&live).await?;
    let file = tmp.path().join("b.tgz");
    backup(&live, &url(&live), &file).await?;
    let target = tmp.path().join("busy");
    std::fs::create_dir_all(&target)?;
    std::fs::write(target.join("notes"), "mine")?;
    let err = restore(&file, &target, &url(&target)).await.err();
    assert!(matches!(err, Some(AdminError::NotEmpty(_))), "{err:?}");
    let left: Vec<_> = std::fs::read_dir(&target)?.collect();
    assert_eq!(left.len(), 1);
    assert_eq!(std::fs::read_to_string(target.join("notes"))?, "mine");
    // Restoring over the live installation is refused the same way.
    assert!(matches!(
        restore(&file, &live, &url(&live)).await,
        Err(AdminError::NotEmpty(_))
    ));
    store.close().await;
    Ok(())
}

fn manifest(schema_version: i64) -> Manifest {
    Manifest {
        format: FORMAT,
        doppel_version: "99.0.0".into(),
        schema_version,
        store_backend: "sqlite".into(),
        created_at: "2030-01-01T00:00:00Z".into(),
        instance_id: "abc".into(),
        files: Vec::new(),
    }
}

#[tokio::test]
async fn a_backup_from_a_newer_schema_is_refused_before_anything_changes() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let db = tmp.path().join("db");
    std::fs::write(&db, "not really a database")?;
    let file = tmp.path().join("newer.tgz");
    let mut writer = ArchiveWriter::create(&file)?;
    writer.add_file("store/doppel.db", &db)?;
    writer.finish(manifest(doppel_store::latest_schema_version() + 1))?;
    let target = tmp.path().join("fresh");
    let err = restore(&file, &target, &url(&target)).await.err();
    match err {
        Some(AdminError::NewerSchema { version, .. }) => assert_eq!(version, "99.0.0"),
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let message = restore(&file, &target, &url(&target))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("install doppel 99.0.0 or later"),
        "{message}"
    );
    assert!(
        !target.exists(),
        "the refused restore made the data directory"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".doppel-restore-")
        })
        .collect();
    assert!(leftovers.is_empty(), "scratch directories left behind");
    Ok(())
}

/// Rewrites the archive with one file's content changed but the manifest kept.
fn tamper(file: &Path, out: &Path, victim: &str) -> anyhow::Result<()> {
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(file)?));
    let gz =
        flate2::write::GzEncoder::new(std::fs::File::create(out)?, flate2::Compression::fast());
    let mut output = tar::Builder::new(gz);
    for entry in input.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        if path == victim {
            data[0] ^= 1;
        }
        let mut header = entry.header().clone();
        output.append_data(&mut header, &path, data.as_slice())?;
    }
    output.into_inner()?.finish()?;
    Ok(())
}

#[tokio::test]
async fn a_damaged_archive_is_refused() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let live = tmp.path().join("live");
    let (store, _) = installation(&live).await?;
    let file = tmp.path().join("b.tgz");
    backup(&live, &url(&live), &file).await?;
    let bad = tmp.path().join("bad.tgz");
    tamper(&file, &bad, "data/ca.pem")?;
    let target = tmp.path().join("fresh");
    let err = restore(&bad, &target, &url(&target)).await.err();
    assert!(
        matches!(err, Some(AdminError::Checksum(ref p)) if p == "data/ca.pem"),
        "{err:?}"
    );
    assert!(!target.exists());
    // Unpacking the intact archive by hand gives back its manifest.
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch)?;
    let manifest = archive::unpack(&file, &scratch)?;
    assert!(manifest.files.iter().any(|f| f.path == "data/ca.pem"));
    store.close().await;
    Ok(())
}

#[test]
fn a_backup_of_another_format_is_refused() {
    let mut m = manifest(1);
    m.format = FORMAT + 1;
    assert!(matches!(
        doppel_control::admin::restore::check(&m),
        Err(AdminError::Format { .. })
    ));
    assert!(doppel_control::admin::restore::check(&manifest(1)).is_ok());
}

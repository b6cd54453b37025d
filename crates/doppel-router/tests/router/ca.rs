//! The platform CA persists across starts and keeps its key private.

use std::os::unix::fs::PermissionsExt;

use doppel_router::PlatformCa;

#[test]
fn ca_persists_and_key_is_0600() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = PlatformCa::load_or_create(dir.path(), "localhost")?;
    assert!(first.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let mode = std::fs::metadata(dir.path().join("ca-key.pem"))?
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca.pem"))?,
        first.ca_pem()
    );

    let second = PlatformCa::load_or_create(dir.path(), "localhost")?;
    assert_eq!(first.ca_pem(), second.ca_pem());

    // A key left readable by others is tightened on load.
    std::fs::set_permissions(
        dir.path().join("ca-key.pem"),
        std::fs::Permissions::from_mode(0o644),
    )?;
    let third = PlatformCa::load_or_create(dir.path(), "localhost")?;
    assert_eq!(first.ca_pem(), third.ca_pem());
    let mode = std::fs::metadata(dir.path().join("ca-key.pem"))?
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    Ok(())
}

#[test]
fn ca_with_missing_key_is_an_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    PlatformCa::load_or_create(dir.path(), "localhost")?;
    std::fs::remove_file(dir.path().join("ca-key.pem"))?;
    assert!(PlatformCa::load_or_create(dir.path(), "localhost").is_err());
    Ok(())
}

#[test]
fn ca_with_foreign_key_is_an_error() -> anyhow::Result<()> {
    let a = tempfile::tempdir()?;
    let b = tempfile::tempdir()?;
    PlatformCa::load_or_create(a.path(), "localhost")?;
    PlatformCa::load_or_create(b.path(), "localhost")?;
    std::fs::copy(b.path().join("ca-key.pem"), a.path().join("ca-key.pem"))?;
    let err = PlatformCa::load_or_create(a.path(), "localhost").unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    Ok(())
}

//! Files holding secrets in the data directory: the master key that encrypts config values,
//! and the admin token written once at first start. Both are created with mode 0600.

use rand::RngCore;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Loads `<data-dir>/master.key` (32 random bytes, hex), creating it on first start.
pub fn load_or_create_master_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join("master.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .map_err(|e| anyhow::anyhow!("{} is not hex: {e}", path.display()))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            anyhow::anyhow!(
                "{} must hold 32 bytes; restore it from backup",
                path.display()
            )
        })?;
        return Ok(key);
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    write_private(&path, hex::encode(key).as_bytes())?;
    Ok(key)
}

/// Loads `<data-dir>/instance-id`, the label value that marks this installation's
/// containers, creating it on first start.
pub fn load_or_create_instance_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("instance-id");
    if path.exists() {
        let id = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        return Ok(id.trim().to_string());
    }
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let id = hex::encode(bytes);
    write_private(&path, id.as_bytes())?;
    Ok(id)
}

/// Writes `contents` to `path` with mode 0600, replacing any earlier file atomically.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", tmp.display()))?;
    file.write_all(contents)
        .and_then(|_| file.sync_all())
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("renaming to {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn master_key_is_created_once_with_mode_0600() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let first = load_or_create_master_key(dir.path())?;
        let second = load_or_create_master_key(dir.path())?;
        assert_eq!(first, second);
        let mode = std::fs::metadata(dir.path().join("master.key"))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        Ok(())
    }
}

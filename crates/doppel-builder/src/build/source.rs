//! The pushed tree: what it contains (a root `Dockerfile`, a `Procfile`), and the tars the
//! build container receives (the tree owned by `heroku`, the config env dir).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use super::BuildError;
use crate::tarball;

/// What the build decisions need to know about the pushed tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SourceInfo {
    /// A regular file `Dockerfile` at the root.
    pub has_dockerfile: bool,
    /// The root `Procfile`'s bytes, if any.
    pub procfile: Option<Vec<u8>>,
}

/// Scans the source tar once.
pub(crate) fn inspect(source_tar: &Path) -> Result<SourceInfo, BuildError> {
    let ctx = || format!("reading the pushed tree {}", source_tar.display());
    let file = File::open(source_tar).map_err(BuildError::io(ctx()))?;
    let mut archive = tar::Archive::new(file);
    let mut info = SourceInfo::default();
    for entry in archive.entries().map_err(BuildError::io(ctx()))? {
        let mut entry = entry.map_err(BuildError::io(ctx()))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = tarball::clean(&entry.path().map_err(BuildError::io(ctx()))?);
        match path.as_str() {
            "Dockerfile" => info.has_dockerfile = true,
            "Procfile" => {
                info.procfile = Some(
                    tarball::read_bounded(&mut entry, super::MAX_PROCFILE_BYTES)
                        .map_err(|e| procfile_error(e, ctx()))?,
                );
            }
            _ => {}
        }
    }
    Ok(info)
}

/// A Procfile past the limit, or an I/O error reading it.
pub(crate) fn procfile_error(e: std::io::Error, context: String) -> BuildError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<tarball::TooLarge>())
    {
        BuildError::FileTooLarge {
            file: "Procfile",
            limit: super::MAX_PROCFILE_BYTES,
            advice:
                "a Procfile names each process type on one line, such as `web: gunicorn app:app`",
        }
    } else {
        BuildError::io(context)(e)
    }
}

/// Writes the source tar with every entry owned by 1000:1000 to `dest`.
pub(crate) fn owned_by_heroku(source_tar: &Path, dest: &Path) -> Result<(), BuildError> {
    tarball::rewrite_owner(source_tar, dest).map_err(BuildError::io("preparing the pushed tree"))
}

/// A tar of `env/` with one file per config var (mode 0600, owned by 1000:1000), to upload
/// at `/tmp`. Values are never logged.
pub(crate) fn env_dir(config: &BTreeMap<String, String>) -> Result<Vec<u8>, BuildError> {
    let mut b = tar::Builder::new(Vec::new());
    tarball::append_dir(&mut b, "env", 0o700).map_err(BuildError::io("preparing config vars"))?;
    for (key, value) in config {
        if key.is_empty() || key.contains('/') || key == "." || key == ".." {
            continue;
        }
        tarball::append_file(&mut b, &format!("env/{key}"), value.as_bytes(), 0o600)
            .map_err(BuildError::io("preparing config vars"))?;
    }
    b.into_inner()
        .map_err(BuildError::io("preparing config vars"))
}

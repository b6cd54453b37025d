//! The backup archive: a gzip-compressed tar written 0600, holding `store/<snapshot>`,
//! `data/<file>` for the data directory's keys and trees, and `manifest.json` last, whose
//! SHA-256 of every entry is checked before a restore uses any of them. The manifest names
//! files and versions only: no secret value, no token.

use super::AdminError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// The archive layout this build writes and reads.
pub const FORMAT: u32 = 1;
/// The manifest's name inside the archive.
pub const MANIFEST: &str = "manifest.json";

/// What a backup holds and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub doppel_version: String,
    /// The newest store migration applied when the snapshot was taken.
    pub schema_version: i64,
    /// `sqlite` or `postgres`: what `store/` holds.
    pub store_backend: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The installation whose containers carry `doppel.instance=<id>`.
    pub instance_id: String,
    pub files: Vec<FileEntry>,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Writes the archive's entries, hashing each; `finish` appends the manifest.
pub struct ArchiveWriter {
    tar: tar::Builder<flate2::write::GzEncoder<File>>,
    files: Vec<FileEntry>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl ArchiveWriter {
    /// Starts `dest` (written as `dest.partial`, 0600, renamed into place by `finish`).
    pub fn create(dest: &Path) -> Result<ArchiveWriter, AdminError> {
        let tmp = partial(dest);
        let file = File::options()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(AdminError::io("creating", &tmp))?;
        // An earlier file of that name may have had wider permissions.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(AdminError::io("setting permissions on", &tmp))?;
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        Ok(ArchiveWriter {
            tar: tar::Builder::new(gz),
            files: Vec::new(),
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// Adds the regular file `source` as `path`, keeping its mode.
    pub fn add_file(&mut self, path: &str, source: &Path) -> Result<(), AdminError> {
        let file = File::open(source).map_err(AdminError::io("opening", source))?;
        let meta = file.metadata().map_err(AdminError::io("reading", source))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(meta.len());
        header.set_mode(meta.permissions().mode() & 0o7777);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        let mut reader = Hashing::new(file.take(meta.len()));
        self.tar
            .append_data(&mut header, path, &mut reader)
            .map_err(AdminError::io("archiving", source))?;
        if reader.bytes != meta.len() {
            return Err(AdminError::Changed(source.to_path_buf()));
        }
        self.files.push(FileEntry {
            path: path.to_string(),
            bytes: reader.bytes,
            sha256: hex::encode(reader.hasher.finalize()),
        });
        Ok(())
    }

    /// Adds every regular file under `dir` as `prefix/<relative path>` (symbolic links and
    /// other special files are skipped with a warning).
    pub fn add_tree(&mut self, prefix: &str, dir: &Path) -> Result<(), AdminError> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(AdminError::io("listing", dir))?
            .collect::<Result<_, _>>()
            .map_err(AdminError::io("listing", dir))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                tracing::warn!(path = %path.display(), "skipping a file whose name is not UTF-8");
                continue;
            };
            let kind = entry
                .file_type()
                .map_err(AdminError::io("reading", &path))?;
            let inner = format!("{prefix}/{name}");
            if kind.is_dir() {
                self.add_dir(&inner)?;
                self.add_tree(&inner, &path)?;
            } else if kind.is_file() {
                self.add_file(&inner, &path)?;
            } else {
                tracing::warn!(path = %path.display(), "skipping a file that is not a regular file");
            }
        }
        Ok(())
    }

    /// Adds a directory entry, so that empty directories come back (git needs its `objects/`
    /// and `refs/` even when they hold nothing).
    fn add_dir(&mut self, path: &str) -> Result<(), AdminError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_mode(0o755);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Directory);
        self.tar
            .append_data(&mut header, path, std::io::empty())
            .map_err(AdminError::io("archiving", Path::new(path)))
    }

    /// Appends the manifest (with the checksums of everything before it), flushes, and puts
    /// the archive in place.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<Manifest, AdminError> {
        manifest.files = std::mem::take(&mut self.files);
        let json = serde_json::to_vec_pretty(&manifest).map_err(AdminError::Manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar
            .append_data(&mut header, MANIFEST, json.as_slice())
            .map_err(AdminError::io("archiving", Path::new(MANIFEST)))?;
        let gz = self
            .tar
            .into_inner()
            .map_err(AdminError::io("finishing", &self.tmp))?;
        let file = gz
            .finish()
            .map_err(AdminError::io("finishing", &self.tmp))?;
        file.sync_all()
            .map_err(AdminError::io("syncing", &self.tmp))?;
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(AdminError::io("renaming to", &self.dest))?;
        Ok(manifest)
    }
}

/// Unpacks `archive` into `into` (an empty directory), then checks every file against the
/// manifest: a missing, extra, changed or unsafe entry is refused.
pub fn unpack(archive: &Path, into: &Path) -> Result<Manifest, AdminError> {
    let file = File::open(archive).map_err(AdminError::io("opening", archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut seen: Vec<FileEntry> = Vec::new();
    let mut manifest: Option<Manifest> = None;
    let entries = tar.entries().map_err(AdminError::io("reading", archive))?;
    for entry in entries {
        let mut entry = entry.map_err(AdminError::io("reading", archive))?;
        let name = entry
            .path()
            .map_err(AdminError::io("reading", archive))?
            .to_string_lossy()
            .into_owned();
        if name == MANIFEST {
            let mut json = Vec::new();
            entry
                .read_to_end(&mut json)
                .map_err(AdminError::io("reading", Path::new(MANIFEST)))?;
            manifest = Some(serde_json::from_slice(&json).map_err(AdminError::Manifest)?);
            continue;
        }
        let dest = safe_join(into, &name)?;
        if entry.header().entry_type().is_dir() {
            std::fs::create_dir_all(&dest).map_err(AdminError::io("creating", &dest))?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(AdminError::io("creating", parent))?;
        }
        let mode = entry.header().mode().unwrap_or(0o600) & 0o7777;
        let mut out = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&dest)
            .map_err(AdminError::io("creating", &dest))?;
        let mut reader = Hashing::new(&mut entry);
        std::io::copy(&mut reader, &mut out).map_err(AdminError::io("writing", &dest))?;
        out.flush().map_err(AdminError::io("writing", &dest))?;
        out.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(AdminError::io("setting permissions on", &dest))?;
        seen.push(FileEntry {
            path: name,
            bytes: reader.bytes,
            sha256: hex::encode(reader.hasher.finalize()),
        });
    }
    let manifest = manifest.ok_or(AdminError::NoManifest)?;
    verify(&manifest, &seen)?;
    Ok(manifest)
}

/// The manifest's list is exactly what the archive held, byte for byte.
fn verify(manifest: &Manifest, seen: &[FileEntry]) -> Result<(), AdminError> {
    for want in &manifest.files {
        match seen.iter().find(|s| s.path == want.path) {
            Some(got) if got == want => {}
            Some(_) => return Err(AdminError::Checksum(want.path.clone())),
            None => return Err(AdminError::Missing(want.path.clone())),
        }
    }
    if let Some(extra) = seen
        .iter()
        .find(|s| !manifest.files.iter().any(|w| w.path == s.path))
    {
        return Err(AdminError::Checksum(extra.path.clone()));
    }
    Ok(())
}

/// `root/name`, refusing absolute paths and `..`.
fn safe_join(root: &Path, name: &str) -> Result<PathBuf, AdminError> {
    let path = Path::new(name);
    let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(AdminError::UnsafePath(name.to_string()));
    }
    Ok(root.join(path))
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Where [`ArchiveWriter::create`] writes until the archive is complete.
pub(crate) fn partial(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

//! Small tar helpers: single-file archives, reading one entry, rewriting owners, finding entries.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// An entry's path without a leading `./` or `/`.
pub(crate) fn clean(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

fn header(size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(1000);
    h.set_gid(1000);
    h.set_mtime(0);
    h.set_entry_type(kind);
    h
}

/// Appends a regular file owned by 1000:1000.
pub(crate) fn append_file<W: io::Write>(
    b: &mut tar::Builder<W>,
    name: &str,
    data: &[u8],
    mode: u32,
) -> io::Result<()> {
    let mut h = header(data.len() as u64, mode, tar::EntryType::Regular);
    b.append_data(&mut h, name, data)
}

/// Appends a directory owned by 1000:1000.
pub(crate) fn append_dir<W: io::Write>(
    b: &mut tar::Builder<W>,
    name: &str,
    mode: u32,
) -> io::Result<()> {
    let mut h = header(0, mode, tar::EntryType::Directory);
    b.append_data(&mut h, name, io::empty())
}

/// Writes a tar at `path` holding one file.
pub(crate) fn write_single_file(path: &Path, name: &str, data: &[u8], mode: u32) -> io::Result<()> {
    let mut b = tar::Builder::new(File::create(path)?);
    append_file(&mut b, name, data, mode)?;
    b.into_inner()?.sync_all()
}

/// The contents of the first regular file whose cleaned path is `name`, if any.
pub(crate) fn read_entry(
    tar_path: &Path,
    name: &str,
    max_bytes: u64,
) -> io::Result<Option<Vec<u8>>> {
    let mut archive = tar::Archive::new(File::open(tar_path)?);
    for entry in archive.entries()? {
        let entry = entry?;
        if entry.header().entry_type().is_file() && clean(&entry.path()?) == name {
            return read_bounded(entry, max_bytes).map(Some);
        }
    }
    Ok(None)
}

/// Reads at most `max_bytes` of `reader`; more is an `InvalidData` error whose message says
/// how large the limit is (nothing past the limit is held in memory).
pub(crate) fn read_bounded(reader: impl io::Read, max_bytes: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    reader.take(max_bytes + 1).read_to_end(&mut data)?;
    if data.len() as u64 > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            TooLarge(max_bytes),
        ));
    }
    Ok(data)
}

/// The error [`read_bounded`] wraps: the limit that was passed.
#[derive(Debug)]
pub(crate) struct TooLarge(pub u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "larger than {} bytes", self.0)
    }
}

impl std::error::Error for TooLarge {}

/// Copies the tar at `src` to `dest` with every entry owned by 1000:1000 (`heroku`).
pub(crate) fn rewrite_owner(src: &Path, dest: &Path) -> io::Result<()> {
    let mut archive = tar::Archive::new(File::open(src)?);
    let mut out = tar::Builder::new(File::create(dest)?);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut h = entry.header().clone();
        h.set_uid(1000);
        h.set_gid(1000);
        // Long names and links need the extension-aware path, not the raw header field.
        let path = entry.path()?.into_owned();
        match h.entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()?
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                out.append_link(&mut h, &path, &target)?;
            }
            tar::EntryType::XGlobalHeader
            | tar::EntryType::XHeader
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink => {}
            _ => out.append_data(&mut h, &path, &mut entry)?,
        }
    }
    out.into_inner()?.sync_all()
}

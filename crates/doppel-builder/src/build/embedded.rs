//! The repository's `buildpacks/` directory, embedded at compile time by `build.rs`.

use std::io::Read;

use super::BuildError;

/// Tar of `buildpacks/` (modes kept, owned by 1000:1000), uploaded at `/tmp/buildpacks`.
pub(crate) const BUILDPACKS_TAR: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/buildpacks.tar"));

/// Path of the dyno launcher inside the buildpacks tree.
const LAUNCHER: &str = "bin/doppel-launch";

/// A tar holding `buildpacks.tar` under the directory `buildpacks/`.
pub(crate) fn buildpacks_upload() -> Result<Vec<u8>, BuildError> {
    let io = BuildError::io("embedding buildpacks");
    let mut out = tar::Builder::new(Vec::new());
    crate::tarball::append_dir(&mut out, "buildpacks", 0o755)
        .map_err(BuildError::io("embedding buildpacks"))?;
    let mut archive = tar::Archive::new(BUILDPACKS_TAR);
    let entries = archive
        .entries()
        .map_err(BuildError::io("reading embedded buildpacks"))?;
    for entry in entries {
        let mut entry = entry.map_err(BuildError::io("reading embedded buildpacks"))?;
        let mut h = entry.header().clone();
        let path = std::path::Path::new("buildpacks").join(
            entry
                .path()
                .map_err(BuildError::io("reading embedded buildpacks"))?,
        );
        if h.entry_type().is_symlink() {
            let target = entry
                .link_name()
                .map_err(BuildError::io("reading embedded buildpacks"))?
                .map(|t| t.into_owned())
                .unwrap_or_default();
            out.append_link(&mut h, &path, &target)
                .map_err(BuildError::io("embedding buildpacks"))?;
        } else {
            out.append_data(&mut h, &path, &mut entry)
                .map_err(BuildError::io("embedding buildpacks"))?;
        }
    }
    out.into_inner().map_err(io)
}

/// A tar holding the launcher as `doppel-launch` (mode 0755), to upload at `/usr/local/bin`.
pub(crate) fn launcher_upload() -> Result<Vec<u8>, BuildError> {
    let mut archive = tar::Archive::new(BUILDPACKS_TAR);
    let entries = archive
        .entries()
        .map_err(BuildError::io("reading embedded buildpacks"))?;
    for entry in entries {
        let mut entry = entry.map_err(BuildError::io("reading embedded buildpacks"))?;
        let is_launcher = entry
            .path()
            .map(|p| crate::tarball::clean(&p) == LAUNCHER)
            .unwrap_or(false);
        if is_launcher {
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(BuildError::io("reading the launcher"))?;
            let mut out = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o755);
            h.set_uid(0);
            h.set_gid(0);
            h.set_entry_type(tar::EntryType::Regular);
            out.append_data(&mut h, "doppel-launch", data.as_slice())
                .map_err(BuildError::io("packing the launcher"))?;
            return out
                .into_inner()
                .map_err(BuildError::io("packing the launcher"));
        }
    }
    Err(BuildError::Io {
        context: "the dyno launcher".to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "buildpacks/bin/doppel-launch was not embedded at compile time",
        ),
    })
}

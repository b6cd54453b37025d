//! Embeds the repository's `buildpacks/` directory as a tar (modes preserved, owned by
//! 1000:1000) so the server binary is self-contained.

use std::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};

fn add_dir(b: &mut tar::Builder<File>, root: &Path, dir: &Path) -> Result<(), Box<dyn Error>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path.strip_prefix(root)?;
        let meta = std::fs::symlink_metadata(&path)?;
        let mut h = tar::Header::new_gnu();
        h.set_metadata(&meta);
        h.set_uid(1000);
        h.set_gid(1000);
        h.set_mtime(0);
        if meta.is_dir() {
            b.append_data(&mut h, rel, std::io::empty())?;
            add_dir(b, root, &path)?;
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            b.append_link(&mut h, rel, target)?;
        } else {
            b.append_data(&mut h, rel, File::open(&path)?)?;
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let src = manifest.join("../../buildpacks");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("buildpacks.tar");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut b = tar::Builder::new(File::create(&out)?);
    if src.is_dir() {
        add_dir(&mut b, &src, &src)?;
    }
    b.into_inner()?.sync_all()?;
    Ok(())
}

//! Repository hygiene, checked on every test run: every Rust file opens with a `//!` line
//! saying what it is for, and only the crates that own a dependency name it.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in ["crates", "tests"] {
        rust_files(&repo_root().join(top), &mut files);
    }
    files
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .map(|text| !text.starts_with("//!"))
                .unwrap_or(true)
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! line: {missing:?}");
}

/// Invariant 2 of ARCHITECTURE.md: only doppel-store names sqlx, only doppel-docker names bollard.
#[test]
fn only_the_owning_crates_name_sqlx_and_bollard() {
    for (needle, owner) in [("sqlx", "doppel-store"), ("bollard", "doppel-docker")] {
        let offenders: Vec<String> = all_rust_files()
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains(&format!("crates/{owner}/")))
            .filter(|p| {
                std::fs::read_to_string(p).is_ok_and(|text| {
                    text.contains(&format!("{needle}::")) || text.contains(&format!("use {needle}"))
                })
            })
            .map(|p| p.display().to_string())
            .collect();
        assert!(
            offenders.is_empty(),
            "{needle} named outside {owner}: {offenders:?}"
        );
    }
}

//! doppel's own backups: `doppel admin:backup FILE` ([`backup`]) and `doppel admin:restore
//! FILE` ([`restore`]), over one archive format ([`archive`]). Images are not in a backup:
//! a restored server rebuilds the ones its current releases need
//! ([`crate::workflows::rebuild`]).

pub mod archive;
pub mod backup;
pub mod restore;

use std::path::{Path, PathBuf};

/// Files of the data directory a backup carries when they exist (keys, CA, admin token,
/// instance id). None of them is ever logged or put in the manifest.
pub const DATA_FILES: &[&str] = &[
    "master.key",
    "admin-token",
    "ca.pem",
    "ca-key.pem",
    "instance-id",
];
/// Trees of the data directory a backup carries when they exist: the git repositories and
/// the add-ons' backups.
pub const DATA_TREES: &[&str] = &["repos", "backups"];

/// Why a backup or a restore stopped. Nothing is changed by a refusal.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Shown as `<op> <path>: <cause>` through the error chain (`{:#}`).
    #[error("{op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} changed while it was being backed up; run the backup again")]
    Changed(PathBuf),
    #[error("the backup's manifest is unreadable: {0}")]
    Manifest(#[source] serde_json::Error),
    #[error("the archive has no manifest.json: it is not a doppel backup, or it was cut short")]
    NoManifest,
    #[error("the archive's {0} does not match its manifest: the backup is damaged")]
    Checksum(String),
    #[error("the archive lacks {0}, which its manifest lists: the backup is damaged")]
    Missing(String),
    #[error("the archive holds an unsafe path {0:?}")]
    UnsafePath(String),
    #[error("the backup is in format {found}; this doppel reads format {supported}: restore it with a newer doppel")]
    Format { found: u32, supported: u32 },
    #[error("the backup was made by doppel {version} with store schema {found}, newer than this doppel's {supported}; install doppel {version} or later to restore it")]
    NewerSchema {
        version: String,
        found: i64,
        supported: i64,
    },
    #[error("the data directory {0} is not empty; restore into an empty (or missing) directory")]
    NotEmpty(PathBuf),
    #[error("the data directory {0} holds no master.key: is it a doppel data directory?")]
    NoKey(PathBuf),
    #[error("the store: {0}")]
    Store(#[from] doppel_store::StoreError),
    #[error(transparent)]
    DataDir(#[from] crate::datadir::DataDirError),
}

impl AdminError {
    pub(crate) fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AdminError {
        let path = path.to_path_buf();
        move |source| AdminError::Io { op, path, source }
    }
}

//! Building `git` commands with a clean environment.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use crate::GitError;

/// Environment variables that would redirect a git process to another repository or object store.
const SCRUBBED_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_PROTOCOL",
    "GIT_TRACE",
    "GIT_TRACE_PACKET",
];

/// `git` with `--git-dir=<git_dir>`-equivalent environment and none of the caller's GIT_* redirections.
pub(crate) fn git(git_dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("GIT_DIR", git_dir);
    cmd
}

/// `git` without a repository (for `init`, and for service commands that take the path as argument).
pub(crate) fn git_bare() -> Command {
    let mut cmd = Command::new("git");
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs a short git command to completion, mapping failure to [`GitError::GitFailed`].
pub(crate) async fn run(mut cmd: Command, args: &str) -> Result<Vec<u8>, GitError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd.output().await.map_err(|source| GitError::Spawn {
        args: args.to_owned(),
        source,
    })?;
    if !out.status.success() {
        return Err(GitError::GitFailed {
            args: args.to_owned(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(out.stdout)
}

//! Bare repository management: names, creation, hook installation and configuration.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::command::{git, git_bare, run};
use crate::GitError;

/// Configuration every doppel repository carries.
const CONFIG: &[(&str, &str)] = &[
    ("receive.fsckObjects", "true"),
    ("receive.denyNonFastForwards", "false"),
    ("receive.denyDeletes", "false"),
    ("receive.keepAlive", "5"),
    ("core.logAllRefUpdates", "true"),
];

/// Checks a repository name (the URL segment without `.git`).
pub(crate) fn validate_name(name: &str) -> Result<(), GitError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(GitError::InvalidRepoName(name.to_owned()))
    }
}

/// `<root>/<name>.git`.
pub(crate) fn repo_path(root: &Path, name: &str) -> Result<PathBuf, GitError> {
    validate_name(name)?;
    Ok(root.join(format!("{name}.git")))
}

/// The pre-receive script that execs `hook_command`.
pub(crate) fn hook_script(hook_command: &[String]) -> String {
    let argv: Vec<String> = hook_command.iter().map(|a| shell_quote(a)).collect();
    format!(
        "#!/bin/sh\n# Installed by doppel: hands the push to the doppel server.\nexec {} \"$@\"\n",
        argv.join(" ")
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Creates the bare repository if missing, installs the hook and sets the configuration.
/// Idempotent; callers serialize calls per repository.
pub(crate) async fn ensure(path: &Path, hook: &str) -> Result<(), GitError> {
    if !path.join("HEAD").is_file() {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| GitError::io("creating repos root", parent, e))?;
        }
        let mut cmd = git_bare();
        cmd.args(["init", "--bare", "--quiet", "--initial-branch=main"])
            .arg(path);
        run(cmd, "init --bare").await?;
        tracing::info!(path = %path.display(), "created git repository");
    }
    for (key, value) in CONFIG {
        let mut cmd = git(path);
        cmd.args(["config", key, value]);
        run(cmd, "config").await?;
    }
    install_hook(path, hook).await
}

async fn install_hook(path: &Path, hook: &str) -> Result<(), GitError> {
    let hooks = path.join("hooks");
    let target = hooks.join("pre-receive");
    if let Ok(existing) = tokio::fs::read_to_string(&target).await {
        if existing == hook {
            return Ok(());
        }
    }
    tokio::fs::create_dir_all(&hooks)
        .await
        .map_err(|e| GitError::io("creating hooks dir", &hooks, e))?;
    let tmp = hooks.join("pre-receive.doppel-tmp");
    tokio::fs::write(&tmp, hook)
        .await
        .map_err(|e| GitError::io("writing hook", &tmp, e))?;
    tokio::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .await
        .map_err(|e| GitError::io("chmod hook", &tmp, e))?;
    tokio::fs::rename(&tmp, &target)
        .await
        .map_err(|e| GitError::io("installing hook", &target, e))?;
    Ok(())
}

/// Removes the repository directory; a missing repository is not an error.
pub(crate) async fn remove(path: &Path) -> Result<(), GitError> {
    match tokio::fs::remove_dir_all(path).await {
        Ok(()) => {
            tracing::info!(path = %path.display(), "deleted git repository");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(GitError::io("deleting repository", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("my-app_1.x").is_ok());
        for bad in ["", ".git", "-x", "a/b", "a..b", "a b", "ü"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn script_quotes() {
        let s = hook_script(&["/bin/it's".into(), "git-hook".into()]);
        assert!(s.contains(r"exec '/bin/it'\''s' 'git-hook' "));
    }
}

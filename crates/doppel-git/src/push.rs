//! [`Push`] and [`RefUpdate`]: what a push handler is told about a push.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::command::git;
use crate::GitError;

/// The all-zero object id git uses for "no object" (ref creation or deletion).
pub const ZERO_OID: &str = "0000000000000000000000000000000000000000";

/// One `<old> <new> <ref>` command of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// Previous value, 40 hex ([`ZERO_OID`] when the ref is created).
    pub old: String,
    /// New value, 40 hex ([`ZERO_OID`] when the ref is deleted).
    pub new: String,
    /// Full ref name, e.g. `refs/heads/main`.
    pub refname: String,
}

impl RefUpdate {
    /// Parses one pre-receive stdin line `<old> SP <new> SP <ref>`.
    pub fn parse_line(line: &str) -> Option<RefUpdate> {
        let mut parts = line.trim_end_matches(['\r', '\n']).splitn(3, ' ');
        let old = parts.next()?;
        let new = parts.next()?;
        let refname = parts.next()?;
        if !is_oid(old) || !is_oid(new) || refname.is_empty() {
            return None;
        }
        Some(RefUpdate {
            old: old.to_owned(),
            new: new.to_owned(),
            refname: refname.to_owned(),
        })
    }

    /// True when the ref did not exist before.
    pub fn is_create(&self) -> bool {
        self.old == ZERO_OID
    }

    /// True when the push deletes the ref.
    pub fn is_delete(&self) -> bool {
        self.new == ZERO_OID
    }

    /// The branch name for `refs/heads/<branch>`.
    pub fn branch(&self) -> Option<&str> {
        self.refname.strip_prefix("refs/heads/")
    }
}

/// True for 40 lowercase hex digits.
pub(crate) fn is_oid(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A push in pre-receive position: its ref updates and read access to its (quarantined) objects.
#[derive(Debug, Clone)]
pub struct Push {
    /// Repository name without `.git`.
    pub repo: String,
    /// The ref updates, in the order git reported them.
    pub updates: Vec<RefUpdate>,
    /// Who pushed, as [`crate::PushHandler::authorize`] named them.
    pub pusher: Option<String>,
    git_dir: PathBuf,
    object_env: Vec<(String, String)>,
}

impl Push {
    /// A push against `git_dir` whose objects are already in the repository (no quarantine).
    /// The server builds pushes itself; this is for tests of handlers.
    pub fn new(
        repo: impl Into<String>,
        git_dir: impl Into<PathBuf>,
        updates: Vec<RefUpdate>,
    ) -> Push {
        Push {
            repo: repo.into(),
            updates,
            pusher: None,
            git_dir: git_dir.into(),
            object_env: Vec::new(),
        }
    }

    /// The same push, attributed to `pusher`.
    pub fn with_pusher(mut self, pusher: Option<String>) -> Push {
        self.pusher = pusher;
        self
    }

    pub(crate) fn with_object_env(mut self, env: Vec<(String, String)>) -> Push {
        self.object_env = env;
        self
    }

    /// The bare repository the push goes to.
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// Writes `git archive --format=tar <commit>` to `dest`. Works while the pushed objects are
    /// still in quarantine.
    pub async fn archive(&self, commit: &str, dest: &Path) -> Result<(), GitError> {
        if !is_oid(commit) || commit == ZERO_OID {
            return Err(GitError::InvalidOid(commit.to_owned()));
        }
        let file =
            std::fs::File::create(dest).map_err(|e| GitError::io("creating archive", dest, e))?;
        let mut cmd = git(&self.git_dir);
        cmd.args(["archive", "--format=tar", commit])
            .envs(self.object_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::piped());
        let args = format!("archive {commit}");
        // `output()` would replace the file with a pipe; spawn keeps the configured stdio.
        let child = cmd.spawn().map_err(|source| GitError::Spawn {
            args: args.clone(),
            source,
        })?;
        let out = child
            .wait_with_output()
            .await
            .map_err(|source| GitError::Spawn {
                args: args.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(GitError::GitFailed {
                args,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn archive_writes_tar() {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path().join("r.git");
        let work = dir.path().join("w");
        let sh = |args: &[&str], cwd: &Path| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(cwd)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        sh(
            &["init", "-q", "--bare", git_dir.to_str().unwrap()],
            dir.path(),
        );
        sh(
            &["init", "-q", "-b", "main", work.to_str().unwrap()],
            dir.path(),
        );
        std::fs::write(work.join("Procfile"), "web: x\n").unwrap();
        sh(&["add", "-A"], &work);
        sh(
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "x",
            ],
            &work,
        );
        sh(&["push", "-q", git_dir.to_str().unwrap(), "main"], &work);
        let head = sh(&["rev-parse", "HEAD"], &work);
        let push = Push::new("r", &git_dir, vec![]);
        let tar = dir.path().join("out.tar");
        push.archive(&head, &tar).await.unwrap();
        let bytes = std::fs::read(&tar).unwrap();
        assert!(bytes.len() >= 1024, "{}", bytes.len());
        assert!(bytes.windows(8).any(|w| w == b"Procfile"));
        assert!(push.archive("nothex", &tar).await.is_err());
    }
}

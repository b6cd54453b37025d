//! The [`PushHandler`] trait: doppel's policy hooks into git requests.

use crate::{GitAccessError, ProgressSink, Push};

/// What the control plane plugs into [`crate::GitService`].
#[async_trait::async_trait]
pub trait PushHandler: Send + Sync + 'static {
    /// Called first for every git request. `password` is the Basic-auth password (any
    /// username); `write` is true for receive-pack (push), false for upload-pack (clone/fetch).
    /// `Ok(Some(id))` names who is pushing; it reaches [`Push::pusher`].
    async fn authorize(
        &self,
        repo: &str,
        password: Option<&str>,
        write: bool,
    ) -> Result<Option<String>, GitAccessError>;

    /// Called in pre-receive position once per push (never for git's probe POST), after the
    /// pack is received and checked but before any ref changes. Lines written to `out` reach
    /// the client as `remote: <line>`. `Err(reason)` rejects every ref of the push (the reason
    /// is printed first; git shows `pre-receive hook declined`).
    async fn pre_receive(&self, push: Push, out: ProgressSink) -> Result<(), String>;
}

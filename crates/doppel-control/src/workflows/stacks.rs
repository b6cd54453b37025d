//! Stacks as the control plane sees them: which stack an environment's next build uses, and
//! making a stack's images on demand (a build on a stack that was never made waits for it,
//! and the pusher sees the progress).

use crate::state::AppState;
use doppel_builder::{StackError, StackImages, StackSpec, StackStatus};
use doppel_git::ProgressSink;
use doppel_store::Environment;
use tokio::sync::mpsc;

/// The stack `env`'s next build runs on.
///
/// Environments do not record a stack yet (`build_stack` / `stack:set` come with the API
/// work): every build uses the installation's default stack until then. When the store has
/// the column, this returns it (existing rows migrated to `debian-12`, new environments
/// given the default), resolved through the catalog so `heroku-24` still means `debian-12`.
pub fn build_stack_for(state: &AppState, _env: &Environment) -> &'static StackSpec {
    state.config().stacks.default_stack()
}

/// Every stack and whether its images are made (for `GET /stacks` and `doppel stack list`).
pub async fn statuses(state: &AppState) -> Result<Vec<StackStatus>, StackError> {
    state.config().stacks.status(state.runtime()).await
}

/// Makes sure the stack called `name` (or an alias) has its images, making them when they
/// are missing; each progress line goes to `out` (the pusher's terminal) when given.
pub async fn ensure(
    state: &AppState,
    name: &str,
    out: Option<&ProgressSink>,
) -> Result<StackImages, StackError> {
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let sink = out.cloned();
    let stack = name.to_string();
    let relay = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            tracing::info!(stack = %stack, "{line}");
            if let Some(sink) = &sink {
                sink.line(&format!("       stack {stack}: {line}")).await;
            }
        }
    });
    let result = state
        .config()
        .stacks
        .ensure(state.runtime(), name, false, tx)
        .await;
    let _ = relay.await;
    result
}

//! Stacks as the control plane sees them: which stack an environment's next build uses, and
//! making a stack's images on demand (a build on a stack that was never made waits for it,
//! and the pusher sees the progress).

use crate::state::AppState;
use doppel_builder::{StackError, StackImages, StackSpec, StackStatus};
use doppel_git::ProgressSink;
use doppel_store::Environment;
use tokio::sync::mpsc;

/// The stack `env`'s next build runs on: its `build_stack` (set when the environment was
/// made, changed by `stack:set`), resolved through the catalog so an alias still names its
/// stack. A name the catalog no longer knows falls back to the default stack, with a warning.
pub fn build_stack_for(state: &AppState, env: &Environment) -> &'static StackSpec {
    let stacks = &state.config().stacks;
    match stacks.resolve(&env.build_stack) {
        Ok(spec) => spec,
        Err(e) => {
            tracing::warn!(env = %env.name, error = %e, default = %stacks.default_stack(), "the environment's stack is unknown; building on the default stack");
            stacks.default_stack()
        }
    }
}

/// The stable id the API gives a stack: a name-based (v5) UUID of its canonical name, the
/// same on every installation.
pub fn stack_id(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("doppel:stack:{name}").as_bytes(),
    )
    .to_string()
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

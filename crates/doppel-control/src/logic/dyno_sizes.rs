//! Dyno sizes: the catalog (`doppel_types::DYNO_SIZES`), the same for every environment.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_types::{DynoSize, DYNO_SIZES};

/// Every size, smallest first.
pub fn list() -> &'static [DynoSize] {
    DYNO_SIZES
}

/// The size with this id or name (any case).
pub fn find(id_or_name: &str) -> Result<&'static DynoSize, LogicError> {
    DynoSize::find_by_id_or_name(id_or_name)
        .ok_or_else(|| LogicError::not_found("dyno size", id_or_name))
}

/// The sizes environment `env` may use (all of them), once the actor may see it.
pub async fn for_env(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<&'static [DynoSize], LogicError> {
    access::environment(state, actor, env).await?;
    Ok(DYNO_SIZES)
}

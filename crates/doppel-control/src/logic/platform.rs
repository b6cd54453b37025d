//! What the platform offers beside apps: its one region (this machine), and the lists doppel
//! keeps honestly empty until it has something to put in them: labs features and add-ons.

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::Environment;

/// The one region: the machine doppel runs on.
pub const REGION_NAME: &str = "local";
/// Its id (stable: clients may keep it).
pub const REGION_ID: &str = "00000000-0000-4000-8000-000000000001";

/// The region `name_or_id` names.
pub fn region(name_or_id: &str) -> Result<(), LogicError> {
    let wanted = name_or_id.trim();
    if wanted == REGION_NAME || wanted == REGION_ID {
        Ok(())
    } else {
        Err(LogicError::not_found("region", name_or_id))
    }
}

/// A labs feature (doppel has none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub name: String,
    pub description: String,
    pub enabled: bool,
}

/// The account's labs features: none.
pub fn account_features(_actor: &Actor) -> Vec<Feature> {
    Vec::new()
}

/// An environment's labs features: none (the environment must exist and be visible).
pub async fn app_features(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, Vec<Feature>), LogicError> {
    let found = access::environment(state, actor, env).await?;
    Ok((found.env, Vec::new()))
}

/// One labs feature by name: none exist.
pub fn feature(name: &str) -> Result<Feature, LogicError> {
    Err(LogicError::not_found("feature", name))
}

//! What the platform offers beside apps: its one region (this machine), and the account's
//! labs features, which doppel keeps honestly empty (environments' features:
//! `logic::features`).

use super::{Actor, LogicError};

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

/// A feature of the account or of an environment (`logic::features`).
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

/// One account feature by name: none exist.
pub fn feature(name: &str) -> Result<Feature, LogicError> {
    Err(LogicError::not_found("feature", name))
}

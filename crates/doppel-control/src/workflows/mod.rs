//! Multi-step work that must leave the store consistent if it is cut off at any step:
//! the store records each step before Docker acts, and the reconciler finishes or undoes
//! what a crash interrupted.

pub mod addon_backup;
pub mod addon_config;
pub mod addon_credentials;
pub mod addon_destroy;
pub mod addon_provision;
pub mod deploy;
pub mod dynos;
pub mod progress;
pub mod promote;
pub mod release;
pub mod release_phase;
pub mod restart;
pub mod rollout;
pub mod stacks;

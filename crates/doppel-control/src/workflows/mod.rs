//! Multi-step work that must leave the store consistent if it is cut off at any step:
//! the store records each step before Docker acts, and the reconciler finishes or undoes
//! what a crash interrupted.

pub mod deploy;
pub mod dynos;
pub mod progress;
pub mod promote;
pub mod rebuild;
pub mod release;
pub mod release_phase;
pub mod restart;
pub mod rollout;
pub mod stacks;

//! Parity (`GET /pipelines/{pipeline}/parity`): staging and production side by side, aspect
//! by aspect, every difference classed `drift`, `expected` or `intended`. Config values are
//! never part of it, only keys.

use serde::{Deserialize, Serialize};

use crate::common::{NamedRef, UserRef};

/// The whole comparison of one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Parity {
    pub pipeline: NamedRef,
    pub staging: NamedRef,
    pub production: NamedRef,
    /// How many differences block promotion.
    pub drift: usize,
    pub expected: usize,
    pub intended: usize,
    pub aspects: Vec<ParityAspect>,
}

/// One aspect: what each environment has, and how they differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParityAspect {
    /// `config`, `addons`, `process`, `stack`, `buildpacks`, `health`, `router`, `pushes`,
    /// `release`, `running`.
    pub name: String,
    pub title: String,
    pub staging: Vec<String>,
    pub production: Vec<String>,
    pub differences: Vec<ParityDifference>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParityDifference {
    /// `aspect/item`, what marks name.
    pub id: String,
    pub aspect: String,
    pub item: String,
    /// `drift`, `expected` or `intended`.
    pub class: String,
    pub message: String,
    /// The command that removes it.
    pub fix: Option<String>,
    pub mark: Option<ParityMark>,
}

/// An admin's mark: the difference is intended, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParityMark {
    pub id: String,
    pub reason: String,
    pub user: Option<UserRef>,
    pub created_at: String,
}

/// `POST /pipelines/{pipeline}/parity/marks`: mark difference `id` (`aspect/item`) intended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParityMarkCreate {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub reason: Option<String>,
}

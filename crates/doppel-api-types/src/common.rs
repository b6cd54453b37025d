//! References other objects carry: `{id, name}` and `{id, email}`.

use serde::{Deserialize, Serialize};

/// A reference by id and name (apps, regions, stacks, dyno sizes, pipelines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

impl NamedRef {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> NamedRef {
        NamedRef {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// A user reference: `{id, email}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserRef {
    pub id: String,
    pub email: Option<String>,
}

/// A reference by id only (`slug`, `release` of a build).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IdRef {
    pub id: String,
}

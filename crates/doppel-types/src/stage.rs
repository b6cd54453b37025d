//! The two stages every doppel app has, and how an environment is named after its app.

use serde::{Deserialize, Serialize};

/// Which of an app's two environments: staging (private, takes pushes) or production
/// (public, takes promotions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Staging,
    Production,
}

impl Stage {
    /// Both stages, in the order they are created and shown.
    pub const ALL: [Stage; 2] = [Stage::Staging, Stage::Production];

    /// The word stored in the database and shown in the API (`staging`, `production`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Staging => "staging",
            Stage::Production => "production",
        }
    }

    /// Parses the stored word back; `None` for anything else.
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "staging" => Some(Stage::Staging),
            "production" => Some(Stage::Production),
            _ => None,
        }
    }

    /// Whether the router asks for credentials before passing a request on. Staging is
    /// private by default (promise 2), production public.
    pub fn private_by_default(self) -> bool {
        matches!(self, Stage::Staging)
    }

    /// The suffix appended to the app name to name this stage's environment.
    pub fn env_suffix(self) -> &'static str {
        match self {
            Stage::Staging => "-staging",
            Stage::Production => "",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

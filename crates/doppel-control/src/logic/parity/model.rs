//! What a parity report is made of: the aspects compared, the differences found in each and
//! how each is classed. Shared by the aspects' functions and the report; names nothing else
//! of the crate.

use doppel_store::ParityMark;

/// How a difference is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Production lacks something staging has, or they differ where they must not: blocks
    /// promotion.
    Drift,
    /// A difference that is meant to be (dyno counts, config values, a release not yet
    /// promoted…).
    Expected,
    /// Drift an admin marked as intended, with a reason.
    Intended,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Drift => "drift",
            Class::Expected => "expected",
            Class::Intended => "intended",
        }
    }
}

/// One difference between the two environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The aspect it belongs to (`config`, `process`…).
    pub aspect: &'static str,
    /// What differs within the aspect (a key, a process type, `production:web.1`…).
    pub item: String,
    pub class: Class,
    /// What differs, in words (never a config value).
    pub message: String,
    /// The command that removes the difference, when there is one.
    pub fix: Option<String>,
    /// The admin's mark, when the difference is intended.
    pub mark: Option<ParityMark>,
}

impl Difference {
    pub(crate) fn new(aspect: &'static str, item: impl Into<String>, class: Class) -> Difference {
        Difference {
            aspect,
            item: item.into(),
            class,
            message: String::new(),
            fix: None,
            mark: None,
        }
    }

    pub(crate) fn says(mut self, message: impl Into<String>) -> Difference {
        self.message = message.into();
        self
    }

    pub(crate) fn fix(mut self, command: impl Into<String>) -> Difference {
        self.fix = Some(command.into());
        self
    }

    /// `aspect/item`: how marks and users name it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.aspect, self.item)
    }
}

/// One aspect: what each environment has, and how they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aspect {
    pub name: &'static str,
    pub title: &'static str,
    pub staging: Vec<String>,
    pub production: Vec<String>,
    pub differences: Vec<Difference>,
}

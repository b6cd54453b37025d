//! The logic layer's one error type: what went wrong, in words a user can act on.

use doppel_store::StoreError;

/// Why a call into the logic layer failed. `Display` is the user-facing message (never a
/// secret); the HTTP layer maps each variant onto Heroku's status and error id.
#[derive(Debug, thiserror::Error)]
pub enum LogicError {
    /// No such object, or the actor may not see it (the two are not told apart).
    #[error("Couldn't find that {what}: {name}.")]
    NotFound { what: &'static str, name: String },
    /// The actor may see the object but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Bad input; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The name is in use (Heroku's clients look for "Name is already taken").
    #[error("Name is already taken: {0}")]
    NameTaken(String),
    /// The object is not in a state that allows this (a concurrent change, a failed release…).
    #[error("{0}")]
    Conflict(String),
    /// The work was tried and failed; what was serving keeps serving.
    #[error("{0}")]
    Failed(String),
    /// doppel's own storage failed; the log has the details.
    #[error("doppel could not {context}; the server log has the details")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl LogicError {
    pub fn not_found(what: &'static str, name: impl Into<String>) -> LogicError {
        LogicError::NotFound {
            what,
            name: name.into(),
        }
    }

    pub fn internal(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> LogicError {
        LogicError::Internal {
            context,
            source: Box::new(source),
        }
    }
}

impl From<StoreError> for LogicError {
    fn from(err: StoreError) -> LogicError {
        match err {
            StoreError::NameTaken(name) => LogicError::NameTaken(name),
            StoreError::Invalid(msg) => LogicError::Invalid(msg),
            StoreError::NotFound(what) => LogicError::NotFound {
                what: "object",
                name: what,
            },
            StoreError::Conflict(msg) => LogicError::Conflict(msg),
            other => LogicError::internal("read or write its database", other),
        }
    }
}

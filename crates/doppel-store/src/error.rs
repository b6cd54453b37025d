//! The store's typed errors. Messages carry names and ids for context, never secret values.

/// Everything a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An app or environment name collides with an existing app or environment.
    #[error("Name is already taken: {0}")]
    NameTaken(String),
    /// The thing named (e.g. `environment 1234…`) does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The caller passed something the store refuses (e.g. a config var key outside `^\w+$`).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The row is not in a state that allows the change (e.g. finishing a finished build).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[source] DatabaseError),
    /// Applying the embedded migrations failed.
    #[error("migration error: {0}")]
    Migration(#[source] DatabaseError),
    /// A stored secret could not be encrypted or decrypted (wrong key, or a value moved to
    /// another row).
    #[error("crypto error: {0}")]
    Crypto(String),
    /// A stored row holds something the store cannot read back (unknown enum word, bad JSON).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database holds migrations this build does not know: a newer doppel migrated it,
    /// and this (older) one refuses to use it rather than misread or damage it.
    #[error("{}", newer_schema_message(*store_schema, *known_schema, migrated_by.as_deref()))]
    NewerSchema {
        /// The newest migration applied to the database.
        store_schema: i64,
        /// The newest migration this build knows.
        known_schema: i64,
        /// The doppel version that first brought the database to `store_schema`, when recorded.
        migrated_by: Option<String>,
    },
}

/// What [`StoreError::NewerSchema`] says: both versions, and the two ways out.
fn newer_schema_message(store_schema: i64, known_schema: i64, migrated_by: Option<&str>) -> String {
    let by = match migrated_by {
        Some(version) => format!("doppel {version}"),
        None => "a newer doppel".to_string(),
    };
    let install = match migrated_by {
        Some(version) => format!("doppel {version} or later"),
        None => "the newer doppel again".to_string(),
    };
    format!(
        "the database was migrated by {by} to schema {store_schema}, newer than this doppel {} knows \
         (schema {known_schema}); downgrading a migrated store is not supported. Install {install}, \
         or restore a backup taken before the upgrade (doppel admin:restore) into an empty data \
         directory and database",
        env!("CARGO_PKG_VERSION")
    )
}

/// A database failure with what the store was doing when it happened.
#[derive(Debug, thiserror::Error)]
#[error("while {context}: {source}")]
pub struct DatabaseError {
    /// What the store was doing, e.g. `inserting release`.
    pub context: String,
    /// The driver's error, boxed so that no other crate needs to name the driver.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Adds context to a driver error and turns it into a [`StoreError::Database`].
pub(crate) trait DbContext<T> {
    fn ctx(self, context: &str) -> Result<T>;
}

impl<T> DbContext<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, context: &str) -> Result<T> {
        self.map_err(|e| db_error(e, context))
    }
}

/// Wraps a driver error with context.
pub(crate) fn db_error(source: sqlx::Error, context: &str) -> StoreError {
    StoreError::Database(DatabaseError {
        context: context.to_string(),
        source: Box::new(source),
    })
}

/// Whether a driver error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Whether a driver error is a foreign-key violation.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

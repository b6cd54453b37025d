//! Small helpers shared by the resource modules: ids, timestamps, row access, JSON columns.

use crate::error::{Result, StoreError};
use doppel_types::ProcessTypes;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A fresh uuid v4 as the TEXT id of a new row.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current time as stored: RFC 3339 in UTC with second precision, e.g. `2026-01-01T12:00:00Z`.
pub(crate) fn now() -> String {
    stamp(time::OffsetDateTime::now_utc())
}

/// `t` as stored (see [`now`]); stored times compare correctly as text.
pub fn stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads column `col` of `row`, naming the table in the error.
pub(crate) fn get<'r, T>(row: &'r AnyRow, table: &str, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get::<T, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("{table}.{col}: {e}")))
}

/// Reads an INTEGER 0/1 column as a bool.
pub(crate) fn get_bool(row: &AnyRow, table: &str, col: &str) -> Result<bool> {
    Ok(get::<i64>(row, table, col)? != 0)
}

/// Serializes process types for a JSON TEXT column.
pub(crate) fn process_types_to_json(types: &ProcessTypes) -> Result<String> {
    serde_json::to_string(types)
        .map_err(|e| StoreError::Invalid(format!("process types cannot be serialized: {e}")))
}

/// Parses a JSON TEXT column of process types.
pub(crate) fn process_types_from_json(json: &str, what: &str) -> Result<ProcessTypes> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("{what}: process types are not valid JSON: {e}")))
}

/// Parses a stored image kind word.
pub(crate) fn image_kind_from_str(s: &str, what: &str) -> Result<doppel_types::ImageKind> {
    doppel_types::ImageKind::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: unknown image kind {s:?}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_seconds() {
        let t = now();
        assert_eq!(t.len(), "2026-01-01T12:00:00Z".len());
        assert!(t.ends_with('Z'));
        assert_eq!(&t[10..11], "T");
    }
}

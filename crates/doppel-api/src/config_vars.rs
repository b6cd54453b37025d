//! `/apps/{app}/config-vars`: an environment's config as one JSON object. `PATCH` merges
//! (`null` removes a key) and answers with the whole config after the change's release.

use super::body::Body;
use super::error::ApiError;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use doppel_control::logic::config_vars::{self, ConfigChanges};
use doppel_control::logic::Actor;
use doppel_control::state::AppState;
use serde_json::Value;
use std::collections::BTreeMap;

/// `GET /apps/{app}/config-vars`.
pub async fn show(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let (_, config) = config_vars::show(&state, &actor, &app).await?;
    Ok(Json(config))
}

/// `PATCH /apps/{app}/config-vars {"KEY": "value", "GONE": null}`: answers once the change's
/// release serves (or failed, and nothing changed).
pub async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    Body(body): Body<BTreeMap<String, Value>>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let changes = changes(body)?;
    let done = config_vars::update(&state, &actor, &app, changes).await?;
    Ok(Json(done.config))
}

/// Strings set, `null` removes; numbers and booleans are taken as their text (as `heroku3`
/// scripts send them). Anything else is refused.
fn changes(body: BTreeMap<String, Value>) -> Result<ConfigChanges, ApiError> {
    body.into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Null => None,
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Array(_) | Value::Object(_) => {
                    return Err(ApiError::invalid(format!(
                        "The value of {key} must be a string (or null to remove {key})"
                    )))
                }
            };
            Ok((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_strings_or_null() {
        let body: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"A":"x","B":null,"C":3,"D":true}"#).unwrap_or_default();
        let got = changes(body).ok().unwrap_or_default();
        assert_eq!(got.get("A"), Some(&Some("x".to_string())));
        assert_eq!(got.get("B"), Some(&None));
        assert_eq!(got.get("C"), Some(&Some("3".to_string())));
        assert_eq!(got.get("D"), Some(&Some("true".to_string())));
        let bad: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"A":["x"]}"#).unwrap_or_default();
        assert!(changes(bad).is_err());
    }
}

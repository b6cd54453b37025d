//! Apps: each of doppel's environments is a Heroku "app" (`myapp-staging`, `myapp`).

use serde::{Deserialize, Serialize};

use crate::common::{NamedRef, UserRef};

/// `GET /apps/{app}`: one environment as Heroku's app object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    pub released_at: Option<String>,
    pub archived_at: Option<String>,
    pub acm: bool,
    pub maintenance: bool,
    pub internal_routing: bool,
    pub repo_size: Option<u64>,
    pub slug_size: Option<u64>,
    pub web_url: String,
    pub git_url: String,
    pub buildpack_provided_description: Option<String>,
    pub owner: Option<UserRef>,
    pub region: NamedRef,
    pub stack: NamedRef,
    pub build_stack: NamedRef,
    /// Always `cedar`: other values switch the official CLI to code paths doppel lacks.
    pub generation: NamedRef,
    pub organization: Option<NamedRef>,
    pub team: Option<NamedRef>,
    pub space: Option<NamedRef>,
    pub doppel: AppExtra,
}

/// What doppel adds to an app: the app (pipeline) it belongs to and its twin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppExtra {
    /// The doppel app (`myapp`) both environments belong to.
    pub app: String,
    /// `staging` or `production`.
    pub stage: String,
    /// Private environments answer only requests carrying a token of a collaborator.
    pub private: bool,
    /// Both environments of the app.
    pub environments: Vec<EnvironmentSummary>,
}

/// One environment in an app's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EnvironmentSummary {
    pub id: String,
    pub name: String,
    pub stage: String,
    pub private: bool,
    pub web_url: String,
    pub git_url: String,
}

/// `POST /apps`. `stack`, `region` and the rest are accepted and ignored where doppel has
/// only one choice (heroku3 sends `stack: "cedar"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppCreate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub region: Option<serde_json::Value>,
    #[serde(default)]
    pub stack: Option<serde_json::Value>,
}

/// `PATCH /apps/{app}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppUpdate {
    #[serde(default)]
    pub name: Option<String>,
    /// `true`/`false`; heroku3 turns maintenance off with `0`.
    #[serde(default, deserialize_with = "flexible_bool")]
    pub maintenance: Option<bool>,
    /// A stack's name or id, as a string (the Heroku CLI) or `{"name"}`/`{"id"}`.
    #[serde(default)]
    pub build_stack: Option<serde_json::Value>,
}

impl AppUpdate {
    /// The stack `build_stack` names: the string, or the object's `name` (else `id`).
    /// `Err` holds what was sent when it names no stack at all (a number, an empty object).
    pub fn build_stack_name(&self) -> Result<Option<String>, String> {
        match &self.build_stack {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(serde_json::Value::Object(o)) => ["name", "id"]
                .iter()
                .find_map(|k| o.get(*k).and_then(|v| v.as_str()))
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| serde_json::Value::Object(o.clone()).to_string()),
            Some(other) => Err(other.to_string()),
        }
    }
}

/// A boolean sent as `true`/`false`, `1`/`0` or `"true"`/`"false"`; `null` is absent.
fn flexible_bool<'de, D>(de: D) -> Result<Option<bool>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let value = Option::<serde_json::Value>::deserialize(de)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(b)),
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
        Some(serde_json::Value::String(s)) if s == "true" || s == "1" => Ok(Some(true)),
        Some(serde_json::Value::String(s)) if s == "false" || s == "0" => Ok(Some(false)),
        Some(other) => Err(D::Error::custom(format!(
            "expected true or false, got {other}"
        ))),
    }
}

/// `POST /filters/apps {"in": {"id": [...]}}`: the apps among these ids (or names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppFilter {
    #[serde(default, rename = "in")]
    pub within: AppFilterIn,
}

/// The `in` part of an [`AppFilter`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppFilterIn {
    #[serde(default)]
    pub id: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_accepts_what_clients_send() {
        let parse = |s: &str| serde_json::from_str::<AppUpdate>(s).map(|u| u.maintenance);
        assert_eq!(parse(r#"{"maintenance":true}"#).ok(), Some(Some(true)));
        assert_eq!(parse(r#"{"maintenance":0}"#).ok(), Some(Some(false)));
        assert_eq!(parse(r#"{"maintenance":"false"}"#).ok(), Some(Some(false)));
        assert_eq!(parse(r#"{"maintenance":null}"#).ok(), Some(None));
        assert_eq!(parse(r#"{}"#).ok(), Some(None));
        assert!(parse(r#"{"maintenance":"soon"}"#).is_err());
        assert!(parse(r#"{"maintenance":2}"#).is_err());
    }

    #[test]
    fn build_stack_is_a_name_or_an_object() {
        let parse = |s: &str| {
            serde_json::from_str::<AppUpdate>(s)
                .map_err(|e| e.to_string())
                .and_then(|u| u.build_stack_name())
        };
        assert_eq!(
            parse(r#"{"build_stack":"debian-13"}"#),
            Ok(Some("debian-13".into()))
        );
        assert_eq!(
            parse(r#"{"build_stack":{"name":"x"}}"#),
            Ok(Some("x".into()))
        );
        assert_eq!(parse(r#"{"build_stack":{"id":"i"}}"#), Ok(Some("i".into())));
        assert_eq!(parse(r#"{}"#), Ok(None));
        assert!(parse(r#"{"build_stack":7}"#).is_err());
        assert!(parse(r#"{"build_stack":{}}"#).is_err());
    }

    #[test]
    fn filters_read_heroku_s_shape() {
        let f: AppFilter = serde_json::from_str(r#"{"in":{"id":["a","b"]}}"#).unwrap_or_default();
        assert_eq!(f.within.id, ["a", "b"]);
    }
}

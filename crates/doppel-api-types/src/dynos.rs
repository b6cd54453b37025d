//! Dynos: the containers running one environment's processes.

use serde::{Deserialize, Deserializer, Serialize};

use crate::common::NamedRef;

/// A dyno's release reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DynoRelease {
    pub id: String,
    pub version: i64,
}

/// `GET /apps/{app}/dynos[/{name}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dyno {
    pub id: String,
    /// `web.1`, `run.4821`.
    pub name: String,
    #[serde(rename = "type")]
    pub process_type: String,
    pub command: String,
    /// `starting`, `up`, `crashed`, `down` or `stopping`.
    pub state: String,
    pub size: String,
    pub attach_url: Option<String>,
    pub release: DynoRelease,
    pub app: NamedRef,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /apps/{app}/dynos`: a one-off dyno.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DynoCreate {
    pub command: String,
    #[serde(default)]
    pub attach: Option<bool>,
    /// Extra environment; the Heroku CLI sends `COLUMNS` and `LINES` as numbers.
    #[serde(default, deserialize_with = "lenient_env")]
    pub env: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub force_no_tty: Option<bool>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(rename = "type", default)]
    pub process_type: Option<String>,
    #[serde(default)]
    pub time_to_live: Option<u64>,
}

/// An environment map whose values are strings, numbers or booleans (made strings); `null`
/// values are dropped.
fn lenient_env<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::collections::BTreeMap<String, String>>, D::Error> {
    let raw = Option::<std::collections::BTreeMap<String, serde_json::Value>>::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    let mut env = std::collections::BTreeMap::new();
    for (key, value) in raw {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "env {key} must be a string, not {other}"
                )))
            }
        };
        env.insert(key, text);
    }
    Ok(Some(env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dyno_create_takes_what_the_heroku_cli_sends() {
        let body: DynoCreate = serde_json::from_str(
            r#"{"attach":true,"command":"bash","env":{"TERM":"xterm","COLUMNS":120,"LINES":40},"force_no_tty":null,"size":null}"#,
        )
        .unwrap_or_default();
        assert_eq!(body.command, "bash");
        let env = body.env.unwrap_or_default();
        assert_eq!(env.get("COLUMNS").map(String::as_str), Some("120"));
        assert_eq!(body.size, None);
    }
}

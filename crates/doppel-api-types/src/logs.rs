//! Log sessions and log drains.

use serde::{Deserialize, Deserializer, Serialize};

use crate::common::NamedRef;

/// `POST /apps/{app}/log-sessions`. The schema names the dyno `dyno_name`; the Heroku CLI and
/// heroku3 send `dyno` (the CLI also `type`); all are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogSessionCreate {
    #[serde(default)]
    pub dyno: Option<String>,
    #[serde(default)]
    pub dyno_name: Option<String>,
    #[serde(rename = "type", default)]
    pub process_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub lines: Option<u64>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub tail: Option<bool>,
}

impl LogSessionCreate {
    /// The dyno or process type asked for, under whichever key.
    pub fn dyno_filter(&self) -> Option<&str> {
        self.dyno
            .as_deref()
            .or(self.dyno_name.as_deref())
            .or(self.process_type.as_deref())
            .filter(|d| !d.is_empty())
    }
}

/// A count as a number or a string of digits (`null` is none).
fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("lines {n} is not a whole number"))),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("lines {s:?} is not a whole number"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "lines must be a number, not {other}"
        ))),
    }
}

/// A log session: read its `logplex_url` (no token; plain text, or server-sent events with
/// `Accept: text/event-stream`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSession {
    pub id: String,
    pub logplex_url: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /apps/{app}/log-drains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogDrainCreate {
    pub url: String,
}

/// `GET /apps/{app}/log-drains[/{id|url|token}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDrain {
    pub id: String,
    pub url: String,
    /// The syslog host name of every line the drain receives (`d.<uuid>`).
    pub token: String,
    pub addon: Option<NamedRef>,
    pub app: NamedRef,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_accept_what_clients_send() {
        let cli: LogSessionCreate =
            serde_json::from_str(r#"{"dyno":"web","lines":5,"tail":false,"source":null}"#)
                .unwrap_or_default();
        assert_eq!(cli.dyno_filter(), Some("web"));
        assert_eq!(cli.lines, Some(5));
        let schema: LogSessionCreate =
            serde_json::from_str(r#"{"dyno_name":"web.1","lines":"20"}"#).unwrap_or_default();
        assert_eq!(schema.dyno_filter(), Some("web.1"));
        assert_eq!(schema.lines, Some(20));
        assert!(serde_json::from_str::<LogSessionCreate>(r#"{"lines":-1}"#).is_err());
    }
}

//! Formation: process type → quantity and size of one environment.

use serde::{Deserialize, Deserializer, Serialize};

use crate::common::NamedRef;

/// `GET /apps/{app}/formation[/{type}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Formation {
    pub id: String,
    #[serde(rename = "type")]
    pub process_type: String,
    pub command: String,
    pub quantity: i64,
    /// Heroku's size name, e.g. `standard-1X`.
    pub size: String,
    pub dyno_size: NamedRef,
    pub app: NamedRef,
    pub created_at: String,
    pub updated_at: String,
}

/// A quantity as clients send it: a number (heroku3), a string (`"2"`, the official CLI),
/// or a change relative to the current quantity (`"+1"`, `"-1"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Quantity {
    Absolute(i64),
    Relative(i64),
}

impl From<Quantity> for String {
    fn from(q: Quantity) -> String {
        match q {
            Quantity::Absolute(n) => n.to_string(),
            Quantity::Relative(n) if n >= 0 => format!("+{n}"),
            Quantity::Relative(n) => n.to_string(),
        }
    }
}

impl Quantity {
    /// Parses `2`, `+1`, `-1` (surrounding spaces allowed).
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let t = text.trim();
        let bad = || format!("quantity {text:?} is not a whole number, +N or -N");
        if let Some(rest) = t.strip_prefix('+') {
            rest.parse::<i64>()
                .map(Quantity::Relative)
                .map_err(|_| bad())
        } else if t.starts_with('-') {
            t.parse::<i64>().map(Quantity::Relative).map_err(|_| bad())
        } else {
            t.parse::<i64>().map(Quantity::Absolute).map_err(|_| bad())
        }
    }

    /// The quantity that results when applied to `current`.
    pub fn apply(self, current: i64) -> i64 {
        match self {
            Quantity::Absolute(n) => n,
            Quantity::Relative(d) => current.saturating_add(d),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => n.as_i64().map(Quantity::Absolute).ok_or_else(|| {
                serde::de::Error::custom(format!("quantity {n} is not a whole number"))
            }),
            serde_json::Value::String(s) => Quantity::parse(&s).map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "quantity must be a number or a string such as \"2\" or \"+1\", not {other}"
            ))),
        }
    }
}

/// A size as clients send it: a name, or `{id}` / `{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SizeRef {
    Name(String),
    Object {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
}

impl SizeRef {
    /// The name or id the client gave.
    pub fn key(&self) -> Option<&str> {
        match self {
            SizeRef::Name(n) => Some(n),
            SizeRef::Object { id, name } => name.as_deref().or(id.as_deref()),
        }
    }
}

/// One change of a formation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FormationUpdate {
    /// The process type (required in a batch, taken from the path otherwise).
    #[serde(rename = "type", default)]
    pub process_type: Option<String>,
    #[serde(default)]
    pub quantity: Option<Quantity>,
    #[serde(default)]
    pub size: Option<SizeRef>,
    #[serde(default)]
    pub dyno_size: Option<SizeRef>,
}

impl FormationUpdate {
    /// The size asked for, under either key.
    pub fn size_key(&self) -> Option<&str> {
        self.size
            .as_ref()
            .or(self.dyno_size.as_ref())
            .and_then(SizeRef::key)
    }
}

/// `PATCH /apps/{app}/formation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FormationBatch {
    pub updates: Vec<FormationUpdate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_in_every_form_clients_send() {
        let u: FormationBatch = serde_json::from_str(
            r#"{"updates":[{"quantity":"2","type":"web"},{"quantity":"+1","size":"standard-2x","type":"worker"},{"quantity":3,"type":"x","dyno_size":{"name":"Basic"}}]}"#,
        )
        .unwrap_or_default();
        assert_eq!(u.updates.len(), 3);
        assert_eq!(u.updates[0].quantity, Some(Quantity::Absolute(2)));
        assert_eq!(u.updates[1].quantity, Some(Quantity::Relative(1)));
        assert_eq!(u.updates[1].size_key(), Some("standard-2x"));
        assert_eq!(u.updates[2].size_key(), Some("Basic"));
        assert_eq!(Quantity::parse("-2").map(|q| q.apply(3)), Ok(1));
        assert!(Quantity::parse("two").is_err());
        assert!(serde_json::from_str::<FormationUpdate>(r#"{"quantity":1.5}"#).is_err());
    }
}

//! Config vars: an environment's settings, Heroku's flat `{"KEY": "value"}` map.

use std::collections::BTreeMap;

/// `GET /apps/{app}/config-vars`, `GET /apps/{app}/releases/{release}/config-vars`, and the
/// answer to a change: the full resulting map.
pub type ConfigVars = BTreeMap<String, String>;

/// `PATCH /apps/{app}/config-vars`: a value sets the key, `null` removes it; keys left
/// out stay as they are.
pub type ConfigVarsUpdate = BTreeMap<String, Option<String>>;

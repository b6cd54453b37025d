//! Config vars of an environment. Reading them; changing them, which is a change of what
//! runs: with a current release, the change becomes a new release (its config snapshot) that
//! the release workflow rolls out, and the environment's config changes only if that release
//! succeeds. An environment with nothing built yet gets a release with the config alone
//! (nothing runs; its first build's release keeps the config).

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use crate::workflows::progress::Silent;
use crate::workflows::release::{self, ReleaseRequest};
use doppel_store::{Environment, Release};
use std::collections::BTreeMap;

/// Largest config var value, in bytes (Heroku's limit too).
pub const MAX_VALUE_BYTES: usize = 32 * 1024;

/// Names doppel sets in every dyno itself, and why they cannot be config vars.
pub const RESERVED: &[(&str, &str)] = &[
    (
        "PORT",
        "doppel sets PORT itself: it is the port web dynos must listen on",
    ),
    (
        "DYNO",
        "doppel sets DYNO itself: it is each dyno's name, such as web.1",
    ),
];

/// A change to a config: `Some(value)` sets a key, `None` removes it.
pub type ConfigChanges = BTreeMap<String, Option<String>>;

/// What a config change did.
#[derive(Debug, Clone)]
pub struct ConfigUpdate {
    pub env: Environment,
    /// The whole config afterwards.
    pub config: BTreeMap<String, String>,
    /// The release that carries it (`None`: nothing changed, or nothing is released yet).
    pub release: Option<Release>,
}

/// An environment's config vars.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env: &str,
) -> Result<(Environment, BTreeMap<String, String>), LogicError> {
    let found = access::environment(state, actor, env).await?;
    let config = state.store().config_vars(&found.env.id).await?;
    Ok((found.env, config))
}

/// Applies `changes` to environment `env` (see the module docs). Bad input changes nothing;
/// a change that fails to roll out changes nothing either and answers why.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    env: &str,
    changes: ConfigChanges,
) -> Result<ConfigUpdate, LogicError> {
    let found = access::environment(state, actor, env).await?;
    validate(&changes)?;
    let env = found.env;
    // Read, change and release under the environment's lock, so concurrent changes (and a
    // deploy's snapshot) cannot lose each other's keys.
    let lock = state.env_lock(&env.id);
    let _guard = lock.lock().await;
    let current = state.store().config_vars(&env.id).await?;
    let (set, removed) = effective(&current, &changes);
    if set.is_empty() && removed.is_empty() {
        return Ok(ConfigUpdate {
            env,
            config: current,
            release: None,
        });
    }
    let mut next = current;
    for key in &set {
        if let Some(Some(value)) = changes.get(key) {
            next.insert(key.clone(), value.clone());
        }
    }
    for key in &removed {
        next.remove(key);
    }
    let release = match state.store().current_release(&env.id).await? {
        Some(serving) => {
            let request = ReleaseRequest {
                image_id: serving.image_id,
                image_kind: serving.image_kind,
                process_types: serving.process_types,
                build_id: serving.build_id,
                description: describe(&set, &removed),
                user_id: Some(actor.user.id.clone()),
                config: Some(next.clone()),
            };
            let made = release::release_locked(state, &env, request, &Silent)
                .await
                .map_err(|e| super::releases::release_failed(e, "The config is unchanged."))?;
            Some(made)
        }
        // Nothing built yet: a release with the config alone, as Heroku's clients expect a
        // config change to make one (the first build's release runs with this config).
        None => {
            let request = ReleaseRequest {
                image_id: String::new(),
                image_kind: doppel_types::ImageKind::Buildpack,
                process_types: Default::default(),
                build_id: None,
                description: describe(&set, &removed),
                user_id: Some(actor.user.id.clone()),
                config: Some(next.clone()),
            };
            let made = release::release_locked(state, &env, request, &Silent)
                .await
                .map_err(|e| super::releases::release_failed(e, "The config is unchanged."))?;
            Some(made)
        }
    };
    let version = release.as_ref().map(|r| r.version);
    for (action, keys) in [("config.set", &set), ("config.unset", &removed)] {
        if !keys.is_empty() {
            let details = serde_json::json!({ "keys": keys, "version": version });
            super::audit::record(state, actor, &found.app, Some(&env), action, details).await;
        }
    }
    tracing::info!(env = %env.name, set = ?set, removed = ?removed, version, "config changed");
    Ok(ConfigUpdate {
        env,
        config: next,
        release,
    })
}

/// Refuses names that are not environment variable names, names doppel sets itself, and
/// values no environment can hold or over [`MAX_VALUE_BYTES`].
pub fn validate(changes: &ConfigChanges) -> Result<(), LogicError> {
    for (key, value) in changes {
        if !valid_name(key) {
            return Err(LogicError::Invalid(format!(
                "{key:?} is not a valid config var name: a name is letters, digits and underscores and does not start with a digit, so that every program can read it from its environment"
            )));
        }
        let Some(value) = value else { continue };
        if let Some((_, why)) = RESERVED.iter().find(|(name, _)| name == key) {
            return Err(LogicError::Invalid(format!("{key} cannot be set: {why}")));
        }
        if value.contains('\0') {
            return Err(LogicError::Invalid(format!(
                "The value of {key} contains a NUL byte, which no environment variable can hold"
            )));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(LogicError::Invalid(format!(
                "The value of {key} is {} bytes; a config var holds at most 32 KiB ({MAX_VALUE_BYTES} bytes)",
                value.len()
            )));
        }
    }
    Ok(())
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`
fn valid_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The keys `changes` really sets (new or different values) and really removes (present).
fn effective(
    current: &BTreeMap<String, String>,
    changes: &ConfigChanges,
) -> (Vec<String>, Vec<String>) {
    let mut set = Vec::new();
    let mut removed = Vec::new();
    for (key, value) in changes {
        match value {
            Some(v) if current.get(key) != Some(v) => set.push(key.clone()),
            None if current.contains_key(key) => removed.push(key.clone()),
            _ => {}
        }
    }
    (set, removed)
}

/// Heroku's words: `Set FOO, BAR config vars`, `Remove FOO config vars`.
fn describe(set: &[String], removed: &[String]) -> String {
    match (set.is_empty(), removed.is_empty()) {
        (false, true) => format!("Set {} config vars", set.join(", ")),
        (true, false) => format!("Remove {} config vars", removed.join(", ")),
        _ => format!(
            "Set {} and remove {} config vars",
            set.join(", "),
            removed.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&str, Option<&str>)]) -> ConfigChanges {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn names_are_environment_variable_names() {
        for good in ["FOO", "_x", "a1", "DATABASE_URL", "lower"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "A=B", "É", "A.B"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn refuses_reserved_names_nul_and_huge_values_but_allows_removing() {
        assert!(validate(&changes(&[("PORT", Some("80"))])).is_err());
        assert!(validate(&changes(&[("DYNO", Some("x"))])).is_err());
        assert!(validate(&changes(&[("PORT", None)])).is_ok());
        assert!(validate(&changes(&[("A", Some("a\0b"))])).is_err());
        let big = "x".repeat(MAX_VALUE_BYTES + 1);
        assert!(validate(&changes(&[("A", Some(big.as_str()))])).is_err());
        let max = "x".repeat(MAX_VALUE_BYTES);
        assert!(validate(&changes(&[("A", Some(max.as_str()))])).is_ok());
    }

    #[test]
    fn descriptions_are_herokus() {
        let (a, b) = (vec!["FOO".to_string(), "BAR".to_string()], vec![]);
        assert_eq!(describe(&a, &b), "Set FOO, BAR config vars");
        assert_eq!(describe(&b, &a), "Remove FOO, BAR config vars");
        assert_eq!(
            describe(&a[..1], &a[1..]),
            "Set FOO and remove BAR config vars"
        );
    }

    #[test]
    fn only_real_changes_count() {
        let current: BTreeMap<String, String> =
            [("A".to_string(), "1".to_string())].into_iter().collect();
        let (set, removed) = effective(
            &current,
            &changes(&[("A", Some("1")), ("B", None), ("C", Some("3"))]),
        );
        assert_eq!((set, removed), (vec!["C".to_string()], vec![]));
    }
}

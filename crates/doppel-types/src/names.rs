//! Validated names: the app a team creates and the environments (Heroku "apps") it holds.

use crate::Stage;
use std::fmt;

/// Heroku's limit on an app (here: environment) name.
pub const MAX_ENV_NAME_LEN: usize = 30;
/// The label of the web dashboard's host: `dashboard.<domain>` is the platform's.
pub const DASHBOARD_NAME: &str = "dashboard";

/// Platform host names under the domain that no app may take.
pub const RESERVED_NAMES: &[&str] = &[DASHBOARD_NAME];

/// The longest app name whose staging environment (`<app>-staging`) still fits Heroku's limit.
pub const MAX_APP_NAME_LEN: usize = MAX_ENV_NAME_LEN - "-staging".len();

/// Why a name was refused. The message states the rule, so it can be shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes (got {0:?}).")]
    Pattern(String),
    #[error("Name is too long: {name:?} has {len} characters; an app name may have at most {max} so that its staging environment {name}-staging fits Heroku's 30-character limit.")]
    TooLong {
        name: String,
        len: usize,
        max: usize,
    },
    #[error("Name is too short: {0:?}; a name needs at least 3 characters.")]
    TooShort(String),
    #[error("Name {0:?} ends in \"-staging\", which doppel reserves for the staging environment it creates with every app.")]
    ReservedSuffix(String),
    #[error("Name {0:?} is reserved: https://{0}.<domain> is doppel's own (the web dashboard). Choose another name.")]
    Reserved(String),
}

/// The name a team gives its app, e.g. `myapp`. Its environments are `myapp-staging` and `myapp`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppName(String);

/// The name of one environment, e.g. `myapp-staging` or `myapp`: what the Heroku API calls an app.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvName(String);

fn check_pattern(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    let first_ok = bytes.first().is_some_and(|b| b.is_ascii_lowercase());
    let last_ok = bytes
        .last()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let body_ok = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if first_ok && last_ok && body_ok {
        Ok(())
    } else {
        Err(NameError::Pattern(name.to_string()))
    }
}

impl AppName {
    /// Validates a new app name against Heroku's rule, leaving room for `-staging`.
    pub fn parse(name: &str) -> Result<AppName, NameError> {
        check_pattern(name)?;
        if name.len() < 3 {
            return Err(NameError::TooShort(name.to_string()));
        }
        if name.len() > MAX_APP_NAME_LEN {
            return Err(NameError::TooLong {
                name: name.to_string(),
                len: name.len(),
                max: MAX_APP_NAME_LEN,
            });
        }
        if name.ends_with(Stage::Staging.env_suffix()) {
            return Err(NameError::ReservedSuffix(name.to_string()));
        }
        if RESERVED_NAMES.contains(&name) {
            return Err(NameError::Reserved(name.to_string()));
        }
        Ok(AppName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of this app's environment for `stage`.
    pub fn env_name(&self, stage: Stage) -> EnvName {
        EnvName(format!("{}{}", self.0, stage.env_suffix()))
    }
}

impl EnvName {
    /// Validates an environment name as Heroku validates app names.
    pub fn parse(name: &str) -> Result<EnvName, NameError> {
        check_pattern(name)?;
        if name.len() < 3 {
            return Err(NameError::TooShort(name.to_string()));
        }
        if name.len() > MAX_ENV_NAME_LEN {
            return Err(NameError::TooLong {
                name: name.to_string(),
                len: name.len(),
                max: MAX_ENV_NAME_LEN,
            });
        }
        Ok(EnvName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The app and stage this environment name stands for, judged by the name alone.
    pub fn split(&self) -> (String, Stage) {
        match self.0.strip_suffix(Stage::Staging.env_suffix()) {
            Some(app) => (app.to_string(), Stage::Staging),
            None => (self.0.clone(), Stage::Production),
        }
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_heroku_style_names() {
        for ok in ["abc", "myapp", "my-app-2", "a1b"] {
            assert!(AppName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_names_with_the_rule() {
        for bad in ["", "1abc", "Abc", "ab_c", "abc-", "my app", "ab"] {
            assert!(AppName::parse(bad).is_err(), "{bad}");
        }
        let err = AppName::parse("My_App").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("lowercase letters, digits, and dashes")));
    }

    #[test]
    fn app_names_leave_room_for_staging() {
        let longest = "a".repeat(MAX_APP_NAME_LEN);
        let app = AppName::parse(&longest).ok();
        let staging = app.map(|a| a.env_name(Stage::Staging));
        assert_eq!(staging.map(|e| e.as_str().len()), Some(30));
        assert!(AppName::parse(&"a".repeat(MAX_APP_NAME_LEN + 1)).is_err());
        assert!(AppName::parse("foo-staging").is_err());
        assert_eq!(
            AppName::parse("dashboard"),
            Err(NameError::Reserved("dashboard".to_string()))
        );
        assert!(AppName::parse("dashboards").is_ok());
    }

    #[test]
    fn env_names_split_into_app_and_stage() {
        let staging = EnvName::parse("myapp-staging").ok().map(|e| e.split());
        assert_eq!(staging, Some(("myapp".to_string(), Stage::Staging)));
        let prod = EnvName::parse("myapp").ok().map(|e| e.split());
        assert_eq!(prod, Some(("myapp".to_string(), Stage::Production)));
    }
}

//! Where the client finds its server and token. Environment variables win
//! (`DOPPEL_HOST`, `DOPPEL_API_KEY`, `DOPPEL_CA_CERT`); then the token `doppel login` saved
//! in `~/.netrc` under the server's host name, and the server URL and CA it saved in
//! `~/.config/doppel/config.json` (no secret there); then the credentials file of earlier
//! versions (`~/.config/doppel/credentials.json`), still read until the next `login` or
//! `logout` replaces it; then defaults.

use crate::error::CliError;
use crate::netrc::Netrc;
use crate::private_file::{create_private_dir, open_private};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The server URL used when neither DOPPEL_HOST nor a saved login names one.
pub const DEFAULT_HOST: &str = "https://localhost";

pub const ENV_HOST: &str = "DOPPEL_HOST";
pub const ENV_API_KEY: &str = "DOPPEL_API_KEY";
pub const ENV_CA_CERT: &str = "DOPPEL_CA_CERT";

/// The environment variables the client reads, captured once (tests build their own).
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The variables of this process that matter to the client.
    pub fn from_process() -> Env {
        let mut vars = BTreeMap::new();
        for key in [
            ENV_HOST,
            ENV_API_KEY,
            ENV_CA_CERT,
            "XDG_CONFIG_HOME",
            "HOME",
            "NO_COLOR",
            "TERM",
        ] {
            if let Ok(value) = std::env::var(key) {
                vars.insert(key.to_string(), value);
            }
        }
        Env { vars }
    }

    /// An environment holding exactly `pairs`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The value of `key`, treating an empty value as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// `$XDG_CONFIG_HOME/doppel`, else `~/.config/doppel`.
    fn config_dir(&self) -> Option<PathBuf> {
        let base = match self.get("XDG_CONFIG_HOME").map(PathBuf::from) {
            Some(xdg) if xdg.is_absolute() => xdg,
            _ => PathBuf::from(self.get("HOME")?).join(".config"),
        };
        Some(base.join("doppel"))
    }

    /// Where this environment keeps the client's files.
    pub fn paths(&self) -> Paths {
        let dir = self.config_dir();
        Paths {
            netrc: self.get("HOME").map(|h| PathBuf::from(h).join(".netrc")),
            settings: dir.as_ref().map(|d| d.join("config.json")),
            legacy: dir.map(|d| d.join("credentials.json")),
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&String> = self.vars.keys().collect();
        f.debug_struct("Env").field("keys", &keys).finish()
    }
}

/// The client's files; `None` when no home folder is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths {
    /// `~/.netrc`: the token, under the server's host name.
    pub netrc: Option<PathBuf>,
    /// `~/.config/doppel/config.json`: the server URL and CA file.
    pub settings: Option<PathBuf>,
    /// `~/.config/doppel/credentials.json` of earlier versions (read, then replaced).
    pub legacy: Option<PathBuf>,
}

/// What `doppel login` saves besides the token: nothing secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

/// The credentials file of earlier versions: server, token and CA in one JSON file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub host: String,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("host", &self.host)
            .field("token", &"<redacted>")
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

/// Reads a JSON file; `Ok(None)` when there is none.
fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CliError::Credentials {
                action: "read",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CliError::CredentialsFormat {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// Removes a file; `Ok(false)` when there was none.
pub(crate) fn remove_file(path: &Path) -> Result<bool, CliError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(CliError::Credentials {
            action: "remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl Credentials {
    /// Reads the old credentials file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Credentials>, CliError> {
        load_json(path)
    }
}

impl Settings {
    /// Reads `config.json`; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Settings>, CliError> {
        load_json(path)
    }

    /// Writes `config.json` (0600 in a 0700 folder), replacing it in one step.
    pub fn save(&self, path: &Path) -> Result<(), CliError> {
        let io_err = |action: &'static str, p: &Path| {
            let p = p.to_path_buf();
            move |source| CliError::Credentials {
                action,
                path: p,
                source,
            }
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(io_err("create the folder", dir))?;
        let body = serde_json::to_vec_pretty(self).map_err(|e| CliError::CredentialsFormat {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let tmp = path.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut file = open_private(&tmp).map_err(io_err("write", &tmp))?;
        file.write_all(&body)
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(io_err("write", &tmp))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io_err("write", path))
    }
}

/// The netrc machine name of a server URL: its host name without port, which is what curl
/// (and so git over HTTPS) looks up.
pub fn netrc_machine(host: &str) -> Option<String> {
    let url = reqwest::Url::parse(host.trim()).ok()?;
    url.host_str().map(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    })
}

/// Where a setting came from, to word hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    /// `~/.netrc` (the token) or `config.json` (host, CA).
    File,
    /// The credentials file of earlier versions.
    Legacy,
    Default,
}

/// The settings a command runs with.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub host: String,
    pub host_source: Source,
    pub token: Option<String>,
    pub token_source: Option<Source>,
    pub ca_cert: Option<PathBuf>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("host_source", &self.host_source)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_source", &self.token_source)
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

/// What the client's files hold, read once.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    pub settings: Option<Settings>,
    pub netrc: Netrc,
    pub legacy: Option<Credentials>,
}

impl Saved {
    /// Reads every file in `paths` that exists.
    pub fn load(paths: &Paths) -> Result<Saved, CliError> {
        let settings = match &paths.settings {
            Some(p) => Settings::load(p)?,
            None => None,
        };
        let netrc = match &paths.netrc {
            Some(p) => Netrc::load(p).map_err(|source| CliError::Credentials {
                action: "read",
                path: p.clone(),
                source,
            })?,
            None => Netrc::default(),
        };
        let legacy = match &paths.legacy {
            Some(p) => Credentials::load(p)?,
            None => None,
        };
        Ok(Saved {
            settings,
            netrc,
            legacy,
        })
    }
}

fn trimmed(s: &str) -> String {
    s.trim().trim_end_matches('/').to_string()
}

impl Config {
    /// Environment variables win over saved files; saved files over defaults. The token
    /// comes from `~/.netrc` for the resolved host, or from the old credentials file when
    /// that file names the same host.
    pub fn resolve(env: &Env, saved: &Saved) -> Config {
        let settings_host = saved
            .settings
            .as_ref()
            .and_then(|s| s.host.as_deref())
            .filter(|h| !h.trim().is_empty());
        let legacy_host = saved
            .legacy
            .as_ref()
            .map(|c| c.host.as_str())
            .filter(|h| !h.trim().is_empty());
        let (host, host_source) = match (env.get(ENV_HOST), settings_host, legacy_host) {
            (Some(h), _, _) => (trimmed(h), Source::Env),
            (None, Some(h), _) => (trimmed(h), Source::File),
            (None, None, Some(h)) => (trimmed(h), Source::Legacy),
            _ => (DEFAULT_HOST.to_string(), Source::Default),
        };
        let from_netrc = netrc_machine(&host)
            .and_then(|m| saved.netrc.get(&m))
            .map(|l| l.password)
            .filter(|t| !t.trim().is_empty());
        let from_legacy = saved
            .legacy
            .as_ref()
            .filter(|c| trimmed(&c.host) == host && !c.token.trim().is_empty())
            .map(|c| c.token.trim().to_string());
        let (token, token_source) = match (env.get(ENV_API_KEY), from_netrc, from_legacy) {
            (Some(t), _, _) => (Some(t.trim().to_string()), Some(Source::Env)),
            (None, Some(t), _) => (Some(t.trim().to_string()), Some(Source::File)),
            (None, None, Some(t)) => (Some(t), Some(Source::Legacy)),
            _ => (None, None),
        };
        let ca_cert = env
            .get(ENV_CA_CERT)
            .map(PathBuf::from)
            .or_else(|| saved.settings.as_ref().and_then(|s| s.ca_cert.clone()))
            .or_else(|| saved.legacy.as_ref().and_then(|c| c.ca_cert.clone()));
        Config {
            host,
            host_source,
            token,
            token_source,
            ca_cert,
        }
    }

    /// Reads the saved files at `paths` and resolves against `env`.
    pub fn load(env: &Env, paths: &Paths) -> Result<Config, CliError> {
        Ok(Config::resolve(env, &Saved::load(paths)?))
    }

    /// The token, or the error telling the user how to set one.
    pub fn token(&self) -> Result<&str, CliError> {
        self.token.as_deref().ok_or(CliError::NoToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy() -> Credentials {
        Credentials {
            host: "https://file.example:8443".into(),
            token: "file-token".into(),
            ca_cert: Some(PathBuf::from("/file/ca.pem")),
        }
    }

    fn saved_legacy() -> Saved {
        Saved {
            legacy: Some(legacy()),
            ..Saved::default()
        }
    }

    #[test]
    fn env_wins_over_files() {
        let env = Env::from_pairs([
            (ENV_HOST, "http://127.0.0.1:5000"),
            (ENV_API_KEY, "env-token"),
            (ENV_CA_CERT, "/env/ca.pem"),
        ]);
        let cfg = Config::resolve(&env, &saved_legacy());
        assert_eq!(cfg.host, "http://127.0.0.1:5000");
        assert_eq!(cfg.host_source, Source::Env);
        assert_eq!(cfg.token.as_deref(), Some("env-token"));
        assert_eq!(cfg.ca_cert, Some(PathBuf::from("/env/ca.pem")));
    }

    #[test]
    fn legacy_file_still_read() {
        let env = Env::from_pairs([(ENV_HOST, "  ")]);
        let cfg = Config::resolve(&env, &saved_legacy());
        assert_eq!(cfg.host, "https://file.example:8443");
        assert_eq!(cfg.host_source, Source::Legacy);
        assert_eq!(cfg.token.as_deref(), Some("file-token"));
        assert_eq!(cfg.token_source, Some(Source::Legacy));
        assert_eq!(cfg.ca_cert, Some(PathBuf::from("/file/ca.pem")));
        // The old file's token is only for its own host.
        let env = Env::from_pairs([(ENV_HOST, "https://other.example")]);
        assert_eq!(Config::resolve(&env, &saved_legacy()).token, None);
    }

    #[test]
    fn netrc_token_for_the_host_name() {
        let mut netrc = Netrc::default();
        netrc.set("paas.example.org", "me@example.org", "netrc-token");
        let saved = Saved {
            settings: Some(Settings {
                host: Some("https://paas.example.org:8443/".into()),
                ca_cert: Some("/etc/doppel-ca.pem".into()),
            }),
            netrc,
            legacy: Some(legacy()),
        };
        let cfg = Config::resolve(&Env::default(), &saved);
        assert_eq!(cfg.host, "https://paas.example.org:8443");
        assert_eq!(cfg.host_source, Source::File);
        assert_eq!(cfg.token.as_deref(), Some("netrc-token"));
        assert_eq!(cfg.token_source, Some(Source::File));
        assert_eq!(cfg.ca_cert, Some(PathBuf::from("/etc/doppel-ca.pem")));
        let env = Env::from_pairs([(ENV_API_KEY, "env-token")]);
        assert_eq!(
            Config::resolve(&env, &saved).token.as_deref(),
            Some("env-token")
        );
    }

    #[test]
    fn defaults_without_env_or_files() {
        let cfg = Config::resolve(&Env::default(), &Saved::default());
        assert_eq!(cfg.host, DEFAULT_HOST);
        assert_eq!(cfg.host_source, Source::Default);
        assert!(matches!(cfg.token(), Err(CliError::NoToken)));
        let msg = CliError::NoToken.to_string();
        assert!(msg.contains("DOPPEL_API_KEY") && msg.contains("doppel login"));
    }

    #[test]
    fn paths_prefer_xdg_for_settings_and_home_for_netrc() {
        let env = Env::from_pairs([("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/u")]);
        let p = env.paths();
        assert_eq!(p.settings, Some(PathBuf::from("/xdg/doppel/config.json")));
        assert_eq!(
            p.legacy,
            Some(PathBuf::from("/xdg/doppel/credentials.json"))
        );
        assert_eq!(p.netrc, Some(PathBuf::from("/home/u/.netrc")));
        let p = Env::from_pairs([("HOME", "/home/u")]).paths();
        assert_eq!(
            p.settings,
            Some(PathBuf::from("/home/u/.config/doppel/config.json"))
        );
        assert_eq!(Env::default().paths(), Paths::default());
    }

    #[test]
    fn machine_is_the_bare_host_name() {
        assert_eq!(
            netrc_machine("https://Localhost:8443/").as_deref(),
            Some("localhost")
        );
        assert_eq!(netrc_machine("http://[::1]:5000").as_deref(), Some("::1"));
        assert_eq!(netrc_machine("not a url"), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let cfg = Config::resolve(&Env::default(), &saved_legacy());
        assert!(!format!("{cfg:?}").contains("file-token"));
        assert!(!format!("{:?}", legacy()).contains("file-token"));
        let env = Env::from_pairs([(ENV_API_KEY, "secret-env")]);
        assert!(!format!("{env:?}").contains("secret-env"));
    }

    #[cfg(unix)]
    #[test]
    fn settings_are_private_and_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cfg/doppel/config.json");
        let s = Settings {
            host: Some("https://h".into()),
            ca_cert: None,
        };
        s.save(&path)?;
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let parent = path.parent().ok_or("no parent")?;
        assert_eq!(
            std::fs::metadata(parent)?.permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(Settings::load(&path)?, Some(s));
        assert!(remove_file(&path)?);
        assert!(!remove_file(&path)?);
        Ok(())
    }

    #[test]
    fn malformed_file_is_reported() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("credentials.json");
        std::fs::write(&path, "not json")?;
        let err = Credentials::load(&path).err().ok_or("expected an error")?;
        assert!(matches!(err, CliError::CredentialsFormat { .. }));
        assert!(err.to_string().contains("doppel login"));
        Ok(())
    }
}

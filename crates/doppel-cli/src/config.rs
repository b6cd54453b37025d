//! Where the client finds its server and token: environment variables first, then the
//! credentials file that `doppel login` writes (0600), then defaults.

use crate::error::CliError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The server URL used when neither DOPPEL_HOST nor the credentials file names one.
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

    /// `$XDG_CONFIG_HOME/doppel/credentials.json`, else `~/.config/doppel/credentials.json`.
    pub fn credentials_path(&self) -> Option<PathBuf> {
        let base = match self.get("XDG_CONFIG_HOME").map(PathBuf::from) {
            Some(xdg) if xdg.is_absolute() => xdg,
            _ => PathBuf::from(self.get("HOME")?).join(".config"),
        };
        Some(base.join("doppel").join("credentials.json"))
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&String> = self.vars.keys().collect();
        f.debug_struct("Env").field("keys", &keys).finish()
    }
}

/// What `doppel login` saves.
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

impl Credentials {
    /// Reads the credentials file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Credentials>, CliError> {
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

    /// Writes the credentials file readable by its owner only (0600; the folder 0700),
    /// replacing any earlier file in one step.
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

    /// Removes the credentials file; `Ok(false)` when there was none.
    pub fn remove(path: &Path) -> Result<bool, CliError> {
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
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Where a setting came from, to word hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
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

impl Config {
    /// Environment variables win over the credentials file; the file over defaults.
    pub fn resolve(env: &Env, file: Option<&Credentials>) -> Config {
        let (host, host_source) = match (env.get(ENV_HOST), file) {
            (Some(h), _) => (h.trim().to_string(), Source::Env),
            (None, Some(c)) if !c.host.trim().is_empty() => {
                (c.host.trim().to_string(), Source::File)
            }
            _ => (DEFAULT_HOST.to_string(), Source::Default),
        };
        let (token, token_source) = match (env.get(ENV_API_KEY), file) {
            (Some(t), _) => (Some(t.trim().to_string()), Some(Source::Env)),
            (None, Some(c)) if !c.token.trim().is_empty() => {
                (Some(c.token.trim().to_string()), Some(Source::File))
            }
            _ => (None, None),
        };
        let ca_cert = env
            .get(ENV_CA_CERT)
            .map(PathBuf::from)
            .or_else(|| file.and_then(|c| c.ca_cert.clone()));
        Config {
            host,
            host_source,
            token,
            token_source,
            ca_cert,
        }
    }

    /// Reads the credentials file (if any) at `path` and resolves against `env`.
    pub fn load(env: &Env, path: Option<&Path>) -> Result<Config, CliError> {
        let file = match path {
            Some(p) => Credentials::load(p)?,
            None => None,
        };
        Ok(Config::resolve(env, file.as_ref()))
    }

    /// The token, or the error telling the user how to set one.
    pub fn token(&self) -> Result<&str, CliError> {
        self.token.as_deref().ok_or(CliError::NoToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            host: "https://file.example:8443".into(),
            token: "file-token".into(),
            ca_cert: Some(PathBuf::from("/file/ca.pem")),
        }
    }

    #[test]
    fn env_wins_over_file() {
        let env = Env::from_pairs([
            (ENV_HOST, "http://127.0.0.1:5000"),
            (ENV_API_KEY, "env-token"),
            (ENV_CA_CERT, "/env/ca.pem"),
        ]);
        let cfg = Config::resolve(&env, Some(&creds()));
        assert_eq!(cfg.host, "http://127.0.0.1:5000");
        assert_eq!(cfg.host_source, Source::Env);
        assert_eq!(cfg.token.as_deref(), Some("env-token"));
        assert_eq!(cfg.ca_cert, Some(PathBuf::from("/env/ca.pem")));
    }

    #[test]
    fn file_fills_what_env_leaves_unset() {
        let env = Env::from_pairs([(ENV_API_KEY, "env-token"), (ENV_HOST, "  ")]);
        let cfg = Config::resolve(&env, Some(&creds()));
        assert_eq!(cfg.host, "https://file.example:8443");
        assert_eq!(cfg.host_source, Source::File);
        assert_eq!(cfg.token.as_deref(), Some("env-token"));
        assert_eq!(cfg.token_source, Some(Source::Env));
        assert_eq!(cfg.ca_cert, Some(PathBuf::from("/file/ca.pem")));
    }

    #[test]
    fn defaults_without_env_or_file() {
        let cfg = Config::resolve(&Env::default(), None);
        assert_eq!(cfg.host, DEFAULT_HOST);
        assert_eq!(cfg.host_source, Source::Default);
        assert!(matches!(cfg.token(), Err(CliError::NoToken)));
        let msg = CliError::NoToken.to_string();
        assert!(msg.contains("DOPPEL_API_KEY") && msg.contains("doppel login"));
    }

    #[test]
    fn credentials_path_prefers_xdg() {
        let env = Env::from_pairs([("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/u")]);
        assert_eq!(
            env.credentials_path(),
            Some(PathBuf::from("/xdg/doppel/credentials.json"))
        );
        let env = Env::from_pairs([("HOME", "/home/u")]);
        assert_eq!(
            env.credentials_path(),
            Some(PathBuf::from("/home/u/.config/doppel/credentials.json"))
        );
        assert_eq!(Env::default().credentials_path(), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let cfg = Config::resolve(&Env::default(), Some(&creds()));
        assert!(!format!("{cfg:?}").contains("file-token"));
        assert!(!format!("{:?}", creds()).contains("file-token"));
        let env = Env::from_pairs([(ENV_API_KEY, "secret-env")]);
        assert!(!format!("{env:?}").contains("secret-env"));
    }

    #[cfg(unix)]
    #[test]
    fn saved_credentials_are_private_and_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cfg/doppel/credentials.json");
        creds().save(&path)?;
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().ok_or("no parent")?)?
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(Credentials::load(&path)?, Some(creds()));

        // Overwriting an existing, too-open file leaves it 0600 as well.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        creds().save(&path)?;
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        assert!(Credentials::remove(&path)?);
        assert!(!Credentials::remove(&path)?);
        assert_eq!(Credentials::load(&path)?, None);
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

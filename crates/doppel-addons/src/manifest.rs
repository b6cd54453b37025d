//! A provider manifest: everything doppel needs to run one kind of service (its image or the
//! recipe that makes it, port, health check, URL template, and the shell commands for backup,
//! verify, restore, rotate, info and shells), read from TOML and checked once. The contract
//! is `addons/README.md`.

use serde::Deserialize;

use crate::error::AddonError;

/// One plan of a service: a name and the memory its server may use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub name: String,
    #[serde(default)]
    pub default: bool,
    pub memory_mb: u64,
}

/// How the service's image comes to exist: a local image an admin provides, or packages from
/// the Debian archive installed on a stack's run image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ImageRecipe {
    /// A local image used as is (nothing is ever pulled).
    #[serde(default)]
    pub image: Option<String>,
    /// The stack whose run image the recipe starts from; the server's default when absent.
    #[serde(default)]
    pub stack: Option<String>,
    /// Debian packages installed with apt.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Shell run as root before the packages are installed.
    #[serde(default)]
    pub before: Option<String>,
    /// Shell run as root after the packages are installed.
    #[serde(default)]
    pub after: Option<String>,
}

/// The shell scripts of a provider. Each runs inside the service's container as its user,
/// with the `DOPPEL_ADDON_*` variables set (see `addons/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// The server, as the container's command (`exec` it).
    pub start: String,
    /// Exits 0 once the server accepts connections.
    pub health: String,
    /// Prints the server's version on its first line.
    #[serde(default)]
    pub version: Option<String>,
    /// Writes a backup to standard output; `doppel-count<TAB>name<TAB>n` lines on standard
    /// error say what it holds.
    #[serde(default)]
    pub backup: Option<String>,
    /// Reads a backup on standard input, loads it somewhere scratch and prints the same
    /// `doppel-count` lines on standard output.
    #[serde(default)]
    pub verify: Option<String>,
    /// Reads a backup on standard input and makes the live data exactly that (with
    /// `$DOPPEL_SCRIPT` applied first when set); a failure must change nothing.
    #[serde(default)]
    pub restore: Option<String>,
    /// Runs what standard input holds (SQL, commands) as the app would, printing the answers.
    #[serde(default)]
    pub run: Option<String>,
    /// An interactive client (run on a terminal).
    #[serde(default)]
    pub shell: Option<String>,
    /// Sets the password to `$DOPPEL_NEW_PASSWORD`; the old one must stop working. Running it
    /// twice with the same password is harmless.
    #[serde(default)]
    pub rotate: Option<String>,
    /// Prints `Key: value` lines about the running server.
    #[serde(default)]
    pub info: Option<String>,
}

/// A provider manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The service's doppel name (`postgres`): `addons:create postgres`.
    pub name: String,
    pub human_name: String,
    #[serde(default)]
    pub description: String,
    /// Other names it answers to (`heroku-postgresql`), so Heroku's plan names work.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Add-on names start with it: `postgresql-curly-12345`.
    pub name_prefix: String,
    /// The first add-on of the service in an environment is attached as this (`DATABASE`).
    pub attachment: String,
    /// Every add-on also gets this attachment (`{color}` is replaced), and further add-ons
    /// only this one: Heroku's `HEROKU_POSTGRESQL_<COLOR>`.
    #[serde(default)]
    pub alias_attachment: Option<String>,
    /// The URL an attachment's `<NAME>_URL` holds: `{user}`, `{password}`, `{host}`,
    /// `{port}`, `{database}`.
    pub url: String,
    pub port: u16,
    /// Where the add-on's volume is mounted (owned by `user` in the image).
    pub data_path: String,
    /// The user the server and every command run as.
    pub user: String,
    /// File name extension of its backups.
    #[serde(default = "default_extension")]
    pub backup_extension: String,
    /// How scripts are run (`["/bin/sh", "-c"]` by default).
    #[serde(default = "default_interpreter")]
    pub interpreter: Vec<String>,
    /// Size of `/dev/shm` (MiB); the engine's default (64) when absent.
    #[serde(default)]
    pub shm_mb: Option<u64>,
    #[serde(default)]
    pub image: ImageRecipe,
    pub plans: Vec<Plan>,
    pub commands: Commands,
}

fn default_extension() -> String {
    "backup".to_string()
}

fn default_interpreter() -> Vec<String> {
    vec!["/bin/sh".to_string(), "-c".to_string()]
}

/// A plan or service name: lowercase letters, digits and dashes, starting with a letter.
fn valid_word(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A config-var prefix: uppercase letters, digits and underscores, starting with a letter.
pub fn valid_attachment_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.len() <= 60
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

impl Manifest {
    /// Parses and checks a manifest; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Manifest, AddonError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| AddonError::Manifest {
            source_name: source.to_string(),
            reason: e.to_string(),
        })?;
        manifest.check().map_err(|reason| AddonError::Manifest {
            source_name: source.to_string(),
            reason,
        })?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), String> {
        for name in std::iter::once(&self.name)
            .chain(&self.aliases)
            .chain(std::iter::once(&self.name_prefix))
        {
            if !valid_word(name) {
                return Err(format!(
                    "{name:?} must be lowercase letters, digits and dashes, starting with a letter"
                ));
            }
        }
        if !valid_attachment_name(&self.attachment) {
            return Err(format!(
                "attachment {:?} must be uppercase letters, digits and underscores",
                self.attachment
            ));
        }
        if let Some(alias) = &self.alias_attachment {
            if !valid_attachment_name(&alias.replace("{color}", "AMBER")) {
                return Err(format!(
                    "alias_attachment {alias:?} is not a config-var prefix"
                ));
            }
        }
        if self.plans.is_empty() {
            return Err("at least one plan is needed".to_string());
        }
        if let Some(bad) = self.plans.iter().find(|p| !valid_word(&p.name)) {
            return Err(format!("plan name {:?} is not valid", bad.name));
        }
        if self.plans.iter().filter(|p| p.default).count() > 1 {
            return Err("only one plan may be the default".to_string());
        }
        if self.plans.iter().any(|p| p.memory_mb < 16) {
            return Err("a plan needs at least 16 MiB of memory".to_string());
        }
        if !self.data_path.starts_with('/') {
            return Err(format!("data_path {:?} must be absolute", self.data_path));
        }
        if self.interpreter.is_empty() {
            return Err("interpreter must name a program".to_string());
        }
        if self.image.image.is_none() && self.image.packages.is_empty() {
            return Err("[image] needs an image or packages to install".to_string());
        }
        let c = &self.commands;
        if c.start.trim().is_empty() || c.health.trim().is_empty() {
            return Err("commands.start and commands.health are required".to_string());
        }
        let backups = [&c.backup, &c.verify, &c.restore];
        let present = backups.iter().filter(|b| b.is_some()).count();
        if present != 0 && present != 3 {
            return Err("commands.backup, verify and restore go together".to_string());
        }
        Ok(())
    }

    /// Whether `word` names this service (its name or an alias).
    pub fn answers_to(&self, word: &str) -> bool {
        self.name == word || self.aliases.iter().any(|a| a == word)
    }

    /// The default plan (the one marked, else the first; a checked manifest has one).
    pub fn default_plan(&self) -> Option<&Plan> {
        self.plans
            .iter()
            .find(|p| p.default)
            .or_else(|| self.plans.first())
    }

    /// A plan by name.
    pub fn plan(&self, name: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.name == name)
    }

    /// Whether backups, verification and restores are possible.
    pub fn supports_backups(&self) -> bool {
        self.commands.backup.is_some()
    }

    /// The attachment names of the `n`-th add-on of this service in one environment (0 for
    /// the first): `[DATABASE, HEROKU_POSTGRESQL_AMBER]`, then only the alias.
    pub fn attachment_names(&self, color: &str, first: bool) -> Vec<String> {
        let mut names = Vec::new();
        if first {
            names.push(self.attachment.clone());
        }
        match &self.alias_attachment {
            Some(alias) => names.push(alias.replace("{color}", color)),
            None if !first => names.push(format!("{}_{color}", self.attachment)),
            None => {}
        }
        names
    }

    /// The URL for connecting to an add-on at `host`.
    pub fn render_url(&self, user: &str, password: &str, host: &str, database: &str) -> String {
        self.url
            .replace("{user}", user)
            .replace("{password}", password)
            .replace("{host}", host)
            .replace("{port}", &self.port.to_string())
            .replace("{database}", database)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "memcached"
human_name = "Memcached"
name_prefix = "memcached"
attachment = "MEMCACHED"
url = "memcache://{host}:{port}"
port = 11211
data_path = "/data"
user = "memcache"
[image]
packages = ["memcached"]
[[plans]]
name = "small"
memory_mb = 64
[commands]
start = "exec memcached -p $DOPPEL_ADDON_PORT"
health = "true"
"#;

    #[test]
    fn a_minimal_manifest_parses_with_defaults() -> Result<(), AddonError> {
        let m = Manifest::parse(MINIMAL, "memcached.toml")?;
        assert_eq!(m.default_plan().map(|p| p.name.as_str()), Some("small"));
        assert_eq!(m.interpreter, ["/bin/sh", "-c"]);
        assert!(!m.supports_backups());
        assert_eq!(m.attachment_names("RED", true), ["MEMCACHED"]);
        assert_eq!(m.attachment_names("RED", false), ["MEMCACHED_RED"]);
        assert_eq!(
            m.render_url("u", "p", "memcached-x-1", "d"),
            "memcache://memcached-x-1:11211"
        );
        Ok(())
    }

    #[test]
    fn bad_manifests_are_refused_with_a_reason() {
        let cases = [
            (
                MINIMAL.replace("name = \"memcached\"", "name = \"Mem\""),
                "lowercase",
            ),
            (
                MINIMAL.replace("attachment = \"MEMCACHED\"", "attachment = \"x\""),
                "attachment",
            ),
            (MINIMAL.replace("memory_mb = 64", "memory_mb = 1"), "16 MiB"),
            (
                MINIMAL.replace("data_path = \"/data\"", "data_path = \"data\""),
                "absolute",
            ),
            (
                MINIMAL.replace("health = \"true\"", "backup = \"x\"\nhealth = \"true\""),
                "together",
            ),
            (
                MINIMAL.replace("port = 11211", "port = 11211\nsurprise = 1"),
                "unknown field",
            ),
        ];
        for (text, needle) in cases {
            let err = Manifest::parse(&text, "m.toml")
                .err()
                .map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains(needle) && e.contains("m.toml")),
                "{needle}: {err:?}"
            );
        }
    }
}

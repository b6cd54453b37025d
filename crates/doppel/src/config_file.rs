//! Settings from four layers: flags > `DOPPEL_*` environment variables > the config file
//! (TOML, `/etc/doppel/doppel.toml` by default) > defaults.
//!
//! No key is listed here: every long flag of a subcommand is a file key of the same name, and
//! its clap `env` attribute names its variable, so a new flag is a new key with no further
//! code. Resolution is a pure function of (arguments, an environment lookup, the file's text);
//! [`load`] adds the one piece of I/O, reading the file.

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use std::any::TypeId;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// The config file read when neither `--config` nor `DOPPEL_CONFIG` names one.
pub const DEFAULT_PATH: &str = "/etc/doppel/doppel.toml";

/// The flags about the config file itself (they are not keys of it). Flatten them into a
/// subcommand's arguments.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfigFlags {
    /// TOML file of settings whose keys are the long flags below (data-dir = "…").
    /// Flags beat environment variables, which beat the file, which beats the defaults.
    /// [default: /etc/doppel/doppel.toml, skipped when missing]
    #[arg(long, env = "DOPPEL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the settings in effect and where each comes from, as TOML, then exit.
    #[arg(long)]
    pub print_config: bool,
}

/// Why the settings could not be worked out. Nothing has been started when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the config file {path} (named by {named_by}) does not exist; create it, or drop \
         {named_by} to use {DEFAULT_PATH} when it exists"
    )]
    Missing { path: PathBuf, named_by: String },
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("the config file {path} has {} problem(s); fix them and start again:\n  {}", .problems.len(), .problems.join("\n  "))]
    File {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("{} environment variable(s) are wrong; fix or unset them:\n  {}", .problems.len(), .problems.join("\n  "))]
    Env { problems: Vec<String> },
    #[error("{0}")]
    Args(String),
}

/// Where the config file is, and who asked for it (`None`: the default path, which may be
/// missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub named_by: Option<String>,
}

/// The text of a config file, and its path for messages.
#[derive(Debug, Clone, Copy)]
pub struct FileText<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(String),
    File,
    Default,
}

/// One setting in effect, for `--print-config`.
#[derive(Debug, Clone)]
pub struct Setting {
    pub key: String,
    /// Raw values as given (several for a list; none when unset).
    pub values: Vec<String>,
    pub origin: Origin,
    kind: Kind,
}

/// The arguments with every layer applied, and how each came about.
#[derive(Debug)]
pub struct Resolved<T> {
    pub args: T,
    pub settings: Vec<Setting>,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
    pub print_config: bool,
}

/// How a flag takes its value, and the TOML type its key wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `--flag` alone (clap `SetTrue`/`SetFalse`); TOML boolean.
    Switch { when_given: bool },
    /// One value; TOML `ty`.
    One(Ty),
    /// Repeatable (clap `Append`); TOML array of `ty`.
    Many(Ty),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Integer,
    /// f32, f64: a TOML float or integer.
    Float,
    Boolean,
    Text,
    /// A type of its own parser (durations, enums…): strings or numbers, checked by it.
    Other,
}

impl Ty {
    fn of(arg: &Arg) -> Ty {
        let id = arg.get_value_parser().type_id();
        let integers = [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<usize>(),
            TypeId::of::<i8>(),
            TypeId::of::<i16>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
            TypeId::of::<isize>(),
        ];
        let texts = [
            TypeId::of::<String>(),
            TypeId::of::<PathBuf>(),
            TypeId::of::<OsString>(),
            TypeId::of::<std::net::IpAddr>(),
            TypeId::of::<std::net::SocketAddr>(),
        ];
        if integers.iter().any(|t| id == *t) {
            Ty::Integer
        } else if id == TypeId::of::<f64>() || id == TypeId::of::<f32>() {
            Ty::Float
        } else if id == TypeId::of::<bool>() {
            Ty::Boolean
        } else if texts.iter().any(|t| id == *t) {
            Ty::Text
        } else {
            Ty::Other
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Integer => "an integer",
            Ty::Float => "a number",
            Ty::Boolean => "true or false",
            Ty::Text => "a string in quotes",
            Ty::Other => "a string or a number",
        }
    }
}

/// One key: a long flag, its variable, its shape.
#[derive(Debug, Clone)]
struct Key {
    id: String,
    name: String,
    env: Option<String>,
    kind: Kind,
}

impl Key {
    fn of(arg: &Arg) -> Option<Key> {
        let name = arg.get_long()?.to_string();
        let kind = match arg.get_action() {
            ArgAction::SetTrue => Kind::Switch { when_given: true },
            ArgAction::SetFalse => Kind::Switch { when_given: false },
            ArgAction::Append => Kind::Many(Ty::of(arg)),
            ArgAction::Set => Kind::One(Ty::of(arg)),
            _ => return None,
        };
        Some(Key {
            id: arg.get_id().to_string(),
            name,
            env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
            kind,
        })
    }
}

/// Whether a key's value may hold something better kept off screens (a password in a URL).
fn secret(key: &str) -> bool {
    ["url", "password", "secret", "token"]
        .iter()
        .any(|w| key.contains(w))
}

/// A value from the environment or the file, in the shape the flag takes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Given {
    Switch(bool),
    Values(Vec<OsString>),
}

impl Given {
    /// The arguments that say the same on a command line.
    fn to_args(&self, key: &Key) -> Vec<OsString> {
        match (self, key.kind) {
            (Given::Switch(on), Kind::Switch { when_given }) if *on == when_given => {
                vec![OsString::from(format!("--{}", key.name))]
            }
            (Given::Switch(_), _) => Vec::new(),
            (Given::Values(values), _) => values
                .iter()
                .map(|v| {
                    let mut arg = OsString::from(format!("--{}=", key.name));
                    arg.push(v);
                    arg
                })
                .collect(),
        }
    }
}

/// The keys a subcommand's arguments make: its long flags, less the [`ConfigFlags`] ones.
fn keys_of(cmd: &Command) -> Vec<Key> {
    let own = ConfigFlags::augment_args(Command::new("config"));
    let skip: BTreeSet<&str> = own
        .get_arguments()
        .map(|a| a.get_id().as_str())
        .chain(["help", "version"])
        .collect();
    cmd.get_arguments()
        .filter(|a| !skip.contains(a.get_id().as_str()) && !a.is_positional())
        .filter_map(Key::of)
        .collect()
}

/// The config file keys of a subcommand's arguments.
#[cfg(test)]
pub fn key_names<T: Args>() -> Vec<String> {
    keys_of(&T::augment_args(Command::new("keys")))
        .into_iter()
        .map(|k| k.name)
        .collect()
}

/// A subcommand whose arguments no longer read their variables (`resolve` does) but still
/// name them in `--help`.
pub fn env_in_help_only(cmd: Command) -> Command {
    cmd.mut_args(
        |arg| match arg.get_env().map(|e| e.to_string_lossy().into_owned()) {
            Some(var) => {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                let help = format!("{help} [env: {var}]");
                arg.env(None::<&'static str>)
                    .help(help.trim_start().to_string())
            }
            None => arg,
        },
    )
}

/// The subcommand as clap sees it, with its environment variables left to us.
fn command_of<T: Args>(name: &'static str) -> Command {
    T::augment_args(Command::new(name)).mut_args(|a| a.env(None::<&'static str>))
}

/// A subcommand's arguments, parsed but not yet layered with the environment and the file.
pub struct Invocation<T> {
    name: &'static str,
    cmd: Command,
    keys: Vec<Key>,
    /// Keys the file may hold: `keys`, or those of a wider command (see [`Self::file_keys_of`]).
    file_keys: Vec<Key>,
    file_cmd: Command,
    argv: Vec<OsString>,
    cli: ArgMatches,
    _args: PhantomData<T>,
}

impl<T: Args + FromArgMatches> Invocation<T> {
    /// `argv` is the subcommand's name followed by its arguments (`["server", "--bind", …]`).
    pub fn parse(name: &'static str, argv: &[OsString]) -> Result<Self, ConfigError> {
        let keys = keys_of(&T::augment_args(Command::new(name)));
        let cmd = command_of::<T>(name);
        let cli = cmd
            .clone()
            .try_get_matches_from(argv)
            .map_err(|e| ConfigError::Args(e.render().to_string()))?;
        Ok(Invocation {
            name,
            file_cmd: cmd.clone(),
            file_keys: keys.clone(),
            cmd,
            keys,
            argv: argv.to_vec(),
            cli,
            _args: PhantomData,
        })
    }

    /// Accepts in the file every key of `W` (a wider subcommand sharing flags with this one),
    /// using those this one has and ignoring the rest: `doppel stack build` reads the server's
    /// file.
    pub fn file_keys_of<W: Args>(mut self, name: &'static str) -> Self {
        self.file_keys = keys_of(&W::augment_args(Command::new(name)));
        self.file_cmd = command_of::<W>(name);
        self
    }

    /// The config file to read: `--config`, else `DOPPEL_CONFIG`, else [`DEFAULT_PATH`].
    pub fn location(&self, env: &dyn Fn(&str) -> Option<OsString>) -> Location {
        if let Ok(Some(path)) = self.cli.try_get_one::<PathBuf>("config") {
            return Location {
                path: path.clone(),
                named_by: Some("--config".to_string()),
            };
        }
        match env("DOPPEL_CONFIG").filter(|v| !v.is_empty()) {
            Some(path) => Location {
                path: PathBuf::from(path),
                named_by: Some("DOPPEL_CONFIG".to_string()),
            },
            None => Location {
                path: PathBuf::from(DEFAULT_PATH),
                named_by: None,
            },
        }
    }

    /// Layers flags over the environment over `file` over the defaults.
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
        file: Option<FileText<'_>>,
    ) -> Result<Resolved<T>, ConfigError> {
        let from_file = match file {
            Some(file) => self.file_layer(file)?,
            None => Vec::new(),
        };
        let from_env = self.env_layer(env)?;

        let mut argv = vec![OsString::from(self.name)];
        let mut origins = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let origin = if self.cli.value_source(&key.id) == Some(ValueSource::CommandLine) {
                Origin::Flag
            } else if let Some((var, given)) = lookup(&from_env, key) {
                argv.extend(given.to_args(key));
                Origin::Env(var.clone())
            } else if let Some((_, given)) = lookup(&from_file, key) {
                argv.extend(given.to_args(key));
                Origin::File
            } else {
                Origin::Default
            };
            origins.push(origin);
        }
        // The command line last, as given: flags keep their exact meaning.
        argv.extend(self.argv.iter().skip(1).cloned());

        let matches = self
            .cmd
            .clone()
            .try_get_matches_from(&argv)
            .map_err(|e| ConfigError::Args(e.render().to_string()))?;
        let args =
            T::from_arg_matches(&matches).map_err(|e| ConfigError::Args(e.render().to_string()))?;
        let settings = self
            .keys
            .iter()
            .zip(origins)
            .map(|(key, origin)| Setting {
                key: key.name.clone(),
                values: matches
                    .get_raw(&key.id)
                    .map(|vals| {
                        vals.map(|v| v.to_string_lossy().into_owned())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
                origin,
                kind: key.kind,
            })
            .collect();
        Ok(Resolved {
            args,
            settings,
            file: file.map(|f| f.path.to_path_buf()),
            print_config: matches!(self.cli.try_get_one::<bool>("print_config"), Ok(Some(true))),
        })
    }

    /// Each key's variable, when set to something other than the empty string.
    fn env_layer(
        &self,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Vec<(String, String, Given)>, ConfigError> {
        let mut layer = Vec::new();
        let mut problems = Vec::new();
        for key in &self.keys {
            let Some(var) = &key.env else { continue };
            let Some(value) = env(var).filter(|v| !v.is_empty()) else {
                continue;
            };
            let shown = value.to_string_lossy().into_owned();
            let given = match key.kind {
                Kind::Switch { .. } => match parse_bool(&shown) {
                    Some(b) => Given::Switch(b),
                    None => {
                        problems.push(format!("{var}={shown:?}: must be true or false"));
                        continue;
                    }
                },
                _ => Given::Values(vec![value]),
            };
            match check(&self.cmd, self.name, key, &given) {
                Ok(()) => layer.push((key.name.clone(), var.clone(), given)),
                Err(message) => {
                    let shown = if secret(&key.name) {
                        "…"
                    } else {
                        shown.as_str()
                    };
                    problems.push(format!("{var}={shown:?}: {message}"));
                }
            }
        }
        if problems.is_empty() {
            Ok(layer)
        } else {
            Err(ConfigError::Env { problems })
        }
    }

    /// The file's keys, checked against the flags they stand for.
    fn file_layer(&self, file: FileText<'_>) -> Result<Vec<(String, String, Given)>, ConfigError> {
        let table = DeTable::parse(file.text).map_err(|e| ConfigError::Syntax {
            path: file.path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut layer = Vec::new();
        let mut problems: Vec<(usize, String)> = Vec::new();
        for (name, value) in table.get_ref() {
            let line = line_of(file.text, name.span().start);
            let Some(key) = self
                .file_keys
                .iter()
                .find(|k| k.name == name.get_ref().as_ref())
            else {
                problems.push((
                    line,
                    format!("line {line}: {}", self.unknown_key(name.get_ref())),
                ));
                continue;
            };
            let given = match from_toml(key, value.get_ref()) {
                Ok(given) => given,
                Err(found) => {
                    let expected = match key.kind {
                        Kind::Switch { .. } => "true or false".to_string(),
                        Kind::One(ty) => ty.describe().to_string(),
                        Kind::Many(ty) => format!("an array of {}s", ty.describe()),
                    };
                    problems.push((
                        line,
                        format!(
                            "line {line}: `{}` must be {expected}, not {found}",
                            key.name
                        ),
                    ));
                    continue;
                }
            };
            if let Err(message) = check(&self.file_cmd, self.name, key, &given) {
                problems.push((line, format!("line {line}: `{}`: {message}", key.name)));
                continue;
            }
            if self.keys.iter().any(|k| k.name == key.name) {
                layer.push((key.name.clone(), String::new(), given));
            }
        }
        if problems.is_empty() {
            Ok(layer)
        } else {
            problems.sort();
            Err(ConfigError::File {
                path: file.path.to_path_buf(),
                problems: problems.into_iter().map(|(_, p)| p).collect(),
            })
        }
    }

    fn unknown_key(&self, name: &str) -> String {
        let dashed = name.replace('_', "-");
        let hint = if name != dashed && self.file_keys.iter().any(|k| k.name == dashed) {
            format!(" (did you mean `{dashed}`? keys are spelled like the flags)")
        } else {
            String::new()
        };
        let known: Vec<&str> = self.file_keys.iter().map(|k| k.name.as_str()).collect();
        format!(
            "unknown key `{name}`{hint}; known keys: {}",
            known.join(", ")
        )
    }
}

/// Reads the config file [`Invocation::location`] names and resolves the layers: the whole of
/// what a subcommand does before it starts. A missing default file is fine; a missing file
/// named by `--config` or `DOPPEL_CONFIG` is an error.
pub fn load<T: Args + FromArgMatches>(
    invocation: &Invocation<T>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Resolved<T>, ConfigError> {
    let location = invocation.location(env);
    let text = match std::fs::read_to_string(&location.path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match location.named_by {
            None => None,
            Some(named_by) => {
                return Err(ConfigError::Missing {
                    path: location.path,
                    named_by,
                })
            }
        },
        Err(source) => {
            return Err(ConfigError::Read {
                path: location.path,
                source,
            })
        }
    };
    let file = text.as_deref().map(|text| FileText {
        path: &location.path,
        text,
    });
    invocation.resolve(env, file)
}

impl<T> Resolved<T> {
    /// The settings in effect as a TOML document that could be the config file, each line
    /// saying where its value came from. Values that may hold a password are not shown.
    pub fn to_toml(&self, command: &str) -> String {
        let file = self
            .file
            .as_ref()
            .map_or_else(|| "no config file".to_string(), |p| p.display().to_string());
        let mut out = format!(
            "# Settings of `doppel {command}` in effect (flag > environment > {file} > default).\n"
        );
        for s in &self.settings {
            let from = match &s.origin {
                Origin::Flag => "flag".to_string(),
                Origin::Env(var) => format!("environment {var}"),
                Origin::File => "config file".to_string(),
                Origin::Default => "default".to_string(),
            };
            let line = if s.values.is_empty() {
                format!("# {} is not set", s.key)
            } else if secret(&s.key) {
                format!("# {} is set (not shown: it may hold a password)", s.key)
            } else {
                format!("{} = {}", s.key, toml_value(s.kind, &s.values))
            };
            let _ = writeln!(out, "{line:<60} # {from}");
        }
        out
    }
}

/// A value as TOML source text.
fn toml_value(kind: Kind, values: &[String]) -> String {
    let one = |ty: Ty, v: &String| match ty {
        Ty::Integer | Ty::Float | Ty::Boolean => v.clone(),
        Ty::Text | Ty::Other => toml::Value::String(v.clone()).to_string(),
    };
    match kind {
        Kind::Switch { .. } => values.first().cloned().unwrap_or_default(),
        Kind::One(ty) => values.first().map(|v| one(ty, v)).unwrap_or_default(),
        Kind::Many(ty) => {
            let items: Vec<String> = values.iter().map(|v| one(ty, v)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn lookup<'a>(layer: &'a [(String, String, Given)], key: &Key) -> Option<(&'a String, &'a Given)> {
    layer
        .iter()
        .find(|(name, _, _)| *name == key.name)
        .map(|(_, var, given)| (var, given))
}

/// Whether clap accepts `given` for `key`, by parsing it alone; the reason when not.
fn check(cmd: &Command, name: &'static str, key: &Key, given: &Given) -> Result<(), String> {
    let mut argv = vec![OsString::from(name)];
    argv.extend(given.to_args(key));
    match cmd.clone().try_get_matches_from(argv) {
        Ok(_) => Ok(()),
        // Only this value is on trial, not what else the subcommand requires.
        Err(e) if e.kind() == ErrorKind::MissingRequiredArgument => Ok(()),
        Err(e) => Err(match std::error::Error::source(&e) {
            Some(cause) => cause.to_string(),
            None => {
                let text = e.render().to_string();
                let first = text.lines().next().unwrap_or_default();
                first.trim_start_matches("error: ").to_string()
            }
        }),
    }
}

/// A TOML value in the shape `key` takes; the TOML type found when it does not fit.
fn from_toml(key: &Key, value: &DeValue<'_>) -> Result<Given, &'static str> {
    match key.kind {
        Kind::Switch { .. } => match value {
            DeValue::Boolean(b) => Ok(Given::Switch(*b)),
            other => Err(type_name(other)),
        },
        Kind::One(ty) => scalar(ty, value).map(|v| Given::Values(vec![v])),
        Kind::Many(ty) => match value {
            DeValue::Array(items) => items
                .iter()
                .map(|item| scalar(ty, item.get_ref()))
                .collect::<Result<Vec<_>, _>>()
                .map(Given::Values),
            other => Err(type_name(other)),
        },
    }
}

fn scalar(ty: Ty, value: &DeValue<'_>) -> Result<OsString, &'static str> {
    let text = match (ty, value) {
        (Ty::Text | Ty::Other, DeValue::String(s)) => s.to_string(),
        (Ty::Integer | Ty::Float | Ty::Other, DeValue::Integer(i)) => {
            // Out of i128's range is out of every flag's range: let clap say so.
            i128::from_str_radix(i.as_str(), i.radix())
                .map_or_else(|_| i.to_string(), |n| n.to_string())
        }
        (Ty::Float | Ty::Other, DeValue::Float(f)) => f.to_string(),
        (Ty::Boolean, DeValue::Boolean(b)) => b.to_string(),
        (_, other) => return Err(type_name(other)),
    };
    Ok(OsString::from(text))
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |head| head.matches('\n').count())
        + 1
}

#[cfg(test)]
mod tests;

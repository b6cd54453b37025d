//! Procfile parsing and the process types of a build: Procfile entries override the
//! buildpack's `default_process_types`, as on Heroku.

use std::collections::BTreeMap;

/// Process type → command, e.g. `web` → `gunicorn app:app`.
pub type ProcessTypes = BTreeMap<String, String>;

/// A parsed `Procfile`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Procfile {
    pub types: ProcessTypes,
}

/// What is wrong with a Procfile, with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcfileError {
    #[error("Procfile line {line}: expected `<process type>: <command>`, got {text:?}")]
    Syntax { line: usize, text: String },
    #[error(
        "Procfile line {line}: process type {name:?} may only contain letters, digits, '-' and '_'"
    )]
    BadType { line: usize, name: String },
    #[error("Procfile line {line}: process type {name:?} has an empty command")]
    EmptyCommand { line: usize, name: String },
    #[error("Procfile line {line}: process type {name:?} is declared twice")]
    Duplicate { line: usize, name: String },
    #[error("Procfile is not valid UTF-8")]
    NotUtf8,
}

/// Whether `name` is a valid process type (formation accepts `^[a-zA-Z0-9_-]+$`).
pub fn valid_process_type(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Procfile {
    /// Parses Procfile bytes. Blank lines and `#` comments are skipped.
    pub fn parse(bytes: &[u8]) -> Result<Procfile, ProcfileError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ProcfileError::NotUtf8)?;
        let mut types = ProcessTypes::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some((name, command)) = trimmed.split_once(':') else {
                return Err(ProcfileError::Syntax {
                    line,
                    text: raw.to_string(),
                });
            };
            let (name, command) = (name.trim(), command.trim());
            if !valid_process_type(name) {
                return Err(ProcfileError::BadType {
                    line,
                    name: name.to_string(),
                });
            }
            if command.is_empty() {
                return Err(ProcfileError::EmptyCommand {
                    line,
                    name: name.to_string(),
                });
            }
            if types
                .insert(name.to_string(), command.to_string())
                .is_some()
            {
                return Err(ProcfileError::Duplicate {
                    line,
                    name: name.to_string(),
                });
            }
        }
        Ok(Procfile { types })
    }
}

/// Merges the Procfile over the buildpack's defaults: a Procfile entry wins.
pub fn merge_process_types(procfile: Option<&Procfile>, defaults: &ProcessTypes) -> ProcessTypes {
    let mut merged = defaults.clone();
    if let Some(p) = procfile {
        merged.extend(p.types.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types_and_skips_comments() {
        let p = Procfile::parse(
            b"# hi\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n\nworker:  python w.py\n",
        );
        let p = p.ok().map(|p| p.types);
        let mut want = ProcessTypes::new();
        want.insert("web".into(), "gunicorn app:app --bind 0.0.0.0:$PORT".into());
        want.insert("worker".into(), "python w.py".into());
        assert_eq!(p, Some(want));
    }

    #[test]
    fn reports_the_broken_line() {
        assert_eq!(
            Procfile::parse(b"web: ok\nthis is not a procfile\n"),
            Err(ProcfileError::Syntax {
                line: 2,
                text: "this is not a procfile".into()
            })
        );
        assert!(matches!(
            Procfile::parse(b"we b: x"),
            Err(ProcfileError::BadType { line: 1, .. })
        ));
        assert!(matches!(
            Procfile::parse(b"web:   "),
            Err(ProcfileError::EmptyCommand { .. })
        ));
        assert!(matches!(
            Procfile::parse(b"web: a\nweb: b"),
            Err(ProcfileError::Duplicate { line: 2, .. })
        ));
        assert_eq!(Procfile::parse(&[0xff, 0xfe]), Err(ProcfileError::NotUtf8));
    }

    #[test]
    fn procfile_overrides_defaults() {
        let mut defaults = ProcessTypes::new();
        defaults.insert("web".into(), "default web".into());
        defaults.insert("console".into(), "python".into());
        let p = Procfile::parse(b"web: mine").ok();
        let merged = merge_process_types(p.as_ref(), &defaults);
        assert_eq!(merged.get("web").map(String::as_str), Some("mine"));
        assert_eq!(merged.get("console").map(String::as_str), Some("python"));
    }
}

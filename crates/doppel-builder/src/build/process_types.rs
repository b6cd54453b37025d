//! The process types of a buildpack build: the driver's result file, the app's Procfile, and
//! the requirement that `web` exists.

use std::collections::BTreeMap;

use doppel_types::{merge_process_types, ProcessTypes, Procfile};
use serde::Deserialize;

use super::BuildError;

/// `/tmp/doppel-result.json`, written by `buildpacks/bin/doppel-build`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub(crate) struct DriverResult {
    #[serde(default)]
    pub buildpack: Option<String>,
    #[serde(default)]
    pub default_process_types: Option<BTreeMap<String, String>>,
}

impl DriverResult {
    pub(crate) fn parse(bytes: &[u8]) -> Result<DriverResult, BuildError> {
        serde_json::from_slice(bytes).map_err(|e| BuildError::Io {
            context: "reading the buildpack result /tmp/doppel-result.json".to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }
}

/// Procfile entries over the buildpack's defaults; `web` is required.
pub(crate) fn resolve(
    procfile: Option<&[u8]>,
    defaults: &ProcessTypes,
) -> Result<ProcessTypes, BuildError> {
    let procfile = procfile.map(Procfile::parse).transpose()?;
    let types = merge_process_types(procfile.as_ref(), defaults);
    if types.contains_key("web") {
        Ok(types)
    } else {
        Err(BuildError::NoWebProcess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procfile_wins_and_web_is_required() {
        let defaults = ProcessTypes::from([("web".to_string(), "python app.py".to_string())]);
        let t = resolve(Some(b"web: gunicorn app\nworker: w"), &defaults).expect("types");
        assert_eq!(t.get("web").map(String::as_str), Some("gunicorn app"));
        assert_eq!(t.len(), 2);
        assert!(matches!(
            resolve(Some(b"worker: w"), &ProcessTypes::new()),
            Err(BuildError::NoWebProcess)
        ));
        assert!(matches!(
            resolve(Some(b"nonsense"), &defaults),
            Err(BuildError::BadProcfile(_))
        ));
        assert_eq!(resolve(None, &defaults).expect("defaults"), defaults);
    }

    #[test]
    fn parses_driver_results() {
        let r =
            DriverResult::parse(br#"{"buildpack":"Python","default_process_types":{"web":"x"}}"#)
                .expect("json");
        assert_eq!(r.buildpack.as_deref(), Some("Python"));
        let r = DriverResult::parse(br#"{"buildpack":"Procfile","default_process_types":null}"#)
            .expect("json");
        assert_eq!(r.default_process_types, None);
        assert!(DriverResult::parse(b"not json").is_err());
    }
}

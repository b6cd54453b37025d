//! What a dyno runs: the argv for one process type of a release, by how its image was made.

use crate::ProcessTypes;
use serde::{Deserialize, Serialize};

/// The port `web` dynos are told to bind through `$PORT`.
pub const WEB_PORT: u16 = 5000;

/// The launcher baked into every buildpack release image: it sets `HOME=/app`, sources
/// `/app/.profile.d/*.sh` and `/app/.profile` after the config vars are in the environment,
/// then execs its arguments (Heroku's dyno boot order).
pub const DYNO_LAUNCHER: &str = "/usr/local/bin/doppel-launch";

/// How a release image was made, which decides how its commands are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    /// Buildpacks compiled `/app` onto the stack's run image; commands run through bash
    /// under the launcher.
    Buildpack,
    /// Built from the app's own Dockerfile; Procfile commands run through `/bin/sh -c`
    /// under the image's entrypoint, and without a Procfile entry the image's CMD runs.
    Dockerfile,
}

impl ImageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Buildpack => "buildpack",
            ImageKind::Dockerfile => "dockerfile",
        }
    }

    pub fn parse(s: &str) -> Option<ImageKind> {
        match s {
            "buildpack" => Some(ImageKind::Buildpack),
            "dockerfile" => Some(ImageKind::Dockerfile),
            _ => None,
        }
    }
}

/// The container command for `process_type`, or `None` to run the image's own CMD.
/// Returns `Err` with a user-facing reason when the type cannot be run at all.
pub fn dyno_command(
    kind: ImageKind,
    process_types: &ProcessTypes,
    process_type: &str,
) -> Result<Option<Vec<String>>, String> {
    match (kind, process_types.get(process_type)) {
        (ImageKind::Buildpack, Some(cmd)) => Ok(Some(vec![
            DYNO_LAUNCHER.to_string(),
            "bash".to_string(),
            "-c".to_string(),
            cmd.clone(),
        ])),
        (ImageKind::Dockerfile, Some(cmd)) => Ok(Some(vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            cmd.clone(),
        ])),
        (ImageKind::Dockerfile, None) if process_type == "web" => Ok(None),
        (_, None) => Err(format!(
            "process type {process_type:?} is not declared by the Procfile or the buildpack"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildpack_commands_run_under_the_launcher() {
        let mut types = ProcessTypes::new();
        types.insert("web".into(), "python app.py".into());
        let cmd = dyno_command(ImageKind::Buildpack, &types, "web");
        assert_eq!(
            cmd,
            Ok(Some(vec![
                DYNO_LAUNCHER.into(),
                "bash".into(),
                "-c".into(),
                "python app.py".into()
            ]))
        );
        assert!(dyno_command(ImageKind::Buildpack, &types, "worker").is_err());
    }

    #[test]
    fn dockerfile_web_falls_back_to_cmd() {
        let types = ProcessTypes::new();
        assert_eq!(dyno_command(ImageKind::Dockerfile, &types, "web"), Ok(None));
    }
}

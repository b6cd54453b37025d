//! One-off dynos (`doppel run`, `run:detached`, `POST /apps/{app}/dynos`): a container of
//! the current release with the environment's config, named `run.N`, with its own size and
//! time to live. Attached ones wait for their client (see [`super::attach`]); detached ones
//! start at once and their output goes to the log stream.

use std::collections::BTreeMap;

use doppel_store::{Environment, Release};
use doppel_types::DynoSize;
use time::OffsetDateTime;

use super::sessions::Pending;
use crate::labels::{LABEL_ATTACH, LABEL_DYNO, LABEL_ENV_ID, LABEL_EXPIRES, LABEL_ROLE, ROLE_RUN};
use crate::state::AppState;
use crate::supervisor::table::Phase;
use crate::workflows::dynos::{self, WantedDyno};

/// Longest (and default) life of a one-off dyno: Heroku's 24 hours.
pub const MAX_TIME_TO_LIVE: u64 = 24 * 60 * 60;
pub use crate::labels::LABEL_COMMAND;

/// What to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub command: String,
    pub attach: bool,
    /// A terminal (attached runs from a terminal).
    pub tty: bool,
    /// Extra environment (`TERM`, `COLUMNS`, `LINES`, or the user's).
    pub env: BTreeMap<String, String>,
    pub size: Option<String>,
    pub time_to_live: Option<u64>,
}

/// A one-off dyno made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub container: String,
    pub name: String,
    pub size: String,
    pub command: String,
    /// `rendezvous://…` for attached runs.
    pub attach_url: Option<String>,
    pub release: Release,
    pub created_at: OffsetDateTime,
}

/// Why no one-off dyno was made.
#[derive(Debug, thiserror::Error)]
pub enum OneOffError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} has no release yet: push to it before running commands.")]
    NoRelease(String),
    #[error("the dyno could not be started: {0}")]
    Runtime(String),
    #[error("doppel could not read the release: {0}")]
    Store(#[from] doppel_store::StoreError),
}

/// The command to run: a Procfile process type named first stands for its command.
fn resolve_command(release: &Release, command: &str) -> String {
    let (first, rest) = command
        .split_once(' ')
        .map_or((command, ""), |(f, r)| (f, r));
    match release.process_types.get(first) {
        Some(cmd) if !first.is_empty() => {
            format!("{cmd}{}{rest}", if rest.is_empty() { "" } else { " " })
        }
        _ => command.to_string(),
    }
}

/// A `run.N` name no container of the environment has.
async fn fresh_name(state: &AppState, env: &Environment) -> String {
    let taken: std::collections::HashSet<String> = dynos::list_all(state)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|c| c.labels.get(LABEL_ENV_ID) == Some(&env.id))
        .filter_map(|c| c.labels.get(LABEL_DYNO).cloned())
        .collect();
    loop {
        let n: u16 = rand::random_range(1000..10000);
        let name = format!("run.{n}");
        if !taken.contains(&name) {
            return name;
        }
    }
}

/// Makes a one-off dyno of `env`'s current release for `user` (named in the log).
pub async fn create(
    state: &AppState,
    env: &Environment,
    user: &str,
    req: Request,
) -> Result<Started, OneOffError> {
    if req.command.trim().is_empty() {
        return Err(OneOffError::Invalid("a command to run is required".into()));
    }
    let size = match req.size.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => DynoSize::parse(s).map_err(OneOffError::Invalid)?.name,
        None => doppel_types::DEFAULT_DYNO_SIZE,
    };
    let ttl = req
        .time_to_live
        .unwrap_or(MAX_TIME_TO_LIVE)
        .clamp(1, MAX_TIME_TO_LIVE);
    let release = state
        .store()
        .current_release(&env.id)
        .await?
        .ok_or_else(|| OneOffError::NoRelease(env.name.clone()))?;
    let command = resolve_command(&release, req.command.trim());
    let mut config = state.store().release_config(&release.id).await?;
    config.extend(req.env.clone());
    let network = crate::networks::ensure_env(state, env)
        .await
        .map_err(|e| OneOffError::Runtime(e.to_string()))?;
    let name = fresh_name(state, env).await;
    let index = name.trim_start_matches("run.").parse().unwrap_or_default();
    let mut runnable = release.clone();
    runnable.process_types.insert(
        "run".to_string(),
        sized_command(&command, req.attach && req.tty, &req.env),
    );
    let wanted = WantedDyno {
        process_type: "run".to_string(),
        index,
        size: size.to_string(),
    };
    let mut spec = dynos::spec(
        state.instance_id(),
        env,
        &runnable,
        &wanted,
        &config,
        &network,
    )
    .map_err(OneOffError::Invalid)?;
    let created_at = OffsetDateTime::now_utc();
    let expires = created_at.unix_timestamp() + ttl as i64;
    spec.labels.insert(LABEL_ROLE.into(), ROLE_RUN.into());
    spec.labels
        .insert(LABEL_EXPIRES.into(), expires.to_string());
    spec.labels.insert(LABEL_COMMAND.into(), command.clone());
    let rows = req.env.get("LINES").and_then(|v| v.parse().ok());
    let cols = req.env.get("COLUMNS").and_then(|v| v.parse().ok());
    if req.attach {
        spec.labels.insert(LABEL_ATTACH.into(), "1".into());
        spec.tty = req.tty;
        spec.stdin = true;
        spec.console = rows.zip(cols);
    }
    let rt = state.runtime();
    let container = rt
        .create_dyno(spec)
        .await
        .map_err(|e| OneOffError::Runtime(e.to_string()))?;
    state.supervisor().table.set(&container, Phase::Starting);
    let hub = state.logs();
    hub.heroku(
        &env.id,
        &name,
        format!("Starting process with command `{command}` by user {user}"),
    );
    let attach_url = if req.attach {
        let secret = state.attach_sessions().add(Pending {
            container: container.clone(),
            env_id: env.id.clone(),
            dyno: name.clone(),
            tty: req.tty,
            rows,
            cols,
            exec: None,
        });
        Some(format!(
            "rendezvous://{}:{}/{secret}",
            state.config().domain,
            state.config().rendezvous_port
        ))
    } else {
        if let Err(e) = rt.start(&container).await {
            let _ = rt.remove(&container, true).await;
            return Err(OneOffError::Runtime(e.to_string()));
        }
        state.supervisor().table.set(&container, Phase::Up);
        hub.heroku(&env.id, &name, "State changed from starting to up");
        state.supervisor().wake();
        None
    };
    Ok(Started {
        container,
        name,
        size: size.to_string(),
        command,
        attach_url,
        release,
        created_at,
    })
}

/// The command a terminal-attached one-off runs: it sizes its own terminal first when the
/// client sent its size (`LINES`, `COLUMNS`). Docker 20.10 applies a console size only
/// through a resize after the start, which races with the command's first output.
fn sized_command(command: &str, tty: bool, env: &BTreeMap<String, String>) -> String {
    let dim = |key: &str| env.get(key).and_then(|v| v.trim().parse::<u16>().ok());
    match (tty, dim("LINES"), dim("COLUMNS")) {
        (true, Some(rows), Some(cols)) => {
            format!("stty rows {rows} cols {cols} 2>/dev/null; {command}")
        }
        _ => command.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_is_sized_before_the_command_runs() {
        let env: BTreeMap<String, String> = [("LINES", "40"), ("COLUMNS", "120")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            sized_command("bash", true, &env),
            "stty rows 40 cols 120 2>/dev/null; bash"
        );
        assert_eq!(sized_command("bash", false, &env), "bash");
        let odd: BTreeMap<String, String> = [("LINES", "40; rm -rf /"), ("COLUMNS", "120")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(sized_command("bash", true, &odd), "bash");
    }

    #[test]
    fn a_process_type_named_first_stands_for_its_command() {
        let mut release = Release {
            id: "r".into(),
            env_id: "e".into(),
            version: 1,
            build_id: None,
            image_id: "i".into(),
            image_kind: doppel_types::ImageKind::Buildpack,
            process_types: Default::default(),
            description: String::new(),
            status: doppel_store::ReleaseStatus::Succeeded,
            user_id: None,
            source_release_id: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        release
            .process_types
            .insert("console".into(), "python -i".into());
        assert_eq!(resolve_command(&release, "console"), "python -i");
        assert_eq!(resolve_command(&release, "console -q"), "python -i -q");
        assert_eq!(resolve_command(&release, "echo hi"), "echo hi");
    }
}

//! The dynos of an environment as `ps` and `GET /apps/{app}/dynos` show them: one entry per
//! dyno name (while a dyno is replaced, the one that serves), with its state (`starting`,
//! `up`, `stopping`, `crashed`), size, release, command and age.

use std::collections::HashMap;

use doppel_store::{Environment, Release};
use time::OffsetDateTime;

use crate::state::AppState;
use crate::supervisor::observed::{Observed, Role};
use crate::supervisor::table::Phase;

/// One dyno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynoView {
    /// The container's id.
    pub id: String,
    /// `web.1`, `run.4821`.
    pub name: String,
    pub process_type: String,
    pub command: String,
    /// `starting`, `up`, `stopping`, `crashed` or `down`.
    pub state: &'static str,
    pub size: String,
    pub release_id: String,
    pub release_version: Option<i64>,
    /// When the container was made.
    pub created_at: OffsetDateTime,
    /// When it last changed state.
    pub updated_at: OffsetDateTime,
}

/// Which of two containers of one name `ps` shows: the serving one, else the newest.
fn rank(state: &str) -> u8 {
    match state {
        "up" => 4,
        "starting" => 3,
        "crashed" => 2,
        "stopping" => 1,
        _ => 0,
    }
}

/// The environment's dynos (formation dynos first, then one-offs, by name).
pub async fn list(state: &AppState, env: &Environment) -> anyhow::Result<Vec<DynoView>> {
    let containers: Vec<Observed> = crate::workflows::dynos::list_all(state)
        .await?
        .iter()
        .filter_map(Observed::read)
        .filter(|c| c.env_id == env.id && c.role != Role::Release)
        .collect();
    let releases: HashMap<String, Release> = state
        .store()
        .list_releases(&env.id)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let mut by_name: HashMap<String, DynoView> = HashMap::new();
    for c in &containers {
        let view = view(state, c, releases.get(&c.release_id));
        let keep = match by_name.get(&c.dyno) {
            Some(other) => {
                (rank(view.state), view.created_at) > (rank(other.state), other.created_at)
            }
            None => true,
        };
        if keep {
            by_name.insert(c.dyno.clone(), view);
        }
    }
    let mut list: Vec<DynoView> = by_name.into_values().collect();
    list.sort_by(|a, b| {
        (a.process_type == "run", &a.process_type, index(&a.name)).cmp(&(
            b.process_type == "run",
            &b.process_type,
            index(&b.name),
        ))
    });
    Ok(list)
}

fn index(name: &str) -> u64 {
    name.rsplit('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn view(state: &AppState, c: &Observed, release: Option<&Release>) -> DynoView {
    let info = state.supervisor().table.get(&c.id);
    let word = match (c.running, info.map(|i| i.phase)) {
        (true, Some(Phase::Crashed)) | (true, None) if c.is_web() => "starting",
        (true, Some(p)) => p.as_str(),
        (true, None) => "up",
        // Created and not started yet (`run_dyno` creates, then starts).
        (false, _) if c.role == Role::Dyno && c.exit_code.is_none() => "starting",
        (false, _) if c.role == Role::Dyno => "crashed",
        (false, _) => "down",
    };
    let created_at = OffsetDateTime::from_unix_timestamp(c.created)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let command = match (c.role, release) {
        (Role::Run, _) => c.command.clone().unwrap_or_default(),
        (_, Some(r)) => crate::supervisor::execute::command_text(r, c.process_type()),
        (_, None) => String::new(),
    };
    DynoView {
        id: c.id.clone(),
        name: c.dyno.clone(),
        process_type: c.process_type().to_string(),
        command,
        state: word,
        size: c
            .size
            .clone()
            .unwrap_or_else(|| doppel_types::DEFAULT_DYNO_SIZE.to_string()),
        release_id: c.release_id.clone(),
        release_version: release.map(|r| r.version),
        created_at,
        updated_at: info.map_or(created_at, |i| i.since.max(created_at)),
    }
}

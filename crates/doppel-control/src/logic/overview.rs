//! Overviews for people rather than API clients (the dashboard's apps page and pipeline
//! view): each visible app with, per environment, its current and newest release, who made
//! the current one, its URL, the build running now and its dynos as Docker reports them.
//! Read-only; access as everywhere: members see the environments they may use, nothing else.

use super::access;
use super::{Actor, LogicError};
use crate::labels::{LABEL_DYNO, LABEL_RELEASE};
use crate::state::AppState;
use crate::workflows::dynos;
use doppel_docker::ContainerState;
use doppel_store::{App, Build, BuildStatus, Environment, Release, ReleaseStatus};
use std::collections::HashMap;

/// One dyno container as Docker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynoState {
    /// `web.1`.
    pub name: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    /// The release it runs (its version, when the release is known).
    pub version: Option<i64>,
}

/// One environment at a glance.
#[derive(Debug, Clone)]
pub struct EnvSummary {
    pub env: Environment,
    /// `https://<env>.<domain>/`.
    pub url: String,
    /// The release serving now (the newest that succeeded).
    pub current: Option<Release>,
    /// The newest release whatever its status (a rollout in progress, a failed one).
    pub latest: Option<Release>,
    /// The email of whoever made the current release.
    pub deployed_by: Option<String>,
    /// The stack of its next build.
    pub stack: String,
    pub dynos: Vec<DynoState>,
    /// A build running now.
    pub building: Option<Build>,
}

impl EnvSummary {
    /// `up`, `deploying`, `crashed`, `maintenance`, `failed`, `no release`: one word for lists.
    pub fn state(&self) -> &'static str {
        let pending = self
            .latest
            .as_ref()
            .is_some_and(|r| r.status == ReleaseStatus::Pending);
        if self.building.is_some() || pending {
            "deploying"
        } else if self.env.maintenance {
            "maintenance"
        } else if self.dynos.iter().any(|d| !d.running) {
            "crashed"
        } else if self.current.is_none() {
            match &self.latest {
                Some(_) => "failed",
                None => "no release",
            }
        } else {
            "up"
        }
    }
}

/// An app with the environments the actor may see (staging first).
#[derive(Debug, Clone)]
pub struct AppOverview {
    pub app: App,
    pub envs: Vec<EnvSummary>,
}

/// Every app the actor may see, by name.
pub async fn apps(state: &AppState, actor: &Actor) -> Result<Vec<AppOverview>, LogicError> {
    let mut apps = access::visible_apps(state, actor).await?;
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    let containers = containers(state).await?;
    let mut emails = HashMap::new();
    let mut out = Vec::with_capacity(apps.len());
    for app in apps {
        let mut envs = Vec::new();
        for env in &app.environments {
            envs.push(summary(state, env.clone(), &containers, &mut emails, false).await?);
        }
        out.push(AppOverview { app, envs });
    }
    Ok(out)
}

/// One app (by its name or either environment's) with the environments the actor may see,
/// and the build running in each.
pub async fn app(state: &AppState, actor: &Actor, name: &str) -> Result<AppOverview, LogicError> {
    let not_found = || LogicError::not_found("app", name);
    let app_id = match state.store().environment(name).await? {
        Some(env) => env.app_id,
        None => state
            .store()
            .app(name)
            .await?
            .map(|a| a.id)
            .ok_or_else(not_found)?,
    };
    let app = access::visible_apps(state, actor)
        .await?
        .into_iter()
        .find(|a| a.id == app_id)
        .ok_or_else(not_found)?;
    let containers = containers(state).await?;
    let mut emails = HashMap::new();
    let mut envs = Vec::new();
    for env in &app.environments {
        envs.push(summary(state, env.clone(), &containers, &mut emails, true).await?);
    }
    Ok(AppOverview { app, envs })
}

async fn containers(state: &AppState) -> Result<Vec<ContainerState>, LogicError> {
    dynos::list(state)
        .await
        .map_err(|e| LogicError::internal("read the dynos from Docker", e))
}

async fn summary(
    state: &AppState,
    env: Environment,
    containers: &[ContainerState],
    emails: &mut HashMap<String, Option<String>>,
    with_build: bool,
) -> Result<EnvSummary, LogicError> {
    let store = state.store();
    let releases = store.list_releases(&env.id).await?;
    let current = releases
        .iter()
        .rev()
        .find(|r| r.status == ReleaseStatus::Succeeded)
        .cloned();
    let deployed_by = match current.as_ref().and_then(|r| r.user_id.clone()) {
        Some(id) => match emails.get(&id) {
            Some(known) => known.clone(),
            None => {
                let email = store.user(&id).await?.map(|u| u.email);
                emails.insert(id, email.clone());
                email
            }
        },
        None => None,
    };
    let versions: HashMap<&str, i64> = releases
        .iter()
        .map(|r| (r.id.as_str(), r.version))
        .collect();
    let mut dynos: Vec<DynoState> = dynos::of_env(containers, &env.id)
        .map(|c| DynoState {
            name: c
                .labels
                .get(LABEL_DYNO)
                .cloned()
                .unwrap_or_else(|| c.name.clone()),
            running: c.running,
            exit_code: c.exit_code,
            version: c
                .labels
                .get(LABEL_RELEASE)
                .and_then(|id| versions.get(id.as_str()).copied()),
        })
        .collect();
    dynos.sort_by(|a, b| a.name.cmp(&b.name));
    let building = if with_build {
        store
            .list_builds(&env.id)
            .await?
            .into_iter()
            .rev()
            .find(|b| b.status == BuildStatus::Pending)
    } else {
        None
    };
    Ok(EnvSummary {
        url: state.urls().web_url(&env.name),
        stack: crate::workflows::stacks::build_stack_for(state, &env)
            .name
            .to_string(),
        latest: releases.last().cloned(),
        current,
        deployed_by,
        dynos,
        building,
        env,
    })
}

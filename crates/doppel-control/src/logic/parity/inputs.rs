//! What parity compares, read once per report: each environment's config, current release and
//! its build, formation, stack, add-ons and running dynos (checked against Docker), plus the
//! app's push rule. Config values are read to compare them and never leave this module's
//! callers except as "differs".

use crate::labels::{LABEL_DYNO, LABEL_RELEASE};
use crate::logic::LogicError;
use crate::state::AppState;
use crate::workflows::dynos;
use doppel_docker::{ContainerConfig, ContainerState};
use doppel_store::{App, Build, Environment, FormationEntry, Release};
use doppel_types::Stage;
use std::collections::{BTreeMap, HashMap};

/// One add-on attached to an environment, as parity compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonRef {
    /// The attachment's name (`DATABASE`).
    pub name: String,
    /// `heroku-postgresql`.
    pub service: String,
    /// `essential-0`.
    pub plan: String,
    /// What its server reported (`PostgreSQL 17.6`), once provisioned.
    pub version: Option<String>,
}

/// One dyno container of an environment, as Docker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynoObservation {
    /// `web.1`.
    pub dyno: String,
    /// The container's name, for messages.
    pub container: String,
    /// The release its label names.
    pub release_id: Option<String>,
    pub running: bool,
    /// Its image and environment (`None` when it vanished while being read).
    pub config: Option<ContainerConfig>,
}

/// One environment's side of the comparison.
#[derive(Debug, Clone)]
pub struct Side {
    pub env: Environment,
    /// Decrypted, for comparing values; never shown.
    pub config: BTreeMap<String, String>,
    pub current: Option<Release>,
    /// The build that made the current release's image.
    pub build: Option<Build>,
    pub formation: Vec<FormationEntry>,
    /// The stack its next build runs on.
    pub stack: String,
    pub addons: Vec<AddonRef>,
    pub dynos: Vec<DynoObservation>,
    /// A deploy, promotion or rollback holds the environment, or its old dynos still drain.
    pub rolling_out: bool,
    /// The router also admits the environment's own access password (a private one's).
    pub access_password: bool,
    /// The environment's IP allow-list (empty: everyone).
    pub allowed_ips: Vec<String>,
}

/// A release some dyno claims to run, with the config it was released with.
#[derive(Debug, Clone)]
pub struct KnownRelease {
    pub release: Release,
    pub config: BTreeMap<String, String>,
}

/// Everything the aspects compare.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub staging: Side,
    pub production: Side,
    /// Every staging release, oldest first (where production's image may come from).
    pub staging_releases: Vec<Release>,
    /// Releases named by running dynos' labels, by id.
    pub known_releases: HashMap<String, KnownRelease>,
    /// Production also takes git pushes.
    pub direct_pushes: bool,
    /// How a new web dyno is judged healthy (the same rule for every environment today).
    pub health_check: String,
}

impl Inputs {
    /// Both sides, staging first.
    pub fn sides(&self) -> [&Side; 2] {
        [&self.staging, &self.production]
    }
}

fn docker_failed(e: doppel_docker::DockerError) -> LogicError {
    LogicError::internal("read the running dynos from Docker", e)
}

/// Reads the inputs of `app`'s parity report.
pub async fn gather(state: &AppState, app: &App) -> Result<Inputs, LogicError> {
    let env_of = |stage: Stage| {
        app.environment(stage)
            .cloned()
            .ok_or_else(|| LogicError::not_found("environment", format!("{} {stage}", app.name)))
    };
    let (staging_env, production_env) = (env_of(Stage::Staging)?, env_of(Stage::Production)?);
    let containers = dynos::list(state).await.map_err(docker_failed)?;
    let staging = side(state, staging_env, &containers).await?;
    let production = side(state, production_env, &containers).await?;
    let mut known_releases = HashMap::new();
    for dyno in staging.dynos.iter().chain(&production.dynos) {
        let Some(id) = &dyno.release_id else { continue };
        if known_releases.contains_key(id) {
            continue;
        }
        if let Some(release) = state.store().release(id).await? {
            let config = state.store().release_config(id).await?;
            known_releases.insert(id.clone(), KnownRelease { release, config });
        }
    }
    Ok(Inputs {
        staging_releases: state.store().list_releases(&staging.env.id).await?,
        staging,
        production,
        known_releases,
        direct_pushes: state.store().direct_pushes_allowed(&app.id).await?,
        health_check: format!(
            "web dynos accept TCP on $PORT within {} s",
            state.config().boot_timeout.as_secs()
        ),
    })
}

async fn side(
    state: &AppState,
    env: Environment,
    containers: &[ContainerState],
) -> Result<Side, LogicError> {
    let store = state.store();
    let current = store.current_release(&env.id).await?;
    let build = match current.as_ref().and_then(|r| r.build_id.as_deref()) {
        Some(id) => store.build(id).await?,
        None => None,
    };
    let mut observed = Vec::new();
    for c in dynos::of_env(containers, &env.id) {
        let config = if c.running {
            state
                .runtime()
                .container_config(&c.id)
                .await
                .map_err(docker_failed)?
        } else {
            None
        };
        observed.push(DynoObservation {
            dyno: c.labels.get(LABEL_DYNO).cloned().unwrap_or_default(),
            container: c.name.clone(),
            release_id: c.labels.get(LABEL_RELEASE).cloned(),
            running: c.running,
            config,
        });
    }
    observed.sort_by(|a, b| a.dyno.cmp(&b.dyno));
    Ok(Side {
        config: store.config_vars(&env.id).await?,
        formation: store.formation(&env.id).await?,
        stack: crate::workflows::stacks::build_stack_for(state, &env)
            .name
            .to_string(),
        addons: attached_addons(state, &env).await?,
        dynos: observed,
        rolling_out: rolling_out(state, &env).await?,
        access_password: store.access_password(&env.id).await?.is_some(),
        allowed_ips: store.allowed_ips(&env.id).await?,
        current,
        build,
        env,
    })
}

/// A deploy, promotion or rollback holds `env` right now, or one committed and the previous
/// release's dynos still drain behind it (the caller was answered before they stopped).
async fn rolling_out(state: &AppState, env: &Environment) -> Result<bool, LogicError> {
    if state.env_lock(&env.id).try_lock().is_err() {
        return Ok(true);
    }
    let open = state.store().unfinished_rollouts().await?;
    Ok(open.iter().any(|r| r.env_id == env.id))
}

/// The add-ons `env` owns, one per add-on under its main attachment name, with service, plan
/// and version (`logic::addons::parity_view`).
async fn attached_addons(state: &AppState, env: &Environment) -> Result<Vec<AddonRef>, LogicError> {
    Ok(crate::logic::addons::parity_view(state, env)
        .await?
        .into_iter()
        .map(|a| AddonRef {
            name: a.attachments.first().cloned().unwrap_or(a.name),
            service: a.service,
            plan: a.plan,
            version: a.version,
        })
        .collect())
}

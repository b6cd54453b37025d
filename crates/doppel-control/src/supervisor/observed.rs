//! A container as the supervisor reads it: its labels turned into what they mean.

use std::net::IpAddr;

use doppel_docker::ContainerState;

use crate::labels::{
    LABEL_ATTACH, LABEL_DYNO, LABEL_ENV_ID, LABEL_EXPIRES, LABEL_HEALTH, LABEL_RELEASE,
    LABEL_RESTARTS, LABEL_ROLE, LABEL_SIZE, ROLE_DYNO, ROLE_RELEASE, ROLE_RUN,
};

/// What a container is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A dyno of the formation (`web.1`).
    Dyno,
    /// A one-off dyno (`run.4821`).
    Run,
    /// A release phase (`release.1234`).
    Release,
}

/// One container of this installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub id: String,
    pub role: Role,
    pub env_id: String,
    /// `web.1`, `run.4821`.
    pub dyno: String,
    pub release_id: String,
    /// The size label; `None` on containers made before sizes were labelled.
    pub size: Option<String>,
    /// Crashes in a row of this dyno name before this container.
    pub restarts: u32,
    pub running: bool,
    pub exit_code: Option<i64>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds after which a one-off is stopped.
    pub expires: Option<i64>,
    pub attached: bool,
    pub ip: Option<IpAddr>,
    /// The HTTP health check path, if the release declared one.
    pub health: Option<String>,
    /// Ids of the networks it is attached to.
    pub networks: Vec<String>,
    /// A one-off's command.
    pub command: Option<String>,
}

impl Observed {
    /// `None` for containers that are not dynos of any role.
    pub fn read(c: &ContainerState) -> Option<Observed> {
        let label = |k: &str| c.labels.get(k).cloned();
        let role = match label(LABEL_ROLE)?.as_str() {
            ROLE_DYNO => Role::Dyno,
            ROLE_RUN => Role::Run,
            ROLE_RELEASE => Role::Release,
            _ => return None,
        };
        Some(Observed {
            id: c.id.clone(),
            role,
            env_id: label(LABEL_ENV_ID)?,
            dyno: label(LABEL_DYNO)?,
            release_id: label(LABEL_RELEASE).unwrap_or_default(),
            size: label(LABEL_SIZE),
            restarts: label(LABEL_RESTARTS)
                .and_then(|r| r.parse().ok())
                .unwrap_or(0),
            running: c.running,
            exit_code: c.exit_code,
            created: c.created.unwrap_or(0),
            expires: label(LABEL_EXPIRES).and_then(|e| e.parse().ok()),
            attached: label(LABEL_ATTACH).as_deref() == Some("1"),
            ip: c.ip.as_deref().and_then(|ip| ip.parse().ok()),
            health: label(LABEL_HEALTH),
            networks: c.networks.keys().cloned().collect(),
            command: label(crate::labels::LABEL_COMMAND),
        })
    }

    /// The process type (`web` of `web.1`).
    pub fn process_type(&self) -> &str {
        self.dyno.split('.').next().unwrap_or(&self.dyno)
    }

    pub fn is_web(&self) -> bool {
        self.role == Role::Dyno && self.process_type() == "web"
    }

    /// Whether it is made for `size` (unlabelled containers match any size).
    pub fn has_size(&self, size: &str) -> bool {
        self.size
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(size))
    }
}

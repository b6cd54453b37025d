//! Apps: each of doppel's environments is a Heroku "app" (`myapp-staging`, `myapp`).

use serde::{Deserialize, Serialize};

use crate::common::{NamedRef, UserRef};

/// `GET /apps/{app}`: one environment as Heroku's app object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    pub released_at: Option<String>,
    pub archived_at: Option<String>,
    pub acm: bool,
    pub maintenance: bool,
    pub internal_routing: bool,
    pub repo_size: Option<u64>,
    pub slug_size: Option<u64>,
    pub web_url: String,
    pub git_url: String,
    pub buildpack_provided_description: Option<String>,
    pub owner: Option<UserRef>,
    pub region: NamedRef,
    pub stack: NamedRef,
    pub build_stack: NamedRef,
    /// Always `cedar`: other values switch the official CLI to code paths doppel lacks.
    pub generation: NamedRef,
    pub organization: Option<NamedRef>,
    pub team: Option<NamedRef>,
    pub space: Option<NamedRef>,
    pub doppel: AppExtra,
}

/// What doppel adds to an app: the app (pipeline) it belongs to and its twin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppExtra {
    /// The doppel app (`myapp`) both environments belong to.
    pub app: String,
    /// `staging` or `production`.
    pub stage: String,
    /// Private environments answer only requests carrying a token of a collaborator.
    pub private: bool,
    /// Both environments of the app.
    pub environments: Vec<EnvironmentSummary>,
}

/// One environment in an app's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EnvironmentSummary {
    pub id: String,
    pub name: String,
    pub stage: String,
    pub private: bool,
    pub web_url: String,
    pub git_url: String,
}

/// `POST /apps`. `stack`, `region` and the rest are accepted and ignored where doppel has
/// only one choice (heroku3 sends `stack: "cedar"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppCreate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub region: Option<serde_json::Value>,
    #[serde(default)]
    pub stack: Option<serde_json::Value>,
}

/// `PATCH /apps/{app}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AppUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub maintenance: Option<bool>,
    #[serde(default)]
    pub build_stack: Option<serde_json::Value>,
}

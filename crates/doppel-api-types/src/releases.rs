//! Releases: image + config snapshot + version of one environment.

use serde::{Deserialize, Serialize};

use crate::common::{IdRef, NamedRef, UserRef};

/// One artifact of a release: doppel's are local image ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// `GET /apps/{app}/releases[/{id|version}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub id: String,
    pub version: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub current: bool,
    pub description: String,
    pub slug: Option<IdRef>,
    pub artifacts: Vec<Artifact>,
    pub addon_plan_names: Vec<String>,
    pub user: Option<UserRef>,
    pub app: NamedRef,
    pub output_stream_url: Option<String>,
    pub eligible_for_rollback: bool,
    pub created_at: String,
    pub updated_at: String,
    pub doppel: ReleaseExtra,
}

/// What doppel adds to a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleaseExtra {
    /// The image the release runs (the same id in staging and, once promoted, production).
    pub image_id: String,
    pub process_types: std::collections::BTreeMap<String, String>,
    /// The build that made the image, if any.
    pub build_id: Option<String>,
    /// For a promoted release: the id of the staging release whose image it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<String>,
}

/// `POST /apps/{app}/releases`: a rollback names the release to go back to (`{release}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleaseCreate {
    /// Id (or version) of the release to roll back to.
    #[serde(default)]
    pub release: Option<serde_json::Value>,
    #[serde(default)]
    pub slug: Option<serde_json::Value>,
    #[serde(default)]
    pub description: Option<String>,
}

//! Pipelines, couplings and promotions: every doppel app is a pipeline of the same name and
//! id, coupling its staging environment (stage `staging`) and production (stage
//! `production`); a promotion runs staging's exact image in production.

use serde::{Deserialize, Serialize};

use crate::common::{IdRef, NamedRef, UserRef};

/// A pipeline's owner: the app's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PipelineOwner {
    pub id: String,
    /// Always `user`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET /pipelines[/{id|name}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub owner: Option<PipelineOwner>,
    /// Always `cedar`.
    pub generation: NamedRef,
    pub created_at: String,
    pub updated_at: String,
    pub doppel: PipelineExtra,
}

/// What doppel adds to a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PipelineExtra {
    pub staging: Option<NamedRef>,
    pub production: Option<NamedRef>,
    /// Production also takes git pushes (an admin allowed them).
    pub direct_pushes: bool,
}

/// `GET /pipeline-couplings[/{id}]`, `/apps/{app}/pipeline-couplings`: one environment's
/// place in its pipeline. The coupling's id is the environment's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineCoupling {
    pub id: String,
    /// `staging` or `production`.
    pub stage: String,
    pub app: NamedRef,
    pub pipeline: NamedRef,
    pub created_at: String,
    pub updated_at: String,
}

/// A release named by a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleaseRef {
    pub id: String,
    /// doppel adds the version.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Where a promotion comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionSource {
    pub app: NamedRef,
    pub release: Option<ReleaseRef>,
}

/// `POST /pipeline-promotions`, `GET /pipeline-promotions/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelinePromotion {
    pub id: String,
    pub pipeline: NamedRef,
    pub source: PromotionSource,
    /// `pending` or `completed`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub doppel: PromotionExtra,
}

/// What doppel adds to a promotion: its one target, and who forced it why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionExtra {
    pub target: Option<PromotionTarget>,
    pub forced: bool,
    pub reason: Option<String>,
    pub user: Option<UserRef>,
    /// The production URL the promotion serves at.
    pub web_url: String,
}

/// `GET /pipeline-promotions/{id}/promotion-targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionTarget {
    pub id: String,
    pub app: NamedRef,
    pub pipeline_promotion: IdRef,
    /// The release made in the target, once it exists.
    pub release: Option<ReleaseRef>,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub error_message: Option<String>,
}

/// An object named by id (or, leniently, by name) in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Named {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl Named {
    /// The id, else the name.
    pub fn key(&self) -> Option<&str> {
        self.id.as_deref().or(self.name.as_deref())
    }
}

/// `source` of a promotion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionSourceCreate {
    #[serde(default)]
    pub app: Option<Named>,
    /// A named earlier release (Heroku, 2025); the current one when absent.
    #[serde(default)]
    pub release: Option<Named>,
}

/// One target of a promotion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionTargetCreate {
    #[serde(default)]
    pub app: Option<Named>,
}

/// doppel's additions to a promotion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionOptions {
    /// Promote despite drift (needs `reason`).
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /pipeline-promotions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromotionCreate {
    #[serde(default)]
    pub pipeline: Option<Named>,
    #[serde(default)]
    pub source: Option<PromotionSourceCreate>,
    #[serde(default)]
    pub targets: Option<Vec<PromotionTargetCreate>>,
    #[serde(default)]
    pub doppel: Option<PromotionOptions>,
}

/// `POST /pipelines/{pipeline}/promote` (doppel's own, which streams the progress as text):
/// the staging release (`v3` or an id; the current one when absent), and `force` with a
/// `reason` to promote despite drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PromoteBody {
    #[serde(default)]
    pub release: Option<String>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The response header naming the promotion `POST /pipelines/{pipeline}/promote` started.
pub const PROMOTION_ID_HEADER: &str = "doppel-promotion-id";

/// `GET|PUT /pipelines/{pipeline}/direct-pushes`: whether production also takes git pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DirectPushes {
    pub allowed: bool,
}

//! Add-ons, attachments, services and plans as Heroku's API shows them, plus doppel's
//! extensions for `pg:*` / `redis:*`: info, commands, credential rotation, backups,
//! restores and schedules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::common::{NamedRef, UserRef};

/// A plan's price: doppel's add-ons cost nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Price {
    pub cents: i64,
    pub contract: bool,
    pub unit: String,
}

/// Who an add-on is billed to (its environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BillingEntity {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET /apps/{app}/addons`, `GET /addons/{addon}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addon {
    pub id: String,
    /// Globally unique, e.g. `postgresql-curly-12345`.
    pub name: String,
    pub actions: Vec<serde_json::Value>,
    pub addon_service: NamedRef,
    /// The owning environment.
    pub app: NamedRef,
    pub billed_price: Option<Price>,
    pub billing_entity: BillingEntity,
    /// The vars its attachments give (`DATABASE_URL`, …).
    pub config_vars: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `{id, name: "postgres:essential-0"}`.
    pub plan: NamedRef,
    pub provider_id: String,
    pub provision_message: Option<String>,
    /// `provisioning`, `provisioned`, `deprovisioning` (Heroku's words) or `failed`.
    pub state: String,
    pub web_url: Option<String>,
    pub doppel: AddonExtra,
}

/// What doppel adds to an add-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonExtra {
    pub service: String,
    pub human_name: String,
    pub plan: String,
    /// What its server reported once it ran (`PostgreSQL 17.6`).
    pub version: Option<String>,
    /// The owning environment's stage (`staging`, `production`).
    pub stage: String,
    /// Its attachment names (`DATABASE`, `HEROKU_POSTGRESQL_AMBER`).
    pub attachments: Vec<String>,
    /// Why provisioning failed.
    pub failure: Option<String>,
    /// Whether it has backups (`pg:backups`).
    pub backups: bool,
    pub backup_schedule: Option<BackupScheduleView>,
    /// The add-ons made by the same request for the app's other environment.
    #[serde(default)]
    pub twins: Vec<NamedRef>,
}

/// A daily backup schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BackupScheduleView {
    /// Hour of the day in `zone`.
    pub hour: u8,
    pub keep: u32,
    /// An IANA time zone (`Europe/Paris`); absent for UTC.
    #[serde(default)]
    pub zone: Option<String>,
}

/// A plan as clients send it: `"heroku-postgresql:essential-0"` or `{"name": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PlanParam {
    Name(String),
    Object { name: String },
}

impl PlanParam {
    pub fn name(&self) -> &str {
        match self {
            PlanParam::Name(n) | PlanParam::Object { name: n } => n,
        }
    }
}

/// `attachment: {name}` of a create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AttachmentParam {
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /apps/{app}/addons`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AddonCreate {
    #[serde(default)]
    pub plan: Option<PlanParam>,
    #[serde(default)]
    pub attachment: Option<AttachmentParam>,
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub confirm: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub doppel: Option<AddonCreateExtra>,
}

/// doppel's part of a create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonCreateExtra {
    /// Provision for both environments of the app (same service, plan and version).
    #[serde(default)]
    pub whole_app: bool,
    /// Answer only once provisioned.
    #[serde(default)]
    pub wait: bool,
}

/// `PATCH /apps/{app}/addons/{addon}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonUpdate {
    #[serde(default)]
    pub plan: Option<PlanParam>,
    #[serde(default)]
    pub name: Option<String>,
}

/// `DELETE /apps/{app}/addons/{addon}` (the body is optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonDelete {
    /// Destroy even when the final backup fails.
    #[serde(default)]
    pub force: Option<bool>,
}

/// `POST /actions/addons/resolve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonResolve {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub addon_service: Option<String>,
}

/// The add-on an attachment names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AttachmentAddon {
    pub id: String,
    pub name: String,
    pub app: NamedRef,
}

/// `GET /addon-attachments[/{id}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    /// The config-var prefix (`DATABASE`).
    pub name: String,
    pub addon: AttachmentAddon,
    pub app: NamedRef,
    pub namespace: Option<String>,
    pub log_input_url: Option<String>,
    pub web_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /addon-attachments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AttachmentCreate {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub confirm: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `POST /actions/addon-attachments/resolve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AttachmentResolve {
    #[serde(default)]
    pub addon_attachment: Option<String>,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub addon_service: Option<String>,
}

/// `GET /addon-services[/{service}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonService {
    pub id: String,
    pub name: String,
    pub human_name: String,
    pub cli_plugin_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub state: String,
    pub supported_generations: Vec<NamedRef>,
    pub supports_multiple_installations: bool,
    pub supports_sharing: bool,
    pub doppel: ServiceExtra,
}

/// What doppel adds to a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ServiceExtra {
    pub aliases: Vec<String>,
    pub description: String,
    pub backups: bool,
}

/// `GET /addon-services/{service}/plans[/{plan}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonPlan {
    pub id: String,
    /// `postgres:essential-0`.
    pub name: String,
    pub human_name: String,
    pub description: String,
    pub addon_service: NamedRef,
    pub compliance: Option<Vec<String>>,
    pub created_at: String,
    pub updated_at: String,
    pub default: bool,
    pub installable_inside_private_network: bool,
    pub installable_outside_private_network: bool,
    pub price: Price,
    pub space_default: bool,
    pub state: String,
    pub visible: bool,
    pub doppel: PlanExtra,
}

/// What doppel adds to a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PlanExtra {
    pub memory_mb: u64,
}

/// One `Key: value` line of `pg:info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InfoLine {
    pub key: String,
    pub value: String,
}

/// `GET /apps/{app}/addons/{addon}/info` (doppel): the add-on and what its server says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonInfo {
    pub addon: Addon,
    pub info: Vec<InfoLine>,
}

/// Which add-on of an environment a doppel extension is about: `addon` (its name or an
/// attachment name such as `DATABASE_URL`), else the environment's `service` add-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonTarget {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
}

/// `POST /apps/{app}/addon-commands` (doppel): input run as the app would (`pg:psql -c`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommandRun {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    /// SQL, or redis-cli commands.
    #[serde(default)]
    pub input: String,
}

/// What a command printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CommandOutput {
    pub addon: String,
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// `POST /apps/{app}/addon-sessions` (doppel): an interactive client of an add-on
/// (`pg:psql`, `redis:cli` on a terminal), attached over the rendezvous like `run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonSessionCreate {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    /// The client has a terminal.
    #[serde(default)]
    pub tty: bool,
    #[serde(default)]
    pub rows: Option<u16>,
    #[serde(default)]
    pub cols: Option<u16>,
    #[serde(default)]
    pub term: Option<String>,
}

/// A session to attach to: `rendezvous://host:port/secret` (valid once, for two minutes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonSession {
    pub addon: String,
    pub attach_url: String,
}

/// `POST /apps/{app}/addon-credentials/rotate` (doppel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    pub addon: Addon,
    /// The release that carried the new URL, when one was made.
    pub release: Option<i64>,
    /// Why that release failed (the new URL then reaches the app with its next release).
    pub release_failed: Option<String>,
}

/// A backup or restore (doppel): `GET /apps/{app}/backups[/{name}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    pub id: String,
    /// `b001`, `a001` (scheduled) or `r001` (a restore).
    pub name: String,
    /// `backup`, `scheduled` or `restore`.
    pub kind: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub app: NamedRef,
    pub addon: NamedRef,
    pub service: String,
    pub version: Option<String>,
    pub size_bytes: Option<i64>,
    pub checksum: Option<String>,
    /// Rows per table (keys for Redis) the capture saw.
    pub counts: BTreeMap<String, i64>,
    /// `None` until verified; `true` once a scratch restore gave the same counts.
    pub verified: Option<bool>,
    pub verify_message: Option<String>,
    /// For restores: the backup restored (`myapp::b001`).
    pub source: Option<String>,
    pub note: Option<String>,
    pub error: Option<String>,
    pub user: Option<UserRef>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// `POST /apps/{app}/backups` (doppel): capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BackupCapture {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub wait: bool,
}

/// `POST /apps/{app}/backup-restores` (doppel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RestoreCreate {
    /// `b001`, `myapp::b001`, or `latest` (the default).
    #[serde(default)]
    pub source: Option<String>,
    /// The target add-on (name or attachment); the environment's main one when absent.
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    /// Run on the restored data before it replaces the live data.
    #[serde(default)]
    pub mask_script: Option<String>,
    #[serde(default)]
    pub wait: bool,
}

/// `PUT /apps/{app}/backup-schedules` (doppel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ScheduleSet {
    #[serde(default)]
    pub addon: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    /// `02:00 UTC`.
    #[serde(default)]
    pub at: Option<String>,
    /// Scheduled backups kept (7 by default).
    #[serde(default)]
    pub keep: Option<u32>,
}

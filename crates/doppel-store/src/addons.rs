//! Add-ons: service instances (a Postgres or Redis server) owned by one environment, and
//! their attachments (the config-var prefixes, `DATABASE` → `DATABASE_URL`). Credentials are
//! sealed at rest with AAD = the add-on's id, so they cannot be moved to another add-on.

use crate::crypto::addon_aad;
use crate::error::{db_error, is_foreign_key_violation, is_unique_violation, DbContext};
use crate::error::{Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

/// Where an add-on is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddonState {
    /// Recorded; its server is being made (or will be again after a restart).
    Provisioning,
    /// Its server exists and should be running.
    Provisioned,
    /// Being destroyed (final backup, then container and volume removed).
    Deprovisioning,
    /// Provisioning failed and was unwound; the row says why.
    Failed,
}

impl AddonState {
    /// The word stored (and Heroku's, for the first three).
    pub fn as_str(self) -> &'static str {
        match self {
            AddonState::Provisioning => "provisioning",
            AddonState::Provisioned => "provisioned",
            AddonState::Deprovisioning => "deprovisioning",
            AddonState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<AddonState> {
        match s {
            "provisioning" => Some(AddonState::Provisioning),
            "provisioned" => Some(AddonState::Provisioned),
            "deprovisioning" => Some(AddonState::Deprovisioning),
            "failed" => Some(AddonState::Failed),
            _ => None,
        }
    }
}

/// An add-on's credentials. `pending_password` is set while a rotation is under way, so a
/// crash between changing the server's password and recording it can be finished later.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddonCredentials {
    pub user: String,
    pub password: String,
    pub database: String,
    #[serde(default)]
    pub pending_password: Option<String>,
}

impl std::fmt::Debug for AddonCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddonCredentials")
            .field("user", &self.user)
            .field("database", &self.database)
            .field("password", &"<redacted>")
            .field("rotating", &self.pending_password.is_some())
            .finish()
    }
}

/// A daily backup schedule: at `hour` in `zone` (an IANA name; `None` is UTC), keeping the
/// newest `keep` scheduled backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSchedule {
    pub hour: u8,
    pub keep: u32,
    pub zone: Option<String>,
}

/// One add-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addon {
    pub id: String,
    /// Globally unique, e.g. `postgresql-curly-12345`; also its host name on the network.
    pub name: String,
    /// The owning environment.
    pub env_id: String,
    /// The provider manifest's name (`postgres`, `redis`, …).
    pub service: String,
    pub plan: String,
    /// What the server reported once it ran (e.g. `PostgreSQL 17.6`).
    pub version: Option<String>,
    pub state: AddonState,
    pub failure: Option<String>,
    /// The image its server runs.
    pub image: Option<String>,
    /// The named volume holding its data.
    pub volume: String,
    /// The colour of its alias attachment (`HEROKU_POSTGRESQL_<COLOR>`).
    pub color: String,
    pub credentials: AddonCredentials,
    pub schedule: Option<BackupSchedule>,
    pub created_at: String,
    pub updated_at: String,
}

/// What the caller supplies for a new add-on (state `provisioning`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddon {
    pub name: String,
    pub env_id: String,
    pub service: String,
    pub plan: String,
    pub volume: String,
    pub color: String,
    pub credentials: AddonCredentials,
}

/// An add-on's name in an environment's config: `<name>_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: String,
    pub addon_id: String,
    pub env_id: String,
    /// The config-var prefix (`DATABASE`).
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

const ADDON_COLUMNS: &str = "id, name, env_id, service, plan, version, state, failure, image, \
     volume, color, credentials, schedule_hour, schedule_keep, schedule_zone, created_at, updated_at";
const ATTACHMENT_COLUMNS: &str = "id, addon_id, env_id, name, created_at, updated_at";

fn attachment_from_row(row: &AnyRow) -> Result<Attachment> {
    let t = "addon_attachments";
    Ok(Attachment {
        id: get(row, t, "id")?,
        addon_id: get(row, t, "addon_id")?,
        env_id: get(row, t, "env_id")?,
        name: get(row, t, "name")?,
        created_at: get(row, t, "created_at")?,
        updated_at: get(row, t, "updated_at")?,
    })
}

fn schedule_from(
    hour: Option<i64>,
    keep: Option<i64>,
    zone: Option<String>,
) -> Option<BackupSchedule> {
    Some(BackupSchedule {
        hour: u8::try_from(hour?).ok()?,
        keep: u32::try_from(keep?).ok()?,
        zone,
    })
}

impl Store {
    fn addon_from_row(&self, row: &AnyRow) -> Result<Addon> {
        let t = "addons";
        let id: String = get(row, t, "id")?;
        let state: String = get(row, t, "state")?;
        let state = AddonState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("add-on {id}: unknown state {state:?}")))?;
        let sealed: String = get(row, t, "credentials")?;
        let json = self.cipher.open(
            &addon_aad(&id),
            &sealed,
            &format!("credentials of add-on {id}"),
        )?;
        let credentials = serde_json::from_str(&json).map_err(|e| {
            StoreError::Corrupt(format!(
                "credentials of add-on {id} are not valid JSON: {e}"
            ))
        })?;
        Ok(Addon {
            name: get(row, t, "name")?,
            env_id: get(row, t, "env_id")?,
            service: get(row, t, "service")?,
            plan: get(row, t, "plan")?,
            version: get(row, t, "version")?,
            state,
            failure: get(row, t, "failure")?,
            image: get(row, t, "image")?,
            volume: get(row, t, "volume")?,
            color: get(row, t, "color")?,
            credentials,
            schedule: schedule_from(
                get(row, t, "schedule_hour")?,
                get(row, t, "schedule_keep")?,
                get(row, t, "schedule_zone")?,
            ),
            created_at: get(row, t, "created_at")?,
            updated_at: get(row, t, "updated_at")?,
            id,
        })
    }

    fn seal_credentials(&self, addon_id: &str, credentials: &AddonCredentials) -> Result<String> {
        let json = serde_json::to_string(credentials)
            .map_err(|e| StoreError::Invalid(format!("credentials cannot be serialized: {e}")))?;
        self.cipher.seal(
            &addon_aad(addon_id),
            &json,
            &format!("credentials of add-on {addon_id}"),
        )
    }

    /// Records a new add-on in state `provisioning`. `NameTaken` when its name is used,
    /// `NotFound` for an unknown environment.
    pub async fn create_addon(&self, new: &NewAddon) -> Result<Addon> {
        let id = new_id();
        let ts = now();
        let sealed = self.seal_credentials(&id, &new.credentials)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO addons ({ADDON_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, NULL, $6, NULL, NULL, $7, $8, $9, NULL, NULL, NULL, $10, $10)"
        )))
        .bind(&id)
        .bind(&new.name)
        .bind(&new.env_id)
        .bind(&new.service)
        .bind(&new.plan)
        .bind(AddonState::Provisioning.as_str())
        .bind(&new.volume)
        .bind(&new.color)
        .bind(&sealed)
        .bind(&ts)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::NameTaken(format!("add-on {}", new.name))
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("environment {}", new.env_id))
            } else {
                db_error(e, "inserting an add-on")
            }
        })?;
        tracing::info!(addon = %new.name, service = %new.service, env = %new.env_id, "recorded add-on");
        self.addon(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("add-on {id}")))
    }

    /// An add-on by name or id.
    pub async fn addon(&self, name_or_id: &str) -> Result<Option<Addon>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ADDON_COLUMNS} FROM addons WHERE id = $1 OR name = $1"
        )))
        .bind(name_or_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up an add-on")?;
        row.as_ref().map(|r| self.addon_from_row(r)).transpose()
    }

    /// The add-ons an environment owns, oldest first.
    pub async fn addons_of_env(&self, env_id: &str) -> Result<Vec<Addon>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ADDON_COLUMNS} FROM addons WHERE env_id = $1 ORDER BY created_at, name"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing an environment's add-ons")?;
        rows.iter().map(|r| self.addon_from_row(r)).collect()
    }

    /// Every add-on of the installation, oldest first (what the supervisor converges).
    pub async fn list_addons(&self) -> Result<Vec<Addon>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ADDON_COLUMNS} FROM addons ORDER BY created_at, name"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing add-ons")?;
        rows.iter().map(|r| self.addon_from_row(r)).collect()
    }

    /// Sets an add-on's state (and why, for `failed`).
    pub async fn set_addon_state(
        &self,
        addon_id: &str,
        state: AddonState,
        failure: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE addons SET state = $1, failure = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(failure)
        .bind(now())
        .bind(addon_id)
        .execute(&self.pool)
        .await
        .ctx("setting an add-on's state")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("add-on {addon_id}")));
        }
        tracing::info!(addon = %addon_id, state = state.as_str(), "add-on state set");
        Ok(())
    }

    /// Records that an add-on's server runs `image` and reports `version`: it is provisioned.
    pub async fn set_addon_provisioned(
        &self,
        addon_id: &str,
        image: &str,
        version: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE addons SET state = $1, failure = NULL, image = $2, version = $3, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(AddonState::Provisioned.as_str())
        .bind(image)
        .bind(version)
        .bind(now())
        .bind(addon_id)
        .execute(&self.pool)
        .await
        .ctx("recording a provisioned add-on")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("add-on {addon_id}")));
        }
        tracing::info!(addon = %addon_id, %version, "add-on provisioned");
        Ok(())
    }

    /// Changes an add-on's plan (its server is made again with the plan's memory).
    pub async fn set_addon_plan(&self, addon_id: &str, plan: &str) -> Result<()> {
        let done = sqlx::query("UPDATE addons SET plan = $1, updated_at = $2 WHERE id = $3")
            .bind(plan)
            .bind(now())
            .bind(addon_id)
            .execute(&self.pool)
            .await
            .ctx("changing an add-on's plan")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("add-on {addon_id}")));
        }
        Ok(())
    }

    /// Replaces an add-on's credentials (sealed).
    pub async fn set_addon_credentials(
        &self,
        addon_id: &str,
        credentials: &AddonCredentials,
    ) -> Result<()> {
        let sealed = self.seal_credentials(addon_id, credentials)?;
        let done = sqlx::query("UPDATE addons SET credentials = $1, updated_at = $2 WHERE id = $3")
            .bind(sealed)
            .bind(now())
            .bind(addon_id)
            .execute(&self.pool)
            .await
            .ctx("recording an add-on's credentials")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("add-on {addon_id}")));
        }
        tracing::info!(addon = %addon_id, "add-on credentials changed");
        Ok(())
    }

    /// Sets or clears an add-on's daily backup schedule.
    pub async fn set_addon_schedule(
        &self,
        addon_id: &str,
        schedule: Option<BackupSchedule>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE addons SET schedule_hour = $1, schedule_keep = $2, schedule_zone = $3, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(schedule.as_ref().map(|s| i64::from(s.hour)))
        .bind(schedule.as_ref().map(|s| i64::from(s.keep)))
        .bind(schedule.and_then(|s| s.zone))
        .bind(now())
        .bind(addon_id)
        .execute(&self.pool)
        .await
        .ctx("setting a backup schedule")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("add-on {addon_id}")));
        }
        Ok(())
    }

    /// Deletes an add-on and its attachments (its backups stay).
    pub async fn delete_addon(&self, addon_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM addon_attachments WHERE addon_id = $1")
            .bind(addon_id)
            .execute(&mut *tx)
            .await
            .ctx("deleting an add-on's attachments")?;
        sqlx::query("DELETE FROM addons WHERE id = $1")
            .bind(addon_id)
            .execute(&mut *tx)
            .await
            .ctx("deleting an add-on")?;
        tx.commit().await.ctx("committing an add-on deletion")?;
        tracing::info!(addon = %addon_id, "deleted add-on");
        Ok(())
    }

    /// Attaches an add-on to an environment as `name` (`NameTaken` when the environment
    /// already has an attachment of that name).
    pub async fn create_attachment(
        &self,
        addon_id: &str,
        env_id: &str,
        name: &str,
    ) -> Result<Attachment> {
        let ts = now();
        let attachment = Attachment {
            id: new_id(),
            addon_id: addon_id.to_string(),
            env_id: env_id.to_string(),
            name: name.to_string(),
            created_at: ts.clone(),
            updated_at: ts,
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO addon_attachments ({ATTACHMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        )))
        .bind(&attachment.id)
        .bind(&attachment.addon_id)
        .bind(&attachment.env_id)
        .bind(&attachment.name)
        .bind(&attachment.created_at)
        .bind(&attachment.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::NameTaken(format!("attachment {name}"))
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("add-on {addon_id} or environment {env_id}"))
            } else {
                db_error(e, "inserting an attachment")
            }
        })?;
        Ok(attachment)
    }

    /// An attachment by id.
    pub async fn attachment(&self, id: &str) -> Result<Option<Attachment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM addon_attachments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up an attachment")?;
        row.as_ref().map(attachment_from_row).transpose()
    }

    /// An environment's attachments, oldest first.
    pub async fn attachments_of_env(&self, env_id: &str) -> Result<Vec<Attachment>> {
        self.attachments_where("env_id", env_id).await
    }

    /// An add-on's attachments, oldest first.
    pub async fn attachments_of_addon(&self, addon_id: &str) -> Result<Vec<Attachment>> {
        self.attachments_where("addon_id", addon_id).await
    }

    async fn attachments_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM addon_attachments WHERE {column} = $1 \
             ORDER BY created_at, name"
        )))
        .bind(value)
        .fetch_all(&self.pool)
        .await
        .ctx("listing attachments")?;
        rows.iter().map(attachment_from_row).collect()
    }

    /// Removes an attachment.
    pub async fn delete_attachment(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM addon_attachments WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("deleting an attachment")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("attachment {id}")));
        }
        Ok(())
    }
}

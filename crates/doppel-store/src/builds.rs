//! Builds: one row per pushed commit built for an environment, pending until the builder
//! finishes, then succeeded (with the image it made) or failed (with the reason).

use crate::error::{db_error, is_foreign_key_violation, DbContext, Result, StoreError};
use crate::util::{
    get, image_kind_from_str, new_id, now, process_types_from_json, process_types_to_json,
};
use crate::Store;
use doppel_types::{ImageKind, ProcessTypes};
use sqlx::any::AnyRow;

/// The reason recorded for builds that were running when doppel stopped.
pub const INTERRUPTED_REASON: &str = "interrupted: doppel restarted during the build";

/// Where a build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuildStatus {
    Pending,
    Succeeded,
    Failed,
}

impl BuildStatus {
    /// The word stored in the database (and used by Heroku's API).
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Pending => "pending",
            BuildStatus::Succeeded => "succeeded",
            BuildStatus::Failed => "failed",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<BuildStatus> {
        match s {
            "pending" => Some(BuildStatus::Pending),
            "succeeded" => Some(BuildStatus::Succeeded),
            "failed" => Some(BuildStatus::Failed),
            _ => None,
        }
    }
}

/// One build of one commit for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub id: String,
    pub env_id: String,
    pub commit: String,
    pub status: BuildStatus,
    pub failure: Option<String>,
    pub image_id: Option<String>,
    pub image_kind: Option<ImageKind>,
    pub process_types: ProcessTypes,
    pub buildpack: Option<String>,
    pub stack: Option<String>,
    pub size_bytes: Option<i64>,
    pub user_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// How a build ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    Succeeded {
        image_id: String,
        image_kind: ImageKind,
        process_types: ProcessTypes,
        buildpack: Option<String>,
        stack: String,
        size_bytes: i64,
    },
    Failed {
        reason: String,
    },
}

const BUILD_COLUMNS: &str = "id, env_id, source_commit, status, failure, image_id, image_kind, \
     process_types, buildpack, stack, size_bytes, user_id, created_at, updated_at";

fn build_from_row(row: &AnyRow) -> Result<Build> {
    let id: String = get(row, "builds", "id")?;
    let status: String = get(row, "builds", "status")?;
    let status = BuildStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("build {id}: unknown status {status:?}")))?;
    let image_kind = get::<Option<String>>(row, "builds", "image_kind")?
        .map(|k| image_kind_from_str(&k, &format!("build {id}")))
        .transpose()?;
    let process_types: String = get(row, "builds", "process_types")?;
    Ok(Build {
        env_id: get(row, "builds", "env_id")?,
        commit: get(row, "builds", "source_commit")?,
        status,
        failure: get(row, "builds", "failure")?,
        image_id: get(row, "builds", "image_id")?,
        image_kind,
        process_types: process_types_from_json(&process_types, &format!("build {id}"))?,
        buildpack: get(row, "builds", "buildpack")?,
        stack: get(row, "builds", "stack")?,
        size_bytes: get(row, "builds", "size_bytes")?,
        user_id: get(row, "builds", "user_id")?,
        created_at: get(row, "builds", "created_at")?,
        updated_at: get(row, "builds", "updated_at")?,
        id,
    })
}

impl Store {
    /// Records a new pending build of `commit` for an environment.
    pub async fn create_build(
        &self,
        env_id: &str,
        commit: &str,
        user_id: Option<&str>,
    ) -> Result<Build> {
        let id = new_id();
        let ts = now();
        // `seq` orders builds of one environment even within one second.
        sqlx::query(
            "INSERT INTO builds (id, env_id, seq, source_commit, status, process_types, user_id, \
             output, created_at, updated_at) \
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7, $8, $8 \
             FROM builds WHERE env_id = $2",
        )
        .bind(&id)
        .bind(env_id)
        .bind(commit)
        .bind(BuildStatus::Pending.as_str())
        .bind("{}")
        .bind(user_id)
        .bind("")
        .bind(&ts)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!(
                    "environment {env_id} or user {}",
                    user_id.unwrap_or("-")
                ))
            } else {
                db_error(e, "inserting a build")
            }
        })?;
        tracing::info!(build = %id, env = %env_id, commit, "build started");
        self.build(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("build {id}")))
    }

    /// Records how a pending build ended, with its output. `Conflict` if it already ended.
    pub async fn finish_build(
        &self,
        build_id: &str,
        outcome: &BuildOutcome,
        output: &str,
    ) -> Result<Build> {
        let ts = now();
        let query = match outcome {
            BuildOutcome::Succeeded {
                image_id,
                image_kind,
                process_types,
                buildpack,
                stack,
                size_bytes,
            } => sqlx::query(
                "UPDATE builds SET status = $1, image_id = $2, image_kind = $3, \
                 process_types = $4, buildpack = $5, stack = $6, size_bytes = $7, output = $8, \
                 updated_at = $9 WHERE id = $10 AND status = $11",
            )
            .bind(BuildStatus::Succeeded.as_str())
            .bind(image_id.clone())
            .bind(image_kind.as_str())
            .bind(process_types_to_json(process_types)?)
            .bind(buildpack.clone())
            .bind(stack.clone())
            .bind(*size_bytes),
            BuildOutcome::Failed { reason } => sqlx::query(
                "UPDATE builds SET status = $1, failure = $2, output = $3, updated_at = $4 \
                 WHERE id = $5 AND status = $6",
            )
            .bind(BuildStatus::Failed.as_str())
            .bind(reason.clone()),
        };
        let done = query
            .bind(output.to_string())
            .bind(ts)
            .bind(build_id.to_string())
            .bind(BuildStatus::Pending.as_str())
            .execute(&self.pool)
            .await
            .ctx("finishing a build")?;
        let build = self
            .build(build_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("build {build_id}")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "build {build_id} already {}",
                build.status.as_str()
            )));
        }
        tracing::info!(build = %build_id, status = build.status.as_str(), "build finished");
        Ok(build)
    }

    /// A build by id.
    pub async fn build(&self, build_id: &str) -> Result<Option<Build>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE id = $1"
        )))
        .bind(build_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a build")?;
        row.as_ref().map(build_from_row).transpose()
    }

    /// The output (log) a build finished with; empty while it is pending.
    pub async fn build_output(&self, build_id: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT output FROM builds WHERE id = $1")
            .bind(build_id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a build's output")
    }

    /// An environment's builds, oldest first.
    pub async fn list_builds(&self, env_id: &str) -> Result<Vec<Build>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE env_id = $1 ORDER BY seq, created_at"
        )))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing builds")?;
        rows.iter().map(build_from_row).collect()
    }

    /// Marks every pending build failed (call at startup: no build survives a restart).
    /// Returns how many builds were marked.
    pub async fn fail_interrupted_builds(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE builds SET status = $1, failure = $2, updated_at = $3 WHERE status = $4",
        )
        .bind(BuildStatus::Failed.as_str())
        .bind(INTERRUPTED_REASON)
        .bind(now())
        .bind(BuildStatus::Pending.as_str())
        .execute(&self.pool)
        .await
        .ctx("failing interrupted builds")?;
        if done.rows_affected() > 0 {
            tracing::warn!(
                count = done.rows_affected(),
                "marked builds interrupted by a restart as failed"
            );
        }
        Ok(done.rows_affected())
    }
}

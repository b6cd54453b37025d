//! Rollouts: the steps of putting a release (or a restart) into service, recorded before
//! Docker acts, so that a restart of doppel can tell what was cut off: a rollout that had not
//! reached `committed` is unwound (its release failed), one that had is finished.

use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, new_id, now};
use crate::Store;
use sqlx::any::AnyRow;

/// Longest release-phase output kept with a rollout.
pub const MAX_ROLLOUT_OUTPUT: usize = 256 * 1024;

/// What a rollout puts into service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutKind {
    /// A new release.
    Release,
    /// The same release on fresh dynos (`ps:restart`).
    Restart,
}

/// How far a rollout got. The order is the order of the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RolloutPhase {
    Started,
    /// The release phase (`release:` of the Procfile) runs in a one-off dyno.
    ReleasePhase,
    /// New web dynos start and must pass their health check.
    Starting,
    /// The release serves: new requests go to the new dynos; the old ones drain behind.
    Committed,
    /// Nothing of the previous release runs any more.
    Done,
    /// Stopped at a step; what was serving before keeps serving.
    Failed,
}

impl RolloutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutKind::Release => "release",
            RolloutKind::Restart => "restart",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutKind> {
        match s {
            "release" => Some(RolloutKind::Release),
            "restart" => Some(RolloutKind::Restart),
            _ => None,
        }
    }
}

impl RolloutPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutPhase::Started => "started",
            RolloutPhase::ReleasePhase => "release_phase",
            RolloutPhase::Starting => "starting",
            RolloutPhase::Committed => "committed",
            RolloutPhase::Done => "done",
            RolloutPhase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutPhase> {
        [
            RolloutPhase::Started,
            RolloutPhase::ReleasePhase,
            RolloutPhase::Starting,
            RolloutPhase::Committed,
            RolloutPhase::Done,
            RolloutPhase::Failed,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether the rollout is over (done or failed).
    pub fn finished(self) -> bool {
        matches!(self, RolloutPhase::Done | RolloutPhase::Failed)
    }
}

/// One rollout of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub id: String,
    pub env_id: String,
    /// The release put into service (for a restart: the release restarted).
    pub release_id: Option<String>,
    pub kind: RolloutKind,
    pub phase: RolloutPhase,
    /// Why it failed, or what the last step did.
    pub detail: String,
    /// The release phase's output (at most [`MAX_ROLLOUT_OUTPUT`] bytes).
    pub output: String,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, env_id, release_id, kind, phase, detail, output, created_at, updated_at";

/// Phases a restart of doppel unwinds.
const UNCOMMITTED: &str = "('started', 'release_phase', 'starting')";

fn from_row(row: &AnyRow) -> Result<Rollout> {
    let t = "rollouts";
    let id: String = get(row, t, "id")?;
    let kind: String = get(row, t, "kind")?;
    let phase: String = get(row, t, "phase")?;
    Ok(Rollout {
        env_id: get(row, t, "env_id")?,
        release_id: get(row, t, "release_id")?,
        kind: RolloutKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("rollout {id}: kind {kind:?}")))?,
        phase: RolloutPhase::parse(&phase)
            .ok_or_else(|| StoreError::Corrupt(format!("rollout {id}: phase {phase:?}")))?,
        detail: get(row, t, "detail")?,
        output: get(row, t, "output")?,
        created_at: get(row, t, "created_at")?,
        updated_at: get(row, t, "updated_at")?,
        id,
    })
}

/// `text` cut at a character boundary to at most `max` bytes.
fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Store {
    /// Records the start of a rollout.
    pub async fn create_rollout(
        &self,
        env_id: &str,
        release_id: Option<&str>,
        kind: RolloutKind,
    ) -> Result<Rollout> {
        let ts = now();
        let rollout = Rollout {
            id: new_id(),
            env_id: env_id.to_string(),
            release_id: release_id.map(str::to_string),
            kind,
            phase: RolloutPhase::Started,
            detail: String::new(),
            output: String::new(),
            created_at: ts.clone(),
            updated_at: ts,
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO rollouts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(&rollout.id)
        .bind(&rollout.env_id)
        .bind(rollout.release_id.as_deref())
        .bind(kind.as_str())
        .bind(rollout.phase.as_str())
        .bind("")
        .bind("")
        .bind(&rollout.created_at)
        .bind(&rollout.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if crate::error::is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("environment {env_id} or its release"))
            } else {
                crate::error::db_error(e, "recording a rollout")
            }
        })?;
        Ok(rollout)
    }

    /// Records the step a rollout reached. A finished rollout does not change any more
    /// (`Conflict`), so a late writer cannot undo what recovery decided.
    pub async fn set_rollout_phase(
        &self,
        id: &str,
        phase: RolloutPhase,
        detail: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE rollouts SET phase = $1, detail = $2, updated_at = $3 \
             WHERE id = $4 AND phase NOT IN ('done', 'failed')",
        )
        .bind(phase.as_str())
        .bind(detail)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("recording a rollout step")?;
        if done.rows_affected() == 0 {
            return match self.rollout(id).await? {
                Some(r) if r.phase == phase => Ok(()),
                Some(r) => Err(StoreError::Conflict(format!(
                    "rollout {id} is {} already",
                    r.phase.as_str()
                ))),
                None => Err(StoreError::NotFound(format!("rollout {id}"))),
            };
        }
        tracing::info!(rollout = %id, phase = phase.as_str(), "rollout step");
        Ok(())
    }

    /// Keeps the release phase's output with the rollout (cut at [`MAX_ROLLOUT_OUTPUT`]).
    pub async fn set_rollout_output(&self, id: &str, output: &str) -> Result<()> {
        sqlx::query("UPDATE rollouts SET output = $1, updated_at = $2 WHERE id = $3")
            .bind(bounded(output, MAX_ROLLOUT_OUTPUT))
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("keeping a release phase's output")?;
        Ok(())
    }

    /// A rollout by id.
    pub async fn rollout(&self, id: &str) -> Result<Option<Rollout>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rollouts WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a rollout")?;
        row.as_ref().map(from_row).transpose()
    }

    /// The newest rollout of a release.
    pub async fn release_rollout(&self, release_id: &str) -> Result<Option<Rollout>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rollouts WHERE release_id = $1 AND kind = 'release' \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        )))
        .bind(release_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a release's rollout")?;
        row.as_ref().map(from_row).transpose()
    }

    /// An environment's rollouts, newest first.
    pub async fn env_rollouts(&self, env_id: &str, limit: u32) -> Result<Vec<Rollout>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rollouts WHERE env_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(env_id)
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(&self.pool)
        .await
        .ctx("listing rollouts")?;
        rows.iter().map(from_row).collect()
    }

    /// Every rollout that is not finished.
    pub async fn unfinished_rollouts(&self) -> Result<Vec<Rollout>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM rollouts WHERE phase NOT IN ('done', 'failed') \
             ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing unfinished rollouts")?;
        rows.iter().map(from_row).collect()
    }

    /// At startup: rollouts cut off before they committed are marked failed with `reason`
    /// (their releases never served; the supervisor removes their dynos). Committed ones are
    /// left for the supervisor to finish. Returns how many were failed.
    pub async fn interrupt_rollouts(&self, reason: &str) -> Result<u64> {
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE rollouts SET phase = 'failed', detail = $1, updated_at = $2 \
             WHERE phase IN {UNCOMMITTED}"
        )))
        .bind(reason)
        .bind(now())
        .execute(&self.pool)
        .await
        .ctx("unwinding interrupted rollouts")?;
        if done.rows_affected() > 0 {
            tracing::warn!(
                count = done.rows_affected(),
                "unwound rollouts interrupted by a restart"
            );
        }
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_output_is_cut_on_a_char_boundary() {
        for p in [
            RolloutPhase::Started,
            RolloutPhase::Committed,
            RolloutPhase::Failed,
        ] {
            assert_eq!(RolloutPhase::parse(p.as_str()), Some(p));
        }
        assert!(RolloutPhase::Starting < RolloutPhase::Committed);
        assert_eq!(RolloutKind::parse("restart"), Some(RolloutKind::Restart));
        assert_eq!(bounded("héllo", 2), "h");
        assert_eq!(bounded("abc", 10), "abc");
    }
}

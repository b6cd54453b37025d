//! Environments' IP allow-lists: the networks (CIDR text, checked by the caller) whose
//! clients the router lets through to an environment; an environment without a row admits
//! everyone.

use crate::error::{DbContext, Result, StoreError};
use crate::util::{get, now};
use crate::Store;
use std::collections::HashMap;

impl Store {
    /// Sets `env_id`'s allow-list to `networks` (in this order); an empty list removes it.
    /// `NotFound` for an unknown environment.
    pub async fn set_allowed_ips(&self, env_id: &str, networks: &[String]) -> Result<()> {
        if self.environment(env_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("environment {env_id}")));
        }
        if networks.is_empty() {
            sqlx::query("DELETE FROM env_allowed_ips WHERE env_id = $1")
                .bind(env_id)
                .execute(&self.pool)
                .await
                .ctx("removing an IP allow-list")?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO env_allowed_ips (env_id, networks, set_at) VALUES ($1, $2, $3) \
             ON CONFLICT (env_id) DO UPDATE SET networks = excluded.networks, \
             set_at = excluded.set_at",
        )
        .bind(env_id)
        .bind(networks.join("\n"))
        .bind(now())
        .execute(&self.pool)
        .await
        .ctx("setting an IP allow-list")?;
        Ok(())
    }

    /// `env_id`'s allow-list (empty: everyone is admitted).
    pub async fn allowed_ips(&self, env_id: &str) -> Result<Vec<String>> {
        let row = sqlx::query("SELECT networks FROM env_allowed_ips WHERE env_id = $1")
            .bind(env_id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading an IP allow-list")?;
        match row {
            Some(row) => Ok(split(&get::<String>(&row, "env_allowed_ips", "networks")?)),
            None => Ok(Vec::new()),
        }
    }

    /// Every allow-list, by environment id (for the route table).
    pub async fn all_allowed_ips(&self) -> Result<HashMap<String, Vec<String>>> {
        let rows = sqlx::query("SELECT env_id, networks FROM env_allowed_ips")
            .fetch_all(&self.pool)
            .await
            .ctx("listing IP allow-lists")?;
        let t = "env_allowed_ips";
        rows.iter()
            .map(|row| {
                let networks: String = get(row, t, "networks")?;
                Ok((get(row, t, "env_id")?, split(&networks)))
            })
            .collect()
    }
}

fn split(networks: &str) -> Vec<String> {
    networks.lines().map(str::to_string).collect()
}

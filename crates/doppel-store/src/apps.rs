//! Apps and their environments. Creating an app creates `<app>-staging` (private) and
//! `<app>` (public) in one transaction; app and environment names share one namespace.

use crate::error::{db_error, is_foreign_key_violation, is_unique_violation, DbContext};
use crate::error::{Result, StoreError};
use crate::util::{get, get_bool, new_id, now};
use crate::Store;
use doppel_types::{AppName, Stage};
use sqlx::any::AnyRow;

/// An app: what a team creates. Always holds two environments, staging first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub created_at: String,
    /// Staging first, production second.
    pub environments: Vec<Environment>,
}

/// One environment of an app: what the Heroku API calls an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub id: String,
    pub app_id: String,
    pub app_name: String,
    pub name: String,
    pub stage: Stage,
    /// Whether the router asks for credentials (staging: true, production: false).
    pub private: bool,
    /// The stack the next build runs on (a stack's canonical name, e.g. `debian-13`).
    pub build_stack: String,
    /// While on, the router answers 503 (H80) with a maintenance page; dynos keep running.
    pub maintenance: bool,
    /// Heroku's `http-session-affinity`: a client's requests go to the web dyno its cookie
    /// names while that dyno serves.
    pub session_affinity: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl App {
    /// The environment of `stage`.
    pub fn environment(&self, stage: Stage) -> Option<&Environment> {
        self.environments.iter().find(|e| e.stage == stage)
    }
}

const ENV_SELECT: &str = "SELECT e.id, e.app_id, a.name AS app_name, e.name, e.stage, \
     e.private, e.build_stack, e.maintenance, e.session_affinity, e.created_at, e.updated_at \
     FROM environments e JOIN apps a ON a.id = e.app_id";

fn env_from_row(row: &AnyRow) -> Result<Environment> {
    let stage: String = get(row, "environments", "stage")?;
    let stage = Stage::parse(&stage)
        .ok_or_else(|| StoreError::Corrupt(format!("environments.stage: unknown {stage:?}")))?;
    Ok(Environment {
        id: get(row, "environments", "id")?,
        app_id: get(row, "environments", "app_id")?,
        app_name: get(row, "environments", "app_name")?,
        name: get(row, "environments", "name")?,
        stage,
        private: get_bool(row, "environments", "private")?,
        build_stack: get(row, "environments", "build_stack")?,
        maintenance: get_bool(row, "environments", "maintenance")?,
        session_affinity: get_bool(row, "environments", "session_affinity")?,
        created_at: get(row, "environments", "created_at")?,
        updated_at: get(row, "environments", "updated_at")?,
    })
}

fn app_from_row(row: &AnyRow) -> Result<App> {
    Ok(App {
        id: get(row, "apps", "id")?,
        name: get(row, "apps", "name")?,
        owner_id: get(row, "apps", "owner_id")?,
        created_at: get(row, "apps", "created_at")?,
        environments: Vec::new(),
    })
}

/// Orders environments by app name, staging before production.
fn sort_envs(envs: &mut [Environment]) {
    envs.sort_by(|a, b| (&a.app_name, a.stage).cmp(&(&b.app_name, b.stage)));
}

impl Store {
    /// Creates an app and its two environments in one transaction, both building on
    /// `build_stack` (a stack's canonical name). `NameTaken` when the app name or either
    /// environment name is already used as an app or environment name.
    pub async fn create_app(
        &self,
        name: &AppName,
        owner_id: &str,
        build_stack: &str,
    ) -> Result<App> {
        let staging = name.env_name(Stage::Staging);
        let production = name.env_name(Stage::Production);
        let wanted = [name.as_str(), staging.as_str(), production.as_str()];
        let taken_msg = || {
            format!(
                "{name} (the app name or one of its environments {staging}, {production} is in use)"
            )
        };

        let mut tx = self.begin_write().await?;
        let clash: Option<String> = sqlx::query_scalar(
            "SELECT name FROM apps WHERE name IN ($1, $2, $3) \
             UNION SELECT name FROM environments WHERE name IN ($1, $2, $3)",
        )
        .bind(wanted[0])
        .bind(wanted[1])
        .bind(wanted[2])
        .fetch_optional(&mut *tx)
        .await
        .ctx("checking app and environment names")?;
        if clash.is_some() {
            return Err(StoreError::NameTaken(taken_msg()));
        }

        let created_at = now();
        let mut app = App {
            id: new_id(),
            name: name.as_str().to_string(),
            owner_id: owner_id.to_string(),
            created_at: created_at.clone(),
            environments: Vec::new(),
        };
        let map_insert = |e: sqlx::Error, what: &str| {
            if is_unique_violation(&e) {
                StoreError::NameTaken(taken_msg())
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound(format!("user {owner_id}"))
            } else {
                db_error(e, what)
            }
        };
        sqlx::query("INSERT INTO apps (id, name, owner_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&app.id)
            .bind(&app.name)
            .bind(&app.owner_id)
            .bind(&app.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| map_insert(e, "inserting an app"))?;
        for stage in Stage::ALL {
            let env = Environment {
                id: new_id(),
                app_id: app.id.clone(),
                app_name: app.name.clone(),
                name: name.env_name(stage).as_str().to_string(),
                stage,
                private: stage.private_by_default(),
                build_stack: build_stack.to_string(),
                maintenance: false,
                session_affinity: false,
                created_at: created_at.clone(),
                updated_at: created_at.clone(),
            };
            sqlx::query(
                "INSERT INTO environments \
                 (id, app_id, name, stage, private, build_stack, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&env.id)
            .bind(&env.app_id)
            .bind(&env.name)
            .bind(env.stage.as_str())
            .bind(i64::from(env.private))
            .bind(&env.build_stack)
            .bind(&env.created_at)
            .bind(&env.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| map_insert(e, "inserting an environment"))?;
            app.environments.push(env);
        }
        // The owner collaborates on both environments.
        sqlx::query(
            "INSERT INTO collaborators (id, app_id, env_id, user_id, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, $4)",
        )
        .bind(new_id())
        .bind(&app.id)
        .bind(&app.owner_id)
        .bind(&created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| map_insert(e, "recording the owner as a collaborator"))?;
        tx.commit()
            .await
            .map_err(|e| map_insert(e, "committing a new app"))?;
        tracing::info!(app = %app.name, id = %app.id, "created app");
        Ok(app)
    }

    /// Every app with its environments, by name.
    pub async fn list_apps(&self) -> Result<Vec<App>> {
        let rows = sqlx::query("SELECT id, name, owner_id, created_at FROM apps ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .ctx("listing apps")?;
        let mut apps = rows.iter().map(app_from_row).collect::<Result<Vec<_>>>()?;
        let envs = self.list_environments().await?;
        for app in &mut apps {
            app.environments = envs
                .iter()
                .filter(|e| e.app_id == app.id)
                .cloned()
                .collect();
        }
        Ok(apps)
    }

    /// An app by name or id, with its environments.
    pub async fn app(&self, name_or_id: &str) -> Result<Option<App>> {
        let row = sqlx::query(
            "SELECT id, name, owner_id, created_at FROM apps WHERE id = $1 OR name = $1",
        )
        .bind(name_or_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up an app")?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut app = app_from_row(&row)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ENV_SELECT} WHERE e.app_id = $1"
        )))
        .bind(&app.id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing an app's environments")?;
        app.environments = rows.iter().map(env_from_row).collect::<Result<Vec<_>>>()?;
        sort_envs(&mut app.environments);
        Ok(Some(app))
    }

    /// Deletes an app with its environments and everything they own (builds, releases,
    /// config, formation, add-on rows and backup rows), in one transaction.
    pub async fn delete_app(&self, app_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // Children first, so the result does not depend on ON DELETE CASCADE being enforced.
        const ENV_IDS: &str = "(SELECT id FROM environments WHERE app_id = $1)";
        let statements = [
            format!("DELETE FROM rollouts WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM log_drains WHERE env_id IN {ENV_IDS}"),
            format!(
                "DELETE FROM release_config_vars WHERE release_id IN \
                 (SELECT id FROM releases WHERE env_id IN {ENV_IDS})"
            ),
            format!("DELETE FROM releases WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM addon_backups WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM addon_attachments WHERE env_id IN {ENV_IDS}"),
            format!(
                "DELETE FROM addon_attachments WHERE addon_id IN \
                 (SELECT id FROM addons WHERE env_id IN {ENV_IDS})"
            ),
            format!("DELETE FROM addons WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM builds WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM config_vars WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM formations WHERE env_id IN {ENV_IDS}"),
            format!(
                "DELETE FROM acme_certs WHERE domain_id IN \
                 (SELECT id FROM domains WHERE env_id IN {ENV_IDS})"
            ),
            format!("DELETE FROM domains WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM sni_endpoints WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM acm_environments WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM env_access_passwords WHERE env_id IN {ENV_IDS}"),
            format!("DELETE FROM env_allowed_ips WHERE env_id IN {ENV_IDS}"),
            "DELETE FROM environments WHERE app_id = $1".to_string(),
        ];
        for sql in statements {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(app_id)
                .execute(&mut *tx)
                .await
                .ctx("deleting an app's rows")?;
        }
        let done = sqlx::query("DELETE FROM apps WHERE id = $1")
            .bind(app_id)
            .execute(&mut *tx)
            .await
            .ctx("deleting an app")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("app {app_id}")));
        }
        tx.commit().await.ctx("committing an app deletion")?;
        tracing::info!(id = %app_id, "deleted app");
        Ok(())
    }

    /// Every environment, by app name, staging before production.
    pub async fn list_environments(&self) -> Result<Vec<Environment>> {
        let rows = sqlx::query(ENV_SELECT)
            .fetch_all(&self.pool)
            .await
            .ctx("listing environments")?;
        let mut envs = rows.iter().map(env_from_row).collect::<Result<Vec<_>>>()?;
        sort_envs(&mut envs);
        Ok(envs)
    }

    /// An environment by name or id.
    pub async fn environment(&self, name_or_id: &str) -> Result<Option<Environment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ENV_SELECT} WHERE e.id = $1 OR e.name = $1"
        )))
        .bind(name_or_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up an environment")?;
        row.as_ref().map(env_from_row).transpose()
    }

    /// Takes the write lock on an environment's row for the rest of `tx` (PostgreSQL row
    /// lock; SQLite already holds the database write lock). `NotFound` if it does not exist.
    pub(crate) async fn lock_environment(
        tx: &mut sqlx::AnyConnection,
        env_id: &str,
        touch: bool,
    ) -> Result<()> {
        let query = if touch {
            sqlx::query("UPDATE environments SET updated_at = $2 WHERE id = $1")
                .bind(env_id)
                .bind(now())
        } else {
            sqlx::query("UPDATE environments SET updated_at = updated_at WHERE id = $1")
                .bind(env_id)
        };
        let done = query
            .execute(&mut *tx)
            .await
            .ctx("locking an environment")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("environment {env_id}")));
        }
        Ok(())
    }
}

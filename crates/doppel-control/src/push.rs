//! What happens when git receives a push: who may push where, which refs build, and the
//! hand-off to the deploy workflow. Heroku's rules: only `main`/`master` build, other
//! branches are accepted without a build, the deploy branch cannot be deleted.

use crate::logic::{access, Actor, LogicError};
use crate::state::AppState;
use crate::workflows::deploy;
use async_trait::async_trait;
use doppel_git::{GitAccessError, ProgressSink, Push, PushHandler, RefUpdate};
use doppel_types::Stage;

const ZERO_OID: &str = "0000000000000000000000000000000000000000";
const DEPLOY_BRANCHES: [&str; 2] = ["refs/heads/main", "refs/heads/master"];

/// The control plane's answer to git: authorization and the build in pre-receive position.
pub struct PushDeployer {
    state: AppState,
}

impl PushDeployer {
    pub fn new(state: AppState) -> PushDeployer {
        PushDeployer { state }
    }
}

/// How one push is handled, decided from its ref updates alone.
#[derive(Debug, PartialEq, Eq)]
pub enum PushPlan {
    /// Build and release this commit (of a deploy branch).
    Build { commit: String, branch: String },
    /// Accept without building (only non-deploy branches were touched).
    SkipBuild,
    /// Reject the whole push with this reason.
    Reject(String),
}

/// What a push to production hears unless an admin allowed direct pushes for the app.
pub fn production_refusal(app: &str) -> String {
    format!(
        "production deploys only by promotion: doppel promote -p {app} (push to {app}-staging to build)"
    )
}

/// Decides what a push does. Pure, so the rules are tested without git.
pub fn plan(updates: &[RefUpdate]) -> PushPlan {
    let mut build = None;
    for update in updates {
        if !DEPLOY_BRANCHES.contains(&update.refname.as_str()) {
            continue;
        }
        let branch = update.refname.trim_start_matches("refs/heads/").to_string();
        if update.new == ZERO_OID {
            return PushPlan::Reject(format!(
                "Push rejected, cannot delete {branch} branch: it is what this environment deploys from."
            ));
        }
        if build.is_none() {
            build = Some(PushPlan::Build {
                commit: update.new.clone(),
                branch,
            });
        }
    }
    build.unwrap_or(PushPlan::SkipBuild)
}

#[async_trait]
impl PushHandler for PushDeployer {
    async fn authorize(
        &self,
        repo: &str,
        password: Option<&str>,
        _write: bool,
    ) -> Result<Option<String>, GitAccessError> {
        let store = self.state.store();
        let env = store.environment(repo).await.map_err(|e| {
            tracing::error!(error = %e, "store lookup failed during git authorization");
            GitAccessError::Forbidden("doppel could not read its database; try again".into())
        })?;
        if env.is_none() {
            return Err(GitAccessError::NotFound);
        }
        let Some(password) = password else {
            return Err(GitAccessError::Unauthorized);
        };
        let user = match store.authenticate(password).await {
            Ok(Some(user)) => user,
            Ok(None) => return Err(GitAccessError::Unauthorized),
            Err(e) => {
                tracing::error!(error = %e, "store lookup failed during git authorization");
                return Err(GitAccessError::Forbidden(
                    "doppel could not read its database; try again".into(),
                ));
            }
        };
        // A user without access to the environment learns nothing of it.
        let actor = Actor {
            user,
            client: "git".to_string(),
            address: None,
        };
        match access::environment(&self.state, &actor, repo).await {
            Ok(_) => Ok(Some(actor.user.id)),
            Err(LogicError::NotFound { .. }) => Err(GitAccessError::NotFound),
            Err(e) => {
                tracing::error!(error = %e, "access check failed during git authorization");
                Err(GitAccessError::Forbidden(
                    "doppel could not check your access; try again".into(),
                ))
            }
        }
    }

    async fn pre_receive(&self, push: Push, out: ProgressSink) -> Result<(), String> {
        let env = match self.state.store().environment(&push.repo).await {
            Ok(Some(env)) => env,
            Ok(None) => return Err(format!("App not found: {}", push.repo)),
            Err(e) => {
                tracing::error!(error = %e, "store lookup failed during push");
                return Err("doppel could not read its database; try again".into());
            }
        };
        if env.stage == Stage::Production {
            match self.state.store().direct_pushes_allowed(&env.app_id).await {
                Ok(true) => {}
                Ok(false) => {
                    let msg = production_refusal(&env.app_name);
                    out.line(&format!(" !     {msg}")).await;
                    return Err(msg);
                }
                Err(e) => {
                    tracing::error!(error = %e, "store lookup failed during push");
                    return Err("doppel could not read its database; try again".into());
                }
            }
        }
        match plan(&push.updates) {
            PushPlan::Reject(reason) => {
                out.line(&format!(" !     {reason}")).await;
                Err(reason)
            }
            PushPlan::SkipBuild => {
                out.line("Pushed to non-master branch, skipping build.")
                    .await;
                Ok(())
            }
            PushPlan::Build { commit, branch } => {
                deploy::deploy_push(&self.state, &env, &push, &commit, &branch, &out).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(refname: &str, new: &str) -> RefUpdate {
        RefUpdate {
            old: ZERO_OID.to_string(),
            new: new.to_string(),
            refname: refname.to_string(),
        }
    }

    #[test]
    fn main_and_master_build_other_branches_do_not() {
        let sha = "a".repeat(40);
        assert_eq!(
            plan(&[update("refs/heads/main", &sha)]),
            PushPlan::Build {
                commit: sha.clone(),
                branch: "main".into()
            }
        );
        assert!(matches!(
            plan(&[update("refs/heads/master", &sha)]),
            PushPlan::Build { .. }
        ));
        assert_eq!(
            plan(&[update("refs/heads/feature", &sha)]),
            PushPlan::SkipBuild
        );
        assert_eq!(plan(&[update("refs/tags/v1", &sha)]), PushPlan::SkipBuild);
    }

    #[test]
    fn deleting_the_deploy_branch_is_refused() {
        assert!(matches!(
            plan(&[update("refs/heads/main", ZERO_OID)]),
            PushPlan::Reject(_)
        ));
        assert_eq!(
            plan(&[update("refs/heads/other", ZERO_OID)]),
            PushPlan::SkipBuild
        );
    }
}

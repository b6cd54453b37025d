//! A release rolling out, in the pipeline view's column: its steps (recorded, release phase,
//! dynos starting and passing their health check, serving) with the one it is at, and the
//! output of the build it came from. The page's live stream includes the step, so each one
//! shows as it is reached, without a reload.

use crate::error::PageError;
use doppel_control::logic::overview::{AppOverview, EnvSummary};
use doppel_control::logic::LogicError;
use doppel_control::state::AppState;
use doppel_store::{ReleaseStatus, Rollout, RolloutPhase};
use maud::{html, Markup};
use std::collections::HashMap;

/// The rollouts of the environments whose newest release is rolling out, by environment id.
#[derive(Default)]
pub struct Rollouts(HashMap<String, Rollout>);

impl Rollouts {
    /// Reads them for the environments of `view` (which the viewer may already see).
    pub async fn of(state: &AppState, view: &AppOverview) -> Result<Rollouts, PageError> {
        let mut out = HashMap::new();
        for e in &view.envs {
            let Some(latest) = e.latest.as_ref() else {
                continue;
            };
            if latest.status != ReleaseStatus::Pending {
                continue;
            }
            let found = state
                .store()
                .release_rollout(&latest.id)
                .await
                .map_err(LogicError::from)?;
            if let Some(r) = found {
                out.insert(e.env.id.clone(), r);
            }
        }
        Ok(Rollouts(out))
    }

    pub fn get(&self, env_id: &str) -> Option<&Rollout> {
        self.0.get(env_id)
    }

    /// What changes as the rollouts go on (for the page's live stream).
    pub fn fingerprint(&self) -> String {
        let mut keys: Vec<_> = self.0.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        keys.iter()
            .map(|(env, r)| format!("{env}:{}:{};", r.phase.as_str(), r.detail))
            .collect()
    }
}

/// The steps of a rollout as people read them, with the phase each one is.
fn steps(with_release_phase: bool) -> Vec<(RolloutPhase, &'static str)> {
    let mut out = vec![(RolloutPhase::Started, "Release recorded")];
    if with_release_phase {
        out.push((RolloutPhase::ReleasePhase, "Release phase running"));
    }
    out.push((
        RolloutPhase::Starting,
        "Web dynos starting, waiting for their health check",
    ));
    out.push((RolloutPhase::Committed, "Serving; old dynos draining"));
    out
}

fn rank(phase: RolloutPhase) -> u8 {
    match phase {
        RolloutPhase::Started => 0,
        RolloutPhase::ReleasePhase => 1,
        RolloutPhase::Starting => 2,
        RolloutPhase::Committed | RolloutPhase::Done => 3,
        RolloutPhase::Failed => 4,
    }
}

/// The rollout block of an environment's column (nothing when none is under way).
pub fn block(e: &EnvSummary, rollouts: &Rollouts) -> Markup {
    let (Some(latest), Some(r)) = (e.latest.as_ref(), rollouts.get(&e.env.id)) else {
        return html! {};
    };
    let at = rank(r.phase);
    html! {
        section.rollout aria-label={ "Rollout of v" (latest.version) } {
            h3 { "Rolling out v" (latest.version) }
            ol.steps {
                @for (phase, text) in steps(latest.process_types.contains_key("release")) {
                    @let class = if rank(phase) < at { "done" } else if rank(phase) == at { "now" } else { "next" };
                    li class=(class) aria-current=[(class == "now").then_some("step")] { (text) }
                }
            }
            @if r.phase == RolloutPhase::Failed || !r.detail.is_empty() {
                p.meta { (r.detail) }
            }
            @if let Some(build) = &latest.build_id {
                details.build-output open {
                    summary { "Output of its build" }
                    pre.output data-stream={ "/envs/" (e.env.name) "/builds/" (build) "/stream" } {}
                }
            }
        }
    }
}

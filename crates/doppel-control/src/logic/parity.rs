//! Parity: staging and production of one app side by side, aspect by aspect (config var
//! keys, add-ons, process types and sizes, stack, buildpacks, health checks, router settings,
//! direct pushes, the release each runs, and what is running against what is stored), with
//! every difference classed **drift** (blocks promotion), **expected** (dyno counts, config
//! values, a staging release not yet promoted…) or **intended** (drift an admin marked, with
//! a reason that is kept and shown).
//!
//! Layout: `inputs` reads everything once (store and Docker), `aspects` holds one pure
//! function per aspect over those inputs, and this file puts the report together, applies
//! the marks and words the refusal a promotion gets while there is drift. A new aspect is a
//! new function in `aspects` and one line in `aspects::ALL`.

mod aspects;
mod inputs;
mod model;

pub use inputs::{AddonRef, DynoObservation, Inputs, Side};
pub use model::{Aspect, Class, Difference};

use super::access;
use super::{Actor, LogicError};
use crate::state::AppState;
use doppel_store::{App, Environment, ParityMark};

/// The whole comparison of one app.
#[derive(Debug, Clone)]
pub struct Report {
    pub app: App,
    pub staging: Environment,
    pub production: Environment,
    pub aspects: Vec<Aspect>,
}

impl Report {
    /// Every difference, aspect by aspect.
    pub fn differences(&self) -> impl Iterator<Item = &Difference> {
        self.aspects.iter().flat_map(|a| a.differences.iter())
    }

    /// The differences that block promotion.
    pub fn drift(&self) -> Vec<&Difference> {
        self.differences()
            .filter(|d| d.class == Class::Drift)
            .collect()
    }

    /// How many differences of `class` there are.
    pub fn count(&self, class: Class) -> usize {
        self.differences().filter(|d| d.class == class).count()
    }
}

/// Parity of the app `name` (the app's name, or either environment's): needs access to both.
pub async fn report(state: &AppState, actor: &Actor, name: &str) -> Result<Report, LogicError> {
    let app = access::whole_app(state, actor, name).await?;
    report_of(state, app).await
}

/// Parity of `app`, for a caller that already checked access.
pub async fn report_of(state: &AppState, app: App) -> Result<Report, LogicError> {
    let inputs = inputs::gather(state, &app).await?;
    let marks = state.store().parity_marks(&app.id).await?;
    Ok(assemble(app, &inputs, &marks))
}

/// Runs every aspect over `inputs` and applies the admins' marks.
pub fn assemble(app: App, inputs: &Inputs, marks: &[ParityMark]) -> Report {
    let mut aspects: Vec<Aspect> = aspects::ALL.iter().map(|f| f(inputs)).collect();
    for difference in aspects.iter_mut().flat_map(|a| a.differences.iter_mut()) {
        let mark = marks
            .iter()
            .find(|m| m.aspect == difference.aspect && m.item == difference.item);
        if let Some(mark) = mark {
            if difference.class == Class::Drift {
                difference.class = Class::Intended;
            }
            difference.mark = Some(mark.clone());
        }
    }
    Report {
        app,
        staging: inputs.staging.env.clone(),
        production: inputs.production.env.clone(),
        aspects,
    }
}

/// Why a promotion is refused: every drifting item with its fix, and the ways forward.
pub fn refusal(report: &Report) -> String {
    let mut text = format!(
        "Promotion refused: {} and {} have drifted apart:\n",
        report.staging.name, report.production.name
    );
    for d in report.drift() {
        text.push_str(&format!("  - [{}] {}", d.id(), d.message));
        if let Some(fix) = &d.fix {
            text.push_str(&format!(" Fix: {fix}"));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Fix these, have an admin mark a difference intended (`doppel parity:mark -p {app} <id> --reason TEXT`), \
         or promote anyway with `doppel promote -p {app} --force --reason TEXT` (recorded in the audit log).",
        app = report.app.name
    ));
    text
}

/// Marks the difference `id` (`aspect/item`) of app `name` intended. Admins only; the reason
/// is required and kept.
pub async fn mark(
    state: &AppState,
    actor: &Actor,
    name: &str,
    id: &str,
    reason: &str,
) -> Result<ParityMark, LogicError> {
    let app = access::whole_app(state, actor, name).await?;
    access::require_admin(actor)?;
    let (aspect, item) = split_id(id)?;
    if reason.trim().is_empty() {
        return Err(LogicError::Invalid(format!(
            "Marking {id} intended needs a reason: say why staging and production may differ there (--reason TEXT)."
        )));
    }
    let mark = state
        .store()
        .set_parity_mark(&app.id, aspect, item, reason, Some(&actor.user.id))
        .await?;
    super::audit::record(
        state,
        actor,
        &app,
        None,
        "parity.mark",
        serde_json::json!({"difference": id, "reason": mark.reason}),
    )
    .await;
    Ok(mark)
}

/// Removes the mark of difference `id` of app `name`. Admins only.
pub async fn unmark(
    state: &AppState,
    actor: &Actor,
    name: &str,
    id: &str,
) -> Result<(), LogicError> {
    let app = access::whole_app(state, actor, name).await?;
    access::require_admin(actor)?;
    let (aspect, item) = split_id(id)?;
    state
        .store()
        .delete_parity_mark(&app.id, aspect, item)
        .await
        .map_err(|e| match e {
            doppel_store::StoreError::NotFound(_) => LogicError::not_found("parity mark", id),
            other => other.into(),
        })?;
    super::audit::record(
        state,
        actor,
        &app,
        None,
        "parity.unmark",
        serde_json::json!({"difference": id}),
    )
    .await;
    Ok(())
}

/// `aspect/item` → its parts; the aspect must be one parity has.
fn split_id(id: &str) -> Result<(&str, &str), LogicError> {
    let bad = || {
        LogicError::Invalid(format!(
            "{id:?} names no difference: use the id parity shows, `aspect/item` (e.g. config/FEATURE_FLAG); aspects are {}.",
            aspects::NAMES.join(", ")
        ))
    };
    let (aspect, item) = id.split_once('/').ok_or_else(bad)?;
    if item.trim().is_empty() || !aspects::NAMES.contains(&aspect) {
        return Err(bad());
    }
    Ok((aspect, item))
}

#[cfg(test)]
mod tests;

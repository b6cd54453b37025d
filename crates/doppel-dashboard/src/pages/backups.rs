//! Backups of an environment's add-ons on its resources page: each add-on's backups and
//! restores (name, status, size, time, verified or not), **Capture** (`logic::backups::capture`,
//! as `pg:backups:capture`) and **Restore** from a backup of this environment or of the other
//! one (`logic::backups::restore`, as `pg:backups:restore`). A restore replaces live data, so
//! like the CLI's `--confirm` it asks for the environment's name; a wrong name restores
//! nothing. Both run in the background: the resources page follows them live.

use super::finish;
use crate::flash::Notice;
use crate::layout::{csrf_field, when};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use doppel_control::logic::addons::AddonView;
use doppel_control::logic::backups::{self, RestoreRequest};
use doppel_control::logic::{Actor, LogicError};
use doppel_control::state::AppState;
use doppel_store::{Backup, BackupKind, BackupStatus};
use maud::{html, Markup};
use serde::Deserialize;

/// Backups and restores listed per add-on (the newest).
const SHOWN: usize = 20;

/// A backup another environment offers for restoring, as `myapp::b001`.
struct Source {
    value: String,
    label: String,
}

/// The backups of one add-on, ready to show.
pub struct AddonBackups {
    view: AddonView,
    /// Backups and restores of this add-on, newest first.
    rows: Vec<Backup>,
    /// What may be restored into it: its own succeeded backups, then the other environment's.
    sources: Vec<Source>,
}

/// The backups of each of `owned` that has backups at all (the others are left out).
pub async fn of_addons(
    state: &AppState,
    actor: &Actor,
    owned: &[AddonView],
) -> Result<Vec<AddonBackups>, LogicError> {
    let mut out = Vec::new();
    for view in owned {
        if !view.manifest.as_ref().is_some_and(|m| m.supports_backups()) {
            continue;
        }
        let (_, all) = backups::list(state, actor, &view.env.name).await?;
        let mine = |b: &Backup| b.addon_id.as_deref() == Some(view.addon.id.as_str());
        let rows: Vec<Backup> = all.iter().rev().filter(|b| mine(b)).cloned().collect();
        let mut sources = restorable(&rows, None, &view.addon.service);
        for other in view.app.environments.iter().filter(|e| e.id != view.env.id) {
            // A member who may not use the other environment restores only from this one.
            if let Ok((_, theirs)) = backups::list(state, actor, &other.name).await {
                let newest: Vec<Backup> = theirs.into_iter().rev().collect();
                sources.extend(restorable(&newest, Some(&other.name), &view.addon.service));
            }
        }
        out.push(AddonBackups {
            view: view.clone(),
            rows: rows.into_iter().take(SHOWN).collect(),
            sources,
        });
    }
    Ok(out)
}

/// The succeeded captures of `service` among `list`, named from `env` (`None`: this one).
fn restorable(list: &[Backup], env: Option<&str>, service: &str) -> Vec<Source> {
    list.iter()
        .filter(|b| {
            b.kind != BackupKind::Restore
                && b.status == BackupStatus::Succeeded
                && b.service == service
        })
        .take(SHOWN)
        .map(|b| {
            let value = match env {
                Some(e) => format!("{e}::{}", b.label()),
                None => b.label(),
            };
            let size = b.size_bytes.map(human_size).unwrap_or_default();
            let label = format!("{value} · {} · {size}", when(&b.created_at));
            Source { value, label }
        })
        .collect()
}

/// What the page's live stream compares: every row's name, status and verification.
pub fn fingerprint(list: &[AddonBackups]) -> String {
    let mut text = String::new();
    for a in list {
        text.push_str(&a.view.addon.id);
        for b in &a.rows {
            text.push_str(&format!("|{}:{}:{:?}", b.id, b.status.as_str(), b.verified));
        }
        text.push(';');
    }
    text
}

/// One add-on's backups with its Capture and Restore forms.
pub fn section(viewer: &Viewer, env: &str, a: &AddonBackups) -> Markup {
    let name = &a.view.addon.name;
    html! {
        section.backups aria-label={ "Backups of " (name) } {
            h3 { "Backups of " (name) }
            @if a.rows.is_empty() {
                p.empty { "No backups yet." }
            } @else {
                table.backups {
                    thead { tr { th { "Backup" } th { "Status" } th { "Size" } th { "Taken" } th { "Verified" } } }
                    tbody { @for b in &a.rows { (row(b)) } }
                }
            }
            form.capture method="post" action={ "/envs/" (env) "/backups" } {
                (csrf_field(viewer))
                input type="hidden" name="addon" value=(name);
                button type="submit" { "Capture a backup of " (name) }
            }
            (restore_form(viewer, env, a))
        }
    }
}

fn row(b: &Backup) -> Markup {
    let label = b.label();
    let status = b.status.as_str();
    let (verified, class) = match (b.kind, b.verified) {
        (BackupKind::Restore, _) => ("", "na"),
        (_, Some(true)) => ("verified", "yes"),
        (_, Some(false)) => ("NOT verified", "no"),
        (_, None) if b.status == BackupStatus::Running => ("checking…", "pending"),
        (_, None) => ("not verified", "no"),
    };
    html! {
        tr id={ "backup-" (label) } {
            th scope="row" {
                (label)
                @if let Some(src) = &b.source { " " span.meta { "restore of " code { (src) } } }
            }
            td class={ "state " (status) } {
                (status)
                @if let Some(e) = &b.error { ": " span.error-text { (e) } }
            }
            td { (b.size_bytes.map(human_size).unwrap_or_default()) }
            td { (when(b.finished_at.as_deref().unwrap_or(&b.created_at))) }
            td class={ "verified " (class) } title=[b.verify_message.as_deref()] { (verified) }
        }
    }
}

fn restore_form(viewer: &Viewer, env: &str, a: &AddonBackups) -> Markup {
    if a.sources.is_empty() {
        return html! { p.hint { "Restoring needs a backup that succeeded (of this environment or the other)." } };
    }
    let id = format!("restore-{}", a.view.addon.name);
    html! {
        details.restore {
            summary { "Restore " (a.view.addon.name) " from a backup…" }
            form method="post" action={ "/envs/" (env) "/backups/restore" } {
                (csrf_field(viewer))
                input type="hidden" name="addon" value=(a.view.addon.name);
                label for={ (id) "-source" } { "Backup to restore" }
                select id={ (id) "-source" } name="source" {
                    @for s in &a.sources { option value=(s.value) { (s.label) } }
                }
                p.warn { "This replaces all the data of " (a.view.addon.name) " in " strong { (env) } "." }
                label for={ (id) "-confirm" } { "Type " code { (env) } " to confirm" }
                input id={ (id) "-confirm" } name="confirm" autocomplete="off" required;
                button.danger type="submit" { "Restore" }
            }
        }
    }
}

/// `1536` → `1.5 kB` (as `pg:backups` shows sizes).
fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 3] = ["kB", "MB", "GB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[derive(Deserialize)]
pub struct CaptureForm {
    #[serde(default)]
    addon: String,
}

/// `POST /envs/{env}/backups {addon}`: starts a capture; the page follows it.
pub async fn capture(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<CaptureForm>,
) -> Response {
    let back = format!("/envs/{env}/resources");
    let reference = Some(f.addon).filter(|a| !a.trim().is_empty());
    let (app, actor, target) = (dash.app.clone(), viewer.actor(), env.clone());
    let result = super::detached(async move {
        backups::capture(&app, &actor, &target, reference.as_deref(), None, false).await
    })
    .await
    .map(|(found, row)| {
        Notice::ok(format!(
            "Capturing {} of {}: it is verified by a scratch restore, then listed as verified.",
            row.label(),
            found.addon.name
        ))
    });
    finish(&dash, &viewer, &back, result)
}

#[derive(Deserialize)]
pub struct RestoreForm {
    #[serde(default)]
    addon: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    confirm: String,
}

/// Refuses a restore whose confirmation is not the environment's name (as `--confirm`).
fn confirmed(env: &str, typed: &str) -> Result<(), LogicError> {
    if typed.trim() == env {
        return Ok(());
    }
    Err(LogicError::Invalid(format!(
        "Nothing was restored: type {env} to confirm that its data is replaced."
    )))
}

/// `POST /envs/{env}/backups/restore {addon, source, confirm}`: starts a restore into the
/// add-on once the environment's name is confirmed; the page follows it.
pub async fn restore(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(env): Path<String>,
    Form(f): Form<RestoreForm>,
) -> Response {
    let back = format!("/envs/{env}/resources");
    if let Err(e) = confirmed(&env, &f.confirm) {
        return finish(&dash, &viewer, &back, Err(e));
    }
    let req = RestoreRequest {
        source: Some(f.source).filter(|s| !s.trim().is_empty()),
        target: Some(f.addon).filter(|a| !a.trim().is_empty()),
        script: None,
        wait: false,
    };
    let (app, actor, target) = (dash.app.clone(), viewer.actor(), env.clone());
    let result =
        super::detached(async move { backups::restore(&app, &actor, &target, None, &req).await })
            .await
            .map(|(found, row)| {
                Notice::ok(format!(
                    "Restoring {} into {} ({}).",
                    row.source.as_deref().unwrap_or("the backup"),
                    found.addon.name,
                    row.label()
                ))
            });
    finish(&dash, &viewer, &back, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_pg_backups_shows_them() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 kB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }

    #[test]
    fn a_restore_needs_the_environments_name() {
        assert!(confirmed("shop-staging", "shop-staging").is_ok());
        assert!(confirmed("shop-staging", " shop-staging ").is_ok());
        assert!(confirmed("shop-staging", "shop").is_err());
        assert!(confirmed("shop-staging", "").is_err());
        assert!(confirmed("shop-staging", "SHOP-STAGING").is_err());
    }
}

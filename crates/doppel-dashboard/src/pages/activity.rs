//! Activity: an app's audit log, newest first (`logic::audit::events`): who changed what,
//! when, through which client. Details name config keys, never values.

use super::notice;
use crate::error::PageError;
use crate::layout::{self, when};
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::extract::{Path, State};
use doppel_control::logic::{audit, overview, LogicError};
use doppel_store::AuditEvent;
use maud::{html, Markup};

/// Events shown (the newest).
const SHOWN: u32 = 200;

/// `GET /apps/{app}/activity`.
pub async fn show(
    State(dash): State<Dashboard>,
    viewer: Viewer,
    Path(app): Path<String>,
) -> Result<Markup, PageError> {
    let actor = viewer.actor();
    let view = overview::app(&dash.app, &actor, &app).await?;
    let name = view.app.name.clone();
    let events = match audit::events(&dash.app, &actor, &name, None, None, Some(SHOWN)).await {
        Ok(e) => e,
        // A member of one environment reads that environment's events.
        Err(LogicError::Forbidden(_)) => {
            let mut all = Vec::new();
            for e in &view.envs {
                all.extend(
                    audit::events(
                        &dash.app,
                        &actor,
                        &name,
                        Some(&e.env.name),
                        None,
                        Some(SHOWN),
                    )
                    .await?,
                );
            }
            all.sort_by(|a, b| b.created_at.cmp(&a.created_at));
            all
        }
        Err(e) => return Err(e.into()),
    };
    let body = html! {
        h1 { (name) " " span.sub { "activity" } }
        nav.tabs aria-label="App" {
            a href={ "/apps/" (name) } { "← " (name) " pipeline" }
            @for e in &view.envs { a href={ "/envs/" (e.env.name) "/releases" } { (e.env.name) } }
        }
        @if events.is_empty() {
            p.empty { "Nothing has happened yet." }
        } @else {
            ol.activity { @for e in &events { li { (event(e)) } } }
        }
    };
    Ok(layout::page(
        &format!("{name} activity"),
        &viewer,
        notice(&dash, &viewer).as_ref(),
        None,
        body,
    ))
}

fn event(e: &AuditEvent) -> Markup {
    html! {
        p.what {
            strong { (e.action) }
            @if let Some(env) = &e.env_name { " on " (env) }
            @let details = details(&e.details);
            @if !details.is_empty() { " · " span.details { (details) } }
        }
        p.meta {
            (when(&e.created_at))
            " · " (e.user_email.as_deref().unwrap_or("doppel"))
            " via " (e.client)
            @if let Some(a) = &e.address { " from " (a) }
        }
    }
}

/// `{"keys":["A","B"],"version":7}` → `keys: A, B · version: 7`.
fn details(json: &str) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return String::new();
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let shown = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            format!("{k}: {shown}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::details;

    #[test]
    fn details_read_as_text() {
        assert_eq!(
            details(r#"{"keys":["A","B"],"version":7,"reason":null}"#),
            "keys: A, B · version: 7"
        );
        assert_eq!(details("not json"), "");
    }
}

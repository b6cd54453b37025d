//! The pages, one file per resource, each a thin handler over `doppel_control::logic` (as
//! the API's are): read the request, call the logic as the viewer, render. Forms post,
//! leave a one-shot notice and redirect (a reload never repeats an action).

pub mod access;
pub mod account;
pub mod activity;
pub mod apps;
pub mod backups;
pub mod certificates;
pub mod config;
pub mod login;
pub mod logs;
pub mod pipeline;
pub mod promote;
pub mod releases;
pub mod resources;
pub mod rollout;
pub mod users;

use crate::error::PageError;
use crate::flash::Notice;
use crate::session::see_other;
use crate::state::Dashboard;
use crate::viewer::Viewer;
use axum::response::{IntoResponse, Response};
use doppel_control::logic::LogicError;
use std::collections::HashMap;

/// Runs an action to its end even when the browser goes away meanwhile (a release rolls out
/// for a while; a dropped connection must not cancel it half-way): on a task of its own.
pub async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, LogicError>> + Send + 'static,
) -> Result<T, LogicError> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(e) => Err(LogicError::internal("finish the action", e)),
    }
}

/// The answer to a path that is no page.
pub async fn not_found() -> Response {
    PageError::NotFound.into_response()
}

/// The end of a form post: the notice for the next page and a redirect to `back`. Refusals
/// (bad input, conflicts, not allowed) become an error notice on that page; an unknown or
/// hidden object and internal failures are pages of their own.
pub fn finish(
    dash: &Dashboard,
    viewer: &Viewer,
    back: &str,
    result: Result<Notice, LogicError>,
) -> Response {
    let notice = match result {
        Ok(n) => n,
        Err(e @ (LogicError::NotFound { .. } | LogicError::Internal { .. })) => {
            return PageError::from(e).into_response();
        }
        Err(e) => refusal(&e),
    };
    dash.flash.put(&viewer.session.digest, notice);
    see_other(back)
}

/// A refusal's message as a notice: its first line as the title, the rest as items.
pub fn refusal(e: &LogicError) -> Notice {
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut notice = Notice::error(lines.next().unwrap_or("That did not work."));
    for rest in lines {
        notice = notice.item(rest.trim_start_matches("- "), None);
    }
    notice
}

/// The viewer's notice for this page, if a form left one. A refresh in place (the script's,
/// racing the page a form post leads to) leaves it for that page.
pub fn notice(dash: &Dashboard, viewer: &Viewer) -> Option<Notice> {
    if viewer.refresh {
        return None;
    }
    dash.flash.take(&viewer.session.digest)
}

/// The stage of an environment as a word for headings.
pub fn stage_word(stage: doppel_types::Stage) -> &'static str {
    match stage {
        doppel_types::Stage::Staging => "staging",
        doppel_types::Stage::Production => "production",
    }
}

/// The emails of the users `ids` names, by id (to show who did what).
pub async fn emails(
    dash: &Dashboard,
    ids: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, PageError> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(u) = dash.app.store().user(&id).await.map_err(LogicError::from)? {
            out.insert(id, u.email);
        }
    }
    Ok(out)
}

//! The page shell every page shares: header with navigation and sign-out, the one-shot
//! notice, the environment tabs, and small helpers for forms and times. maud escapes every
//! value it is given, so names, keys, messages and log lines are text, never markup.

use crate::csrf;
use crate::flash::Notice;
use crate::viewer::Viewer;
use maud::{html, Markup, DOCTYPE};

/// A whole page for a signed-in viewer. `live` names an event stream whose `changed` events
/// make the script reload `main` (for pages that show work in progress).
pub fn page(
    title: &str,
    viewer: &Viewer,
    notice: Option<&Notice>,
    live: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-live=[live] {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "doppel" }
                    nav aria-label="Main" {
                        a href="/" { "Apps" }
                        @if viewer.user.admin {
                            a href="/users" { "Users" }
                            a href="/certificates" { "Certificates" }
                        }
                        a href="/account" { "Account" }
                    }
                    form.signout method="post" action="/logout" {
                        (csrf_field(viewer))
                        span.who { (viewer.user.email) }
                        button type="submit" { "Sign out" }
                    }
                }
                main #main {
                    @if let Some(n) = notice { (notice_box(n)) }
                    (body)
                }
            }
        }
    }
}

/// A page without a viewer (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top { a.brand href="/" { "doppel" } }
                main #main { (body) }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · doppel" }
            link rel="stylesheet" href="/static/dashboard.css";
            script src="/static/dashboard.js" defer {}
        }
    }
}

/// What a form did, shown once.
pub fn notice_box(n: &Notice) -> Markup {
    html! {
        section.notice.ok[n.ok].error[!n.ok] role=(if n.ok { "status" } else { "alert" }) {
            p.title { (n.title) }
            @if !n.items.is_empty() {
                ul {
                    @for item in &n.items {
                        li {
                            (item.text)
                            @if let Some(fix) = &item.fix { " Fix: " code.fix { (fix) } }
                        }
                    }
                }
            }
            @if !n.secrets.is_empty() {
                p { "Shown this once; doppel keeps only a hash:" }
                dl.secrets {
                    @for (label, value) in &n.secrets {
                        dt { (label) }
                        dd { code { (value) } }
                    }
                }
            }
        }
    }
}

/// The hidden `_csrf` field every form of the viewer's carries.
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(viewer.csrf); }
}

/// The tabs of an environment's pages, with the app's pipeline view first.
pub fn env_tabs(app: &str, env: &str, active: &str) -> Markup {
    let tabs = [
        ("releases", "Releases"),
        ("config", "Config vars"),
        ("resources", "Resources"),
        ("logs", "Logs"),
        ("access", "Access"),
    ];
    html! {
        nav.tabs aria-label="Environment" {
            a href={ "/apps/" (app) } { "← " (app) " pipeline" }
            @for (slug, label) in tabs {
                a href={ "/envs/" (env) "/" (slug) }
                    aria-current=[(slug == active).then_some("page")] { (label) }
            }
            a href={ "/apps/" (app) "/activity" } { "Activity" }
        }
    }
}

/// Links to an environment's pages (in the pipeline view's columns).
pub fn env_links(env: &str) -> Markup {
    html! {
        p.links {
            a href={ "/envs/" (env) "/releases" } { "Releases" } " · "
            a href={ "/envs/" (env) "/config" } { "Config vars" } " · "
            a href={ "/envs/" (env) "/resources" } { "Resources" } " · "
            a href={ "/envs/" (env) "/logs" } { "Logs" } " · "
            a href={ "/envs/" (env) "/access" } { "Access" }
        }
    }
}

/// `sha256:0123456789ab…` → `0123456789ab`.
pub fn short_image(id: &str) -> &str {
    let bare = id.strip_prefix("sha256:").unwrap_or(id);
    bare.get(..12).unwrap_or(bare)
}

/// A stored time (`2026-01-01T12:00:00Z`) as people read it.
pub fn when(stamp: &str) -> String {
    match stamp.split_once('T') {
        Some((day, time)) => format!("{day} {} UTC", time.trim_end_matches('Z')),
        None => stamp.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_well() {
        assert_eq!(when("2026-01-01T12:00:00Z"), "2026-01-01 12:00:00 UTC");
        assert_eq!(when("odd"), "odd");
    }

    #[test]
    fn notices_escape_what_they_show() {
        let n = Notice::error("<b>x</b>").item("<script>", Some("a&b".into()));
        let html = notice_box(&n).into_string();
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("a&amp;b"), "{html}");
        assert!(!html.contains("<script>"));
    }
}

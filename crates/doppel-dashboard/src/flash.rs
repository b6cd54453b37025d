//! One-shot notices: what a form did (or why it changed nothing), shown once on the page the
//! browser is sent to next (post, redirect, get: a reload never repeats the action). Kept in
//! memory per session, a few minutes at most, bounded.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a notice waits for its page.
const TTL: Duration = Duration::from_secs(300);
/// Notices kept at once.
const MAX_NOTICES: usize = 10_000;

/// One line of a notice, with the command that fixes it when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub text: String,
    pub fix: Option<String>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub ok: bool,
    pub title: String,
    pub items: Vec<Item>,
    /// Secrets shown this once (a new user's token and password): label and value.
    pub secrets: Vec<(String, String)>,
}

impl Notice {
    pub fn ok(title: impl Into<String>) -> Notice {
        Notice {
            ok: true,
            title: title.into(),
            items: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub fn error(title: impl Into<String>) -> Notice {
        Notice {
            ok: false,
            ..Notice::ok(title)
        }
    }

    pub fn item(mut self, text: impl Into<String>, fix: Option<String>) -> Notice {
        self.items.push(Item {
            text: text.into(),
            fix,
        });
        self
    }

    pub fn secret(mut self, label: impl Into<String>, value: impl Into<String>) -> Notice {
        self.secrets.push((label.into(), value.into()));
        self
    }
}

/// Notices by session digest.
#[derive(Debug, Default)]
pub struct Flash {
    notices: Mutex<HashMap<String, (Instant, Notice)>>,
}

impl Flash {
    fn locked(&self) -> MutexGuard<'_, HashMap<String, (Instant, Notice)>> {
        self.notices.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `notice` for the session's next page (replacing an unread one).
    pub fn put(&self, session: &str, notice: Notice) {
        let now = Instant::now();
        let mut map = self.locked();
        if map.len() >= MAX_NOTICES {
            map.retain(|_, (at, _)| now.duration_since(*at) < TTL);
            if map.len() >= MAX_NOTICES {
                map.clear();
            }
        }
        map.insert(session.to_string(), (now, notice));
    }

    /// The session's notice, once.
    pub fn take(&self, session: &str) -> Option<Notice> {
        let (at, notice) = self.locked().remove(session)?;
        (at.elapsed() < TTL).then_some(notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_shown_once_to_its_session() {
        let f = Flash::default();
        f.put("s1", Notice::ok("done").item("v3", None));
        assert_eq!(f.take("s2"), None);
        assert_eq!(f.take("s1").map(|n| n.title), Some("done".to_string()));
        assert_eq!(f.take("s1"), None);
    }
}

//! Log sessions: what `POST /apps/{app}/log-sessions` hands out. A session is a capability: a
//! random secret in a `logplex_url` that reads one environment's log (with the filter, line
//! count and tail flag it was made with) without a token, for an hour. Kept in memory only:
//! a restart of doppel ends them, as clients ask for a new one each time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Filter;

/// How long a log session URL can be read.
pub const SESSION_TTL: Duration = Duration::from_secs(60 * 60);
/// Most sessions alive at once (the oldest go first).
const MAX_SESSIONS: usize = 4096;

/// One log session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSession {
    pub env_id: String,
    pub filter: Filter,
    /// Past lines to send first.
    pub lines: usize,
    /// Keep the stream open for new lines.
    pub tail: bool,
}

struct Entry {
    session: LogSession,
    expires: Instant,
    read: bool,
}

/// The live sessions.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
}

impl Sessions {
    /// Registers a session; returns its secret.
    pub fn create(&self, session: LogSession) -> String {
        let secret = hex::encode(rand::random::<[u8; 24]>());
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, e| e.expires > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            secret.clone(),
            Entry {
                session,
                expires: now + SESSION_TTL,
                read: false,
            },
        );
        secret
    }

    /// The session behind `secret`, if alive. A tail read again (a client reconnecting)
    /// gets no past lines a second time.
    pub fn open(&self, secret: &str) -> Option<LogSession> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.get_mut(secret).filter(|e| e.expires > Instant::now())?;
        let mut session = entry.session.clone();
        if entry.read && session.tail {
            session.lines = 0;
        }
        entry.read = true;
        Some(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_secret_and_a_reread_tail_skips_history() {
        let s = Sessions::default();
        let secret = s.create(LogSession {
            env_id: "e".into(),
            filter: Filter::default(),
            lines: 100,
            tail: true,
        });
        assert_eq!(secret.len(), 48);
        assert_eq!(s.open(&secret).map(|x| x.lines), Some(100));
        assert_eq!(s.open(&secret).map(|x| x.lines), Some(0));
        assert!(s.open("nope").is_none());
    }
}

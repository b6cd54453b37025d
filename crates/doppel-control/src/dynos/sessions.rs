//! One-off dynos (and interactive add-on clients) waiting for their client to attach, by
//! the secret of their `attach_url`: what the shared state holds for the rendezvous server
//! ([`super::attach`]). It names no module that uses the shared state.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a client has to attach after asking for the dyno.
pub const ATTACH_WINDOW: Duration = Duration::from_secs(120);
/// A dyno waiting for its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub container: String,
    pub env_id: String,
    pub dyno: String,
    pub tty: bool,
    /// Terminal size from the client's `LINES` and `COLUMNS`.
    pub rows: Option<u16>,
    pub cols: Option<u16>,
    /// An interactive command to run in `container` (a running add-on server) instead of
    /// starting it.
    pub exec: Option<doppel_docker::InteractiveExec>,
}

/// Dynos waiting for their client, by secret.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, (Pending, Instant)>>,
}

impl Sessions {
    /// Registers a dyno; returns the secret of its `attach_url`.
    pub fn add(&self, pending: Pending) -> String {
        let secret = hex::encode(rand::random::<[u8; 24]>());
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, at)| at.elapsed() < ATTACH_WINDOW);
        map.insert(secret.clone(), (pending, Instant::now()));
        secret
    }

    /// The dyno behind `secret` (each secret works once).
    pub fn take(&self, secret: &str) -> Option<Pending> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let (pending, at) = map.remove(secret)?;
        (at.elapsed() < ATTACH_WINDOW).then_some(pending)
    }
}

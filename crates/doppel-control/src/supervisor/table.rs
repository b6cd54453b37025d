//! What the supervisor knows about dynos that Docker does not: whether a running web dyno has
//! passed its health check (`up`) or is still booting (`starting`), which ones are being
//! stopped, when one crashed, which containers a task is working on, and whose output has
//! been read to the end. In memory: after a restart of doppel, running web dynos are probed
//! again before they get requests.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use time::OffsetDateTime;

/// Where a dyno is in its life, beyond running or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Started; a web dyno has not passed its health check yet.
    Starting,
    /// Serving (web) or running (other types).
    Up,
    /// Draining and being stopped.
    Stopping,
    /// Exited on its own; restarted after its back-off.
    Crashed,
}

impl Phase {
    /// The word `ps` and the API show.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Up => "up",
            Phase::Stopping => "stopping",
            Phase::Crashed => "crashed",
        }
    }
}

/// One container's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynoInfo {
    pub phase: Phase,
    /// When it entered the phase.
    pub since: OffsetDateTime,
}

#[derive(Default)]
struct Inner {
    dynos: HashMap<String, DynoInfo>,
    /// Containers a task (boot watch, retirement, release phase, attach) is working on.
    busy: HashSet<String>,
    /// Containers with a log follower running.
    following: HashSet<String>,
    /// Containers whose output was read to its end.
    followed: HashSet<String>,
}

/// The table, shared by the supervisor's tasks.
#[derive(Default)]
pub struct DynoTable {
    inner: Mutex<Inner>,
}

/// A consistent copy for one planning pass.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub dynos: HashMap<String, DynoInfo>,
    pub busy: HashSet<String>,
    pub followed: HashSet<String>,
}

impl DynoTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, id: &str, phase: Phase) {
        self.lock().dynos.insert(
            id.to_string(),
            DynoInfo {
                phase,
                since: OffsetDateTime::now_utc(),
            },
        );
    }

    /// Moves `id` to `phase` and returns the phase it had.
    pub fn transition(&self, id: &str, phase: Phase) -> Option<Phase> {
        let mut inner = self.lock();
        let before = inner.dynos.get(id).map(|d| d.phase);
        inner.dynos.insert(
            id.to_string(),
            DynoInfo {
                phase,
                since: OffsetDateTime::now_utc(),
            },
        );
        before
    }

    pub fn get(&self, id: &str) -> Option<DynoInfo> {
        self.lock().dynos.get(id).copied()
    }

    /// Forgets a removed container.
    pub fn remove(&self, id: &str) {
        let mut inner = self.lock();
        inner.dynos.remove(id);
        inner.busy.remove(id);
        inner.following.remove(id);
        inner.followed.remove(id);
    }

    /// Marks `id` busy; `false` when a task already works on it.
    pub fn claim(&self, id: &str) -> bool {
        self.lock().busy.insert(id.to_string())
    }

    pub fn release(&self, id: &str) {
        self.lock().busy.remove(id);
    }

    /// Marks a follower started for `id`; `false` when one runs or ran to the end.
    pub fn start_following(&self, id: &str) -> bool {
        let mut inner = self.lock();
        if inner.followed.contains(id) {
            return false;
        }
        inner.following.insert(id.to_string())
    }

    /// The follower of `id` ended: with `complete`, the output was read to its end.
    pub fn stop_following(&self, id: &str, complete: bool) {
        let mut inner = self.lock();
        inner.following.remove(id);
        if complete {
            inner.followed.insert(id.to_string());
        }
    }

    /// Marks `id`'s output as taken care of without a follower (an attached one-off).
    pub fn mark_followed(&self, id: &str) {
        self.lock().followed.insert(id.to_string());
    }

    pub fn is_followed(&self, id: &str) -> bool {
        self.lock().followed.contains(id)
    }

    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        Snapshot {
            dynos: inner.dynos.clone(),
            busy: inner.busy.clone(),
            followed: inner.followed.clone(),
        }
    }

    /// Drops entries of containers that no longer exist.
    pub fn retain(&self, existing: &HashSet<String>) {
        let mut inner = self.lock();
        inner.dynos.retain(|id, _| existing.contains(id));
        inner.followed.retain(|id| existing.contains(id));
    }
}

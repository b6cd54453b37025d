//! The in-memory part of ACM that the shared state holds: the challenges in flight (the route
//! table carries them to the router) and the ACM task's wake-up. It names no module that
//! uses the shared state.

use super::files::Loaded;
use doppel_router::Challenges;
use std::sync::Mutex;

/// The in-memory part of ACM: challenges in flight and the task's wake-up.
#[derive(Debug, Default)]
pub struct Acme {
    challenges: Mutex<Challenges>,
    wake: tokio::sync::Notify,
    /// The certificate last read from `--platform-cert-file` (`files`).
    pub(super) platform_files: Loaded,
}

impl Acme {
    /// The challenges the router must answer now (for the route table).
    pub fn challenges(&self) -> Challenges {
        self.challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn edit(&self, f: impl FnOnce(&mut Challenges)) {
        f(&mut self.challenges.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Asks the task for a pass now (ACM turned on, a domain added, `PATCH /acm`, an app
    /// created or destroyed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The task's wake-up, for its loop to wait on.
    pub(super) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.wake.notified()
    }
}

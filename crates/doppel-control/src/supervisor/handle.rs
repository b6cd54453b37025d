//! The supervisor's parts that the shared state holds: its wake-up and its dyno table. It
//! names no module that uses the shared state.

use super::table::DynoTable;
use tokio::sync::Notify;

/// The supervisor's shared parts: its wake-up and its table.
#[derive(Default)]
pub struct Supervisor {
    wake: Notify,
    pub table: DynoTable,
}

impl Supervisor {
    /// Asks for a pass as soon as possible (wake-ups while a pass runs merge into one more).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The wake-up, for the supervisor's loop to wait on.
    pub(super) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.wake.notified()
    }
}

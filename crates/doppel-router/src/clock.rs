//! The router's monotonic clock, in milliseconds since its first reading: cheap to store in an
//! atomic (idle timers, quarantine, the keep-alive pool's ages).

use std::time::Instant;

/// Milliseconds on the router's monotonic clock.
pub(crate) fn now_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

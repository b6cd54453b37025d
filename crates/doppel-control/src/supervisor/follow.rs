//! Dyno output into the log stream: one follower per container reads what it prints (from
//! where the last reader stopped, across restarts of doppel) as `app[web.1]` lines, to the
//! end, so nothing a dyno printed before it crashed is lost; an exited container is removed
//! only once its follower finished.

use std::time::Duration;

use futures_util::StreamExt;

use super::observed::Observed;
use crate::logs::{LogLine, SOURCE_APP};
use crate::state::AppState;

/// Starts a follower for `c` unless one runs or ran to its end. Attached one-offs' output goes
/// to their client, not to the log.
pub fn ensure(state: &AppState, c: &Observed) {
    let table = &state.supervisor().table;
    if c.attached {
        table.mark_followed(&c.id);
        return;
    }
    if never_started(c) {
        // The engine ends a log stream of a container that is not running at once, and that
        // would count as read to the end: wait for its start (its event wakes the
        // supervisor). One left unstarted (doppel stopped between create and start) printed
        // nothing and can be removed.
        if unix_now() - c.created > UNSTARTED_GRACE_SECS {
            table.mark_followed(&c.id);
        }
        return;
    }
    if !table.start_following(&c.id) {
        return;
    }
    let (state, c) = (state.clone(), c.clone());
    tokio::spawn(async move {
        let complete = follow(&state, &c).await;
        state.supervisor().table.stop_following(&c.id, complete);
        state.supervisor().wake();
    });
}

/// How long a created container may wait for its start before it counts as never started.
const UNSTARTED_GRACE_SECS: i64 = 60;

/// Created and not (yet) started: not running, and no exit code.
fn never_started(c: &Observed) -> bool {
    !c.running && c.exit_code.is_none()
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Reads `c`'s output into its environment's stream; `true` when it was read to the end.
async fn follow(state: &AppState, c: &Observed) -> bool {
    let hub = state.logs();
    let since = hub.cursor(&c.id);
    let mut lines = match state.runtime().follow_logs(&c.id, since).await {
        Ok(lines) => lines,
        Err(e) if e.is_not_found() => return true,
        Err(e) => {
            tracing::debug!(container = %c.id, error = %e, "could not follow a dyno's output");
            tokio::time::sleep(Duration::from_secs(1)).await;
            return false;
        }
    };
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => hub.dyno_output(
                &c.env_id,
                &c.id,
                LogLine {
                    time: line.time,
                    source: SOURCE_APP.to_string(),
                    process: c.dyno.clone(),
                    text: line.text,
                },
            ),
            Err(e) => {
                tracing::debug!(container = %c.id, error = %e, "a dyno's output stream failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                return e.is_not_found();
            }
        }
    }
    true
}

//! Retiring a dyno without dropping a request: it leaves the route table first (new requests
//! go elsewhere), the requests it is serving finish (the router counts them), then it gets
//! SIGTERM and [`GRACE`] to exit before SIGKILL (Heroku's R12), and once its output is read
//! to the end it is removed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use doppel_types::WEB_PORT;

use super::observed::Observed;
use super::table::Phase;
use crate::state::AppState;

/// Time between SIGTERM and SIGKILL (Heroku's 30 s).
pub const GRACE: Duration = Duration::from_secs(30);
/// Longest wait for in-flight requests (Heroku's request timeout is 30 s too).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Time for requests routed just before the switch to be counted.
const SETTLE: Duration = Duration::from_millis(300);
/// Longest wait for the dyno's output to be read before it is removed.
const FOLLOW_TIMEOUT: Duration = Duration::from_secs(10);

/// Retires `c` in a task of its own (once: a dyno being retired is not retired again).
pub fn spawn(state: &AppState, c: Observed) {
    if !state.supervisor().table.claim(&c.id) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        retire(&state, &c).await;
        state.supervisor().table.release(&c.id);
        state.supervisor().wake();
    });
}

/// Drains, stops and removes `c` (the caller has claimed it).
pub async fn retire(state: &AppState, c: &Observed) {
    let table = &state.supervisor().table;
    let was = table.transition(&c.id, Phase::Stopping);
    if c.is_web() {
        crate::routes::publish(state).await;
        if let Some(ip) = c.ip.filter(|_| was == Some(Phase::Up)) {
            drain(state, SocketAddr::new(ip, WEB_PORT)).await;
        }
    }
    stop(state, c).await;
    let until = Instant::now() + FOLLOW_TIMEOUT;
    while !table.is_followed(&c.id) && !c.attached && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let Err(e) = remove(state, &c.id).await {
        tracing::warn!(container = %c.id, error = %e, "could not remove a stopped dyno");
    }
}

/// Waits until the router has no request in flight to `addr` (at most [`DRAIN_TIMEOUT`]):
/// the table without it reaches the router process first, then the router is asked.
async fn drain(state: &AppState, addr: SocketAddr) {
    let router = doppel_router::ControlClient::for_data_dir(&state.config().data_dir);
    crate::router_link::publish_now(&router, state.routes()).await;
    tokio::time::sleep(SETTLE).await;
    crate::router_link::wait_drained(&router, &[addr], DRAIN_TIMEOUT).await;
}

/// SIGTERM, [`GRACE`], SIGKILL, with Heroku's lines.
pub async fn stop(state: &AppState, c: &Observed) {
    let hub = state.logs();
    hub.heroku(&c.env_id, &c.dyno, "Stopping all processes with SIGTERM");
    let started = Instant::now();
    if let Err(e) = state.runtime().stop(&c.id, GRACE).await {
        tracing::warn!(container = %c.id, error = %e, "could not stop a dyno");
    }
    if started.elapsed() >= GRACE {
        hub.heroku(
            &c.env_id,
            &c.dyno,
            "Error R12 (Exit timeout) -> At least one process failed to exit within 30 seconds of SIGTERM",
        );
        hub.heroku(
            &c.env_id,
            &c.dyno,
            "Stopping remaining processes with SIGKILL",
        );
    }
}

/// Removes an exited container and forgets it.
pub async fn remove(state: &AppState, id: &str) -> anyhow::Result<()> {
    state.runtime().remove(id, true).await?;
    state.logs().forget(id);
    state.supervisor().table.remove(id);
    Ok(())
}

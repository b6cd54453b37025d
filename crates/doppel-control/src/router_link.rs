//! The control plane's link to the router process, over its control socket: the route table
//! goes out (whenever `routes::publish` stores a new one, and again whenever the router serves
//! something else, e.g. after its own restart from an older state file), and the router's log
//! lines come back into a [`LogSink`] (the environments' log streams).
//!
//! Nothing here blocks the control plane: when the router is down the table waits in
//! `AppState::routes()` and is sent once it answers. The empty table the control plane starts
//! with is never sent: the router keeps the routes it has until the first table built from
//! the store replaces them (an upgrade or restart drops no app's route).

use bytes::Bytes;
use doppel_router::{ControlClient, LogSink, SharedRouteTable};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the router's table is compared with the control plane's when nothing changed.
const RESYNC: Duration = Duration::from_secs(2);

/// Starts the two tasks of the link: publishing `table`, and (when `sink` keeps lines)
/// feeding the router's log lines to `sink`.
pub fn spawn(client: ControlClient, table: SharedRouteTable, sink: Option<Arc<dyn LogSink>>) {
    tokio::spawn(publish_forever(client.clone(), table));
    if let Some(sink) = sink {
        tokio::spawn(logs_forever(client, sink));
    }
}

/// Sends the table once now; true when the router serves it.
pub async fn publish_now(client: &ControlClient, table: &SharedRouteTable) -> bool {
    let (json, _) = serialize(table);
    client.put_table(json).await.is_ok()
}

fn serialize(table: &SharedRouteTable) -> (Bytes, String) {
    let json = serde_json::to_vec(&*table.load()).unwrap_or_default();
    let digest = doppel_router::control::table_digest(&json);
    (Bytes::from(json), digest)
}

async fn publish_forever(client: ControlClient, table: SharedRouteTable) {
    let mut changes = table.subscribe();
    // At start the table is the empty default: sending it would make the router (which kept
    // serving apps while the control plane restarted) answer 404 for every app until the
    // first table is built from the store. Only a built table (it names the platform) goes out.
    while table.load().platform.is_none() {
        if changes.changed().await.is_err() {
            return;
        }
    }
    let (mut json, mut digest) = serialize(&table);
    let mut router_down = false;
    loop {
        match client.status().await {
            Ok(status) => {
                if router_down {
                    tracing::info!("the router answers again");
                    router_down = false;
                }
                if status.table_digest != digest {
                    if let Err(e) = client.put_table(json.clone()).await {
                        tracing::warn!(error = %e, "could not send the route table to the router");
                    }
                }
            }
            Err(e) => {
                if !router_down {
                    tracing::warn!(error = %e, "the router does not answer; apps keep the routes it has");
                    router_down = true;
                }
            }
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                (json, digest) = serialize(&table);
            }
            () = tokio::time::sleep(RESYNC) => {}
        }
    }
}

async fn logs_forever(client: ControlClient, sink: Arc<dyn LogSink>) {
    loop {
        match client.logs().await {
            Ok(mut lines) => {
                while let Some(line) = lines.next().await {
                    sink.router_line(line);
                }
            }
            Err(e) => tracing::debug!(error = %e, "router log stream unavailable; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until the router has no request in flight to any of `dynos` (or `limit` passed):
/// call after publishing a table without them and before stopping them. True when drained.
pub async fn wait_drained(client: &ControlClient, dynos: &[SocketAddr], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let mut busy = false;
        for addr in dynos {
            match client.inflight(*addr).await {
                Ok(0) => {}
                Ok(_) => busy = true,
                // No router: nothing can be in flight through it.
                Err(_) => return true,
            }
        }
        if !busy {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

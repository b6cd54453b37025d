//! The fake's dynos: creation with an address per container, scripted health, output that
//! can be followed, attached standard streams, and the event stream.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;

use super::{has_label, FakeContainer, FakeRuntime, FakeState, Shared};
use crate::{
    AttachIo, ContainerEvent, ContainerSpec, DockerError, DynoSpec, EventStream, HealthCheck,
    LogLine, LogStream,
};

/// How often a followed fake log looks for new lines.
const POLL: Duration = Duration::from_millis(5);

/// Creates (does not start) a dyno: its image and network must exist.
pub(super) fn create(st: &mut FakeState, spec: DynoSpec) -> Result<String, DockerError> {
    if !st.images.contains_key(&spec.image) {
        return Err(DockerError::NotFound {
            what: "image",
            name: spec.image.clone(),
        });
    }
    if st.script.failing_images.contains(&spec.image) {
        return Err(DockerError::Engine {
            op: "create dyno",
            target: spec.name.clone(),
            message: "scripted failure".to_string(),
        });
    }
    if let Some(net) = &spec.network {
        if !st.networks.contains_key(net) {
            return Err(DockerError::NotFound {
                what: "network",
                name: net.clone(),
            });
        }
    }
    let id = st.id("fake-dyno");
    let n = st.next_id;
    if let Some(net) = spec.network.as_ref().and_then(|n| st.networks.get_mut(n)) {
        net.containers.insert(id.clone());
    }
    let container = FakeContainer {
        spec: ContainerSpec {
            name: Some(spec.name.clone()),
            image: spec.image.clone(),
            cmd: spec.cmd.clone(),
            env: spec.env.clone(),
            labels: spec.labels.clone(),
            network: spec.network.clone(),
            limits: spec.limits,
            cap_add: spec.cap_add.clone(),
            ..Default::default()
        },
        healthy: !st.script.unhealthy_images.contains(&spec.image),
        dyno: Some(spec),
        ip: format!("10.0.{}.{}", (n / 250) % 250, n % 250 + 2),
        created: time::OffsetDateTime::now_utc().unix_timestamp(),
        ..Default::default()
    };
    st.containers.insert(id.clone(), container);
    Ok(id)
}

/// A probe passes when a running container has `addr`'s IP and is scripted healthy.
pub(super) fn probe(
    st: &mut FakeState,
    addr: SocketAddr,
    check: &HealthCheck,
) -> Result<(), String> {
    st.probes.push(addr);
    let ip = addr.ip().to_string();
    // With a scripted address every container has it: any healthy running one answers.
    let shared = st.script.dyno_ip.as_deref() == Some(ip.as_str());
    let found = st
        .containers
        .values()
        .filter(|c| (shared || c.ip == ip) && c.running)
        .max_by_key(|c| c.healthy);
    match found {
        Some(c) if c.healthy => Ok(()),
        Some(_) => Err(match check {
            HealthCheck::Tcp => format!("connection to port {} refused", addr.port()),
            HealthCheck::Http { path, .. } => format!("GET {path} answered 503"),
        }),
        None => Err(format!("no route to {addr}")),
    }
}

/// What the container printed so far, and whether it still runs (removed: not running).
fn snapshot(shared: &Shared, id: &str) -> (Vec<(time::OffsetDateTime, String)>, bool) {
    let st = shared.lock().unwrap_or_else(|e| e.into_inner());
    match st.containers.get(id) {
        Some(c) => (c.output.clone(), c.running),
        None => match st.graveyard.get(id) {
            Some(c) => (c.output.clone(), false),
            None => (Vec::new(), false),
        },
    }
}

/// Output lines of `id` from index `next`, until it stops and everything was handed out.
fn printed(
    shared: Shared,
    id: String,
) -> impl futures_util::Stream<Item = (time::OffsetDateTime, String)> + Send {
    futures_util::stream::unfold((0usize, shared, id), |(mut next, shared, id)| async move {
        loop {
            let (output, running) = snapshot(&shared, &id);
            if let Some(line) = output.get(next).cloned() {
                next += 1;
                return Some((line, (next, shared, id)));
            }
            if !running {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// Follows what the container printed after `since` until it stops running or is removed.
pub(super) fn follow_logs(
    rt: &FakeRuntime,
    id: &str,
    since: Option<time::OffsetDateTime>,
) -> Result<LogStream, DockerError> {
    rt.state().container(id)?;
    let stream = printed(rt.shared(), id.to_string())
        .filter(move |(time, _)| std::future::ready(since.is_none_or(|s| *time > s)))
        .map(|(time, text)| {
            Ok(LogLine {
                time,
                stderr: false,
                text,
            })
        });
    Ok(Box::pin(stream))
}

/// Attaching: output is what the container prints; input goes to [`FakeState::stdin`].
pub(super) fn attach(rt: &FakeRuntime, id: &str) -> Result<AttachIo, DockerError> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    {
        let mut st = rt.state();
        st.container(id)?;
        st.stdin.insert(id.to_string(), server);
    }
    let output = printed(rt.shared(), id.to_string())
        .map(|(_, text)| Ok(bytes::Bytes::from(format!("{text}\n"))));
    Ok(AttachIo {
        output: Box::pin(output),
        input: Box::pin(client),
    })
}

/// The events of containers carrying `label` (events missed by a slow reader are skipped).
pub(super) fn events(rx: broadcast::Receiver<ContainerEvent>, label: &str) -> EventStream {
    let label = label.to_string();
    let stream = futures_util::stream::unfold((rx, label), |(mut rx, label)| async move {
        loop {
            match rx.recv().await {
                Ok(event) if has_label(&event.labels, &label) => {
                    return Some((Ok(event), (rx, label)))
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Box::pin(stream)
}

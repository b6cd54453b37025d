//! Shared helpers of the engine tests: a tiny image made from the host's own `sh`, `sleep`
//! and `cat` (and their libraries, found with `ldd`), imported as `doppel-test/mini:latest`,
//! and label-filtered cleanup of leftovers from earlier runs.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::process::Command;

use doppel_docker::{ContainerRuntime, DockerRuntime, NetworkSpec, SubnetPool, TarSource};
use tokio::sync::Mutex;

pub const MINI: &str = "doppel-test/mini:latest";
/// Label on every container these tests make.
pub const TEST_LABEL: &str = "doppel.test";
pub const TEST_VALUE: &str = "doppel-docker";

static MINI_LOCK: Mutex<()> = Mutex::const_new(());

const BINARIES: &[&str] = &["/bin/sh", "/bin/sleep", "/bin/cat"];

fn libraries(binary: &str) -> Vec<String> {
    let out = Command::new("ldd").arg(binary).output().expect("ldd");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(str::to_string)
        .collect()
}

fn mini_rootfs() -> Vec<u8> {
    let mut files = BTreeSet::new();
    for b in BINARIES {
        files.insert(b.to_string());
        files.extend(libraries(b));
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o1777);
    dir.set_size(0);
    tar.append_data(&mut dir, "tmp", std::io::empty())
        .expect("tmp dir");
    for f in files {
        let data = std::fs::read(&f).expect("read host file");
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, f.trim_start_matches('/'), data.as_slice())
            .expect("append");
    }
    tar.into_inner().expect("tar")
}

/// The engine, with the mini image present and this suite's leftover containers removed.
pub async fn setup() -> DockerRuntime {
    let rt = DockerRuntime::connect()
        .await
        .expect("docker engine reachable");
    let _guard = MINI_LOCK.lock().await;
    if rt.image_info(MINI).await.expect("inspect").is_none() {
        let changes = vec![
            "CMD [\"/bin/sh\"]".to_string(),
            format!("LABEL {TEST_LABEL}={TEST_VALUE}"),
        ];
        rt.import_rootfs(TarSource::Bytes(mini_rootfs()), MINI, &changes)
            .await
            .expect("import mini image");
    }
    rt
}

/// This test process's run id (label `doppel.test-run`).
pub fn run_id() -> &'static str {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(unique)
}

/// Labels for a container of this run.
pub fn labels() -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        (TEST_LABEL.to_string(), TEST_VALUE.to_string()),
        ("doppel.test-run".to_string(), run_id().to_string()),
    ])
}

/// Removes this suite's containers left by earlier runs (not those of this run).
pub async fn cleanup_old(rt: &DockerRuntime) {
    let run = run_id();
    let leftovers = rt
        .list_containers(&format!("{TEST_LABEL}={TEST_VALUE}"))
        .await
        .expect("list");
    for c in leftovers {
        let current = c.labels.get("doppel.test-run").map(String::as_str) == Some(run);
        if !current {
            let _ = rt.remove(&c.id, true).await;
        }
    }
}

/// A unique suffix for names.
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// A network of this suite: labelled for cleanup, its subnet from a pool of its own (so the
/// engine tests never take subnets a running doppel would use).
pub fn network_spec(name: &str) -> NetworkSpec {
    NetworkSpec {
        name: name.to_string(),
        labels: labels(),
        pool: SubnetPool::parse("10.214.0.0/16:26").expect("pool"),
        inter_container: true,
    }
}

/// `docker inspect <id>` as JSON (the first object).
pub fn docker_inspect(id: &str) -> serde_json::Value {
    let out = Command::new("docker")
        .args(["inspect", id])
        .output()
        .expect("docker inspect");
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inspect json");
    all[0].clone()
}

/// Removes this suite's networks left by earlier runs (not those of this run).
pub async fn cleanup_old_networks(rt: &DockerRuntime) {
    let run = run_id();
    let leftovers = rt
        .list_networks(&format!("{TEST_LABEL}={TEST_VALUE}"))
        .await
        .expect("list networks");
    for n in leftovers {
        if n.labels.get("doppel.test-run").map(String::as_str) != Some(run) {
            for c in &n.containers {
                let _ = rt.remove(c, true).await;
            }
            let _ = rt.remove_network(&n.id).await;
        }
    }
}

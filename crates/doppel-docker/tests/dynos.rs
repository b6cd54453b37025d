//! Engine tests: dynos on a user-defined network (run, inspect with IP, list by label, stop
//! and remove), hardening as `docker inspect` shows it, and bounded reads.

mod common;

use std::time::Duration;

use doppel_docker::{ContainerRuntime, DockerError, DynoSpec, Limits};

#[tokio::test]
async fn dyno_lifecycle_on_a_network() {
    let rt = common::setup().await;
    common::cleanup_old(&rt).await;
    let spec = common::network_spec(&format!("doppel-test-net-{}", common::unique()));
    let net_id = rt.ensure_network(&spec).await.expect("network");
    let again = rt.ensure_network(&spec).await.expect("network again");
    assert_eq!(net_id, again);
    let net = net_id.as_str();

    let name = format!("doppel-test-dyno-{}", common::unique());
    let mut labels = common::labels();
    labels.insert("doppel.dyno".into(), name.clone());
    let spec = DynoSpec {
        name: name.clone(),
        image: common::MINI.to_string(),
        cmd: Some(vec!["/bin/sleep".into(), "60".into()]),
        env: [("PORT".to_string(), "5000".to_string())].into(),
        labels,
        network: Some(net.to_string()),
        limits: Limits {
            memory: Some(64 << 20),
            cpus: Some(64.0),
            pids: Some(100),
        },
        cap_add: vec!["CHOWN".to_string()],
        ..Default::default()
    };
    let id = rt.run_dyno(spec).await.expect("run");
    let state = rt
        .inspect_container(&id, Some(net))
        .await
        .expect("inspect")
        .expect("exists");
    assert!(state.running);
    assert_eq!(state.name, name);
    assert!(state.networks.contains_key(net), "{state:?}");
    let inspected = common::docker_inspect(&id);
    let host = &inspected["HostConfig"];
    assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]), "{host}");
    assert_eq!(host["CapAdd"], serde_json::json!(["CHOWN"]), "{host}");
    assert_eq!(
        host["SecurityOpt"],
        serde_json::json!(["no-new-privileges"])
    );
    assert_eq!(host["PidsLimit"], 100);
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["MemorySwap"], 64 << 20);
    // A quota past the machine's CPUs is clamped to them rather than refused.
    assert!(host["NanoCpus"]
        .as_i64()
        .is_some_and(|n| n > 0 && n <= 64_000_000_000));
    assert!(
        state
            .ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
        "{state:?}"
    );

    // What it runs with, as parity compares it with its release.
    let config = rt
        .container_config(&id)
        .await
        .expect("config")
        .expect("exists");
    let image = rt
        .image_info(common::MINI)
        .await
        .expect("image")
        .expect("exists");
    assert_eq!(config.image_id, image.id);
    assert_eq!(config.env.get("PORT").map(String::as_str), Some("5000"));
    assert!(!config.image_env.contains_key("PORT"), "{config:?}");
    assert_eq!(config.labels.get("doppel.dyno"), Some(&name));
    assert!(rt
        .container_config("no-such-container")
        .await
        .expect("config")
        .is_none());

    let listed = rt
        .list_containers(&format!("doppel.dyno={name}"))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert!(listed[0].running);

    rt.stop_and_remove(&id, Duration::from_secs(1))
        .await
        .expect("stop");
    assert!(rt
        .inspect_container(&id, None)
        .await
        .expect("inspect")
        .is_none());
    rt.stop_and_remove(&id, Duration::from_secs(1))
        .await
        .expect("stop twice is fine");

    // A dyno that exits reports its code.
    let name = format!("doppel-test-dyno-{}", common::unique());
    let spec = DynoSpec {
        name: name.clone(),
        image: common::MINI.to_string(),
        cmd: Some(vec!["/bin/sh".into(), "-c".into(), "exit 4".into()]),
        labels: common::labels(),
        network: Some(net.to_string()),
        ..Default::default()
    };
    let id = rt.run_dyno(spec).await.expect("run");
    assert_eq!(rt.wait(&id).await.expect("wait"), 4);
    let state = rt
        .inspect_container(&id, Some(net))
        .await
        .expect("inspect")
        .expect("exists");
    assert!(!state.running);
    assert_eq!(state.exit_code, Some(4));
    let listed = rt
        .list_containers(&format!("doppel.test-run={}", common::run_id()))
        .await
        .expect("list");
    assert!(
        listed.iter().any(|c| c.id == id && c.exit_code == Some(4)),
        "{listed:?}"
    );
    rt.stop_and_remove(&id, Duration::from_secs(1))
        .await
        .expect("remove");
    rt.remove_network(net).await.expect("remove network");
}

#[tokio::test]
async fn output_without_newlines_is_refused_not_buffered() {
    let rt = common::setup().await;
    let name = format!("doppel-test-flood-{}", common::unique());
    let spec = doppel_docker::ContainerSpec {
        name: Some(name),
        image: common::MINI.to_string(),
        // 1 MiB with no newline: past MAX_LINE_BYTES.
        cmd: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            "i=0; while [ $i -lt 16384 ]; do printf 0123456789012345678901234567890123456789012345678901234567890123; i=$((i+1)); done".into(),
        ]),
        labels: common::labels(),
        ..Default::default()
    };
    let id = rt.create_container(spec).await.expect("create");
    rt.start(&id).await.expect("start");
    let mut lines = rt.logs(&id).await.expect("logs");
    let mut refused = false;
    while let Some(line) = futures_util::StreamExt::next(&mut lines).await {
        if let Err(DockerError::LineTooLong { .. }) = line {
            refused = true;
            break;
        }
    }
    assert!(refused, "a 1 MiB line was read whole");
    let _ = rt.wait(&id).await;
    let dir = tempfile::tempdir().expect("tmp");
    let dest = dir.path().join("bin.tar");
    let too_big = rt.download_tar(&id, "/bin", &dest, 1024).await;
    assert!(
        matches!(too_big, Err(DockerError::TooLarge { limit: 1024, .. })),
        "{too_big:?}"
    );
    assert!(!dest.exists(), "a partial download was left behind");
    rt.remove(&id, true).await.expect("remove");
}

//! Engine tests: dynos on a user-defined network (run, inspect with IP, list by label, stop
//! and remove) and network creation.

mod common;

use std::time::Duration;

use doppel_docker::{ContainerRuntime, DynoSpec};

#[tokio::test]
async fn dyno_lifecycle_on_a_network() {
    let rt = common::setup().await;
    common::cleanup_old(&rt).await;
    let net = "doppel-test-net";
    rt.ensure_network(net).await.expect("network");
    rt.ensure_network(net).await.expect("network again");

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
        memory: Some(64 << 20),
    };
    let id = rt.run_dyno(spec).await.expect("run");
    let state = rt
        .inspect_container(&id, Some(net))
        .await
        .expect("inspect")
        .expect("exists");
    assert!(state.running);
    assert_eq!(state.name, name);
    assert!(
        state
            .ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
        "{state:?}"
    );

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
}

//! Engine tests: networks are created once however many processes race for them, duplicates
//! left by the old bug heal, and every network gets its own subnet from the pool.

mod common;

use std::collections::HashMap;

use doppel_docker::{ContainerRuntime, DockerRuntime};

/// Creates a network through the engine's API with no duplicate check, as the racing
/// `ensure_network` of earlier doppel versions did.
async fn raw_duplicate(name: &str) -> String {
    let docker = bollard::Docker::connect_with_local_defaults().expect("engine");
    let labels = HashMap::from([
        (
            common::TEST_LABEL.to_string(),
            common::TEST_VALUE.to_string(),
        ),
        ("doppel.test-run".to_string(), common::run_id().to_string()),
    ]);
    let request = bollard::models::NetworkCreateRequest {
        name: name.to_string(),
        driver: Some("bridge".to_string()),
        labels: Some(labels),
        ..Default::default()
    };
    docker.create_network(request).await.expect("create").id
}

async fn named(rt: &DockerRuntime, name: &str) -> Vec<String> {
    rt.list_networks(&format!("doppel.test-run={}", common::run_id()))
        .await
        .expect("list")
        .into_iter()
        .filter(|n| n.name == name)
        .map(|n| n.id)
        .collect()
}

#[tokio::test]
async fn racing_processes_make_one_network() {
    let rt = common::setup().await;
    common::cleanup_old_networks(&rt).await;
    let name = format!("doppel-test-race-{}", common::unique());
    // Separate clients, as separate servers would have.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let spec = common::network_spec(&name);
        tasks.push(tokio::spawn(async move {
            let rt = DockerRuntime::connect().await.expect("engine");
            rt.ensure_network(&spec).await.expect("ensure")
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task"));
    }
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "every racer must get the same network: {ids:?}"
    );
    assert_eq!(named(&rt, &name).await, ids);
    rt.remove_network(&ids[0]).await.expect("remove");
    assert!(named(&rt, &name).await.is_empty());
}

#[tokio::test]
async fn duplicates_heal_keeping_the_oldest() {
    let rt = common::setup().await;
    let name = format!("doppel-test-dup-{}", common::unique());
    let mut made = Vec::new();
    for _ in 0..4 {
        made.push(raw_duplicate(&name).await);
    }
    assert_eq!(named(&rt, &name).await.len(), 4);
    let kept = rt
        .ensure_network(&common::network_spec(&name))
        .await
        .expect("ensure heals");
    assert_eq!(kept, made[0], "the oldest network is the one kept");
    assert_eq!(named(&rt, &name).await, vec![kept.clone()]);
    rt.remove_network(&kept).await.expect("remove");
}

#[tokio::test]
async fn each_network_gets_its_own_subnet_from_the_pool() {
    let rt = common::setup().await;
    let mut ids = Vec::new();
    let mut subnets = Vec::new();
    for _ in 0..3 {
        let name = format!("doppel-test-subnet-{}", common::unique());
        let id = rt
            .ensure_network(&common::network_spec(&name))
            .await
            .expect("ensure");
        let info = rt
            .list_networks(&format!("doppel.test-run={}", common::run_id()))
            .await
            .expect("list")
            .into_iter()
            .find(|n| n.id == id)
            .expect("listed");
        assert_eq!(info.subnets.len(), 1, "{info:?}");
        assert!(info.subnets[0].starts_with("10.214."), "{info:?}");
        assert!(info.subnets[0].ends_with("/26"), "{info:?}");
        subnets.push(info.subnets[0].clone());
        ids.push(id);
    }
    let mut unique = subnets.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{subnets:?}");
    for id in ids {
        rt.remove_network(&id).await.expect("remove");
    }
}

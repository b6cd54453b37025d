//! The network model on the shared fake: each environment's dynos join its own network (by
//! id, with the hardening and limits of their size), a network removed by hand comes back
//! and the dyno is attached again, and a deleted app's networks go away.

mod common;

use common::api;
use doppel_control::logic::apps;
use doppel_control::reconcile;
use doppel_store::{NewRelease, ReleaseStatus};
use doppel_types::{ImageKind, ProcessTypes};

const IMAGE: &str = "sha256:release-image";

/// Creates app `name` and a succeeded release with a web process in its staging environment.
async fn released_app(api: &common::Api, name: &str) -> anyhow::Result<String> {
    apps::create(&api.state, &api.admin, Some(name)).await?;
    let env = api
        .state
        .store()
        .environment(&format!("{name}-staging"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no staging"))?;
    let types = ProcessTypes::from([("web".to_string(), "python3 -m http.server".to_string())]);
    api.state.store().ensure_formation(&env.id, &types).await?;
    api.state
        .store()
        .create_release(&NewRelease {
            env_id: env.id.clone(),
            build_id: None,
            image_id: IMAGE.into(),
            image_kind: ImageKind::Buildpack,
            process_types: types,
            description: "Deploy test".into(),
            user_id: None,
            status: ReleaseStatus::Succeeded,
            config: None,
        })
        .await?;
    Ok(env.id)
}

#[tokio::test]
async fn each_environment_runs_on_its_own_network() -> anyhow::Result<()> {
    let api = api().await?;
    api.fake
        .state()
        .images
        .insert(IMAGE.into(), Default::default());
    let a = released_app(&api, "neta").await?;
    let b = released_app(&api, "netb").await?;
    reconcile::run_once(&api.state).await;

    let st = api.fake.state();
    let dyno_of = |env: &str| {
        st.containers
            .iter()
            .find(|(_, c)| c.spec.labels.get("doppel.env-id").map(String::as_str) == Some(env))
            .map(|(id, c)| (id.clone(), c.clone()))
    };
    let (a_id, a_dyno) = dyno_of(&a).ok_or_else(|| anyhow::anyhow!("no dyno for a"))?;
    let (_, b_dyno) = dyno_of(&b).ok_or_else(|| anyhow::anyhow!("no dyno for b"))?;
    let a_net = a_dyno.spec.network.clone().unwrap_or_default();
    let b_net = b_dyno.spec.network.clone().unwrap_or_default();
    assert_ne!(a_net, b_net);
    let net = st
        .networks
        .get(&a_net)
        .ok_or_else(|| anyhow::anyhow!("dyno joined no network"))?;
    assert_eq!(net.name, format!("doppel-testinstance-{a}"));
    assert_eq!(net.labels.get("doppel.env-id"), Some(&a));
    assert!(net.containers.contains(&a_id));
    assert!(net.spec.as_ref().is_some_and(|s| s.inter_container));
    // standard-1X, no capabilities for a buildpack app.
    assert_eq!(a_dyno.spec.limits.memory, Some(512 * 1024 * 1024));
    assert_eq!(a_dyno.spec.limits.pids, Some(256));
    assert!(a_dyno.spec.cap_add.is_empty());
    // Staging and production of one app are separate networks too.
    drop(st);
    Ok(())
}

#[tokio::test]
async fn a_removed_network_is_made_again_and_the_dyno_attached() -> anyhow::Result<()> {
    let api = api().await?;
    api.fake
        .state()
        .images
        .insert(IMAGE.into(), Default::default());
    let env = released_app(&api, "healme").await?;
    reconcile::run_once(&api.state).await;
    let (dyno, old_net) = {
        let st = api.fake.state();
        let (id, c) = st
            .containers
            .iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no dyno"))?;
        (id.clone(), c.spec.network.clone().unwrap_or_default())
    };
    // Someone disconnects the dyno and removes the network.
    api.fake.state().networks.remove(&old_net);
    reconcile::run_once(&api.state).await;
    let st = api.fake.state();
    let (new_net, net) = st
        .networks
        .iter()
        .find(|(_, n)| n.labels.get("doppel.env-id") == Some(&env))
        .ok_or_else(|| anyhow::anyhow!("network not made again"))?;
    assert_ne!(new_net, &old_net);
    assert!(
        net.containers.contains(&dyno),
        "the same dyno must be attached again"
    );
    assert!(
        st.containers.contains_key(&dyno),
        "the dyno must not be replaced"
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_apps_networks_are_removed() -> anyhow::Result<()> {
    let api = api().await?;
    api.fake
        .state()
        .images
        .insert(IMAGE.into(), Default::default());
    released_app(&api, "gone").await?;
    released_app(&api, "stays").await?;
    reconcile::run_once(&api.state).await;
    assert_eq!(api.fake.state().networks.len(), 2);
    apps::destroy(&api.state, &api.admin, "gone-staging").await?;
    reconcile::run_once(&api.state).await;
    let st = api.fake.state();
    assert_eq!(st.networks.len(), 1);
    assert!(st
        .networks
        .values()
        .all(|n| n.labels.get("doppel.env").map(String::as_str) == Some("stays-staging")));
    Ok(())
}

//! Rollouts on the shared fake, step by step: a release replaces the old dynos only once its
//! web dynos are up; a failing release phase, a dyno that cannot start and one that never
//! passes its health check each unwind to the old release; every step can run twice without
//! harm; and a restart of doppel unwinds what had not committed and finishes what had.

mod common;

use std::time::Duration;

use common::{api, api_with, Api};
use doppel_control::logic::apps;
use doppel_control::logs::Filter;
use doppel_control::state::AppState;
use doppel_control::supervisor;
use doppel_control::workflows::progress::Silent;
use doppel_control::workflows::release::{self, ReleaseRequest};
use doppel_control::workflows::rollout;
use doppel_store::{Environment, ReleaseStatus, RolloutKind, RolloutPhase};
use doppel_types::{ImageKind, ProcessTypes};

const V1: &str = "sha256:image-one";
const V2: &str = "sha256:image-two";

async fn staging(api: &Api, name: &str) -> anyhow::Result<Environment> {
    apps::create(&api.state, &api.admin, Some(name)).await?;
    {
        let mut st = api.fake.state();
        st.images.insert(V1.into(), Default::default());
        st.images.insert(V2.into(), Default::default());
    }
    api.state
        .store()
        .environment(&format!("{name}-staging"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no staging"))
}

fn request(image: &str, types: &[(&str, &str)]) -> ReleaseRequest {
    ReleaseRequest {
        image_id: image.into(),
        image_kind: ImageKind::Buildpack,
        process_types: types
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<ProcessTypes>(),
        build_id: None,
        description: format!("Deploy {image}"),
        user_id: None,
        config: None,
    }
}

/// Running dyno containers of `env` made from `image`.
fn running(api: &Api, env: &Environment, image: &str) -> Vec<String> {
    api.fake
        .state()
        .containers
        .iter()
        .filter(|(_, c)| {
            c.running
                && c.spec.image == image
                && c.spec.labels.get("doppel.env-id") == Some(&env.id)
                && c.spec.labels.get("doppel.role").map(String::as_str) == Some("dyno")
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// Runs supervisor passes until `done` holds (retirements run in tasks of their own).
async fn settle(state: &AppState, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        supervisor::run_once(state).await;
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn log_text(state: &AppState, env: &Environment) -> String {
    state
        .logs()
        .recent(&env.id, 1500, &Filter::default())
        .await
        .iter()
        .map(|l| l.render())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_release_replaces_the_old_dynos_once_its_web_dynos_are_up() -> anyhow::Result<()> {
    let api = api().await?;
    let env = staging(&api, "roll").await?;
    let v1 = release::release(&api.state, &env, request(V1, &[("web", "serve")]), &Silent).await?;
    let old = running(&api, &env, V1);
    assert_eq!(old.len(), 1);
    let v2 = release::release(&api.state, &env, request(V2, &[("web", "serve")]), &Silent).await?;
    assert_eq!(v2.status, ReleaseStatus::Succeeded);
    // The routes already point at the new dyno; the old one drains behind it.
    let table = api.state.routes().load();
    let route = table
        .get(&api.state.urls().env_host(&env.name))
        .ok_or_else(|| anyhow::anyhow!("no route"))?;
    let id = running(&api, &env, V2).pop().unwrap_or_default();
    let new_ip = api
        .fake
        .state()
        .containers
        .get(&id)
        .map(|c| c.ip.clone())
        .unwrap_or_default();
    assert_eq!(route.backends.len(), 1);
    assert_eq!(route.backends[0].addr.ip().to_string(), new_ip);
    drop(table);
    assert!(
        settle(&api.state, || !api
            .fake
            .state()
            .containers
            .contains_key(&old[0]))
        .await
    );
    let rollouts = api.state.store().env_rollouts(&env.id, 10).await?;
    let of_v2 = rollouts
        .iter()
        .find(|r| r.release_id.as_deref() == Some(v2.id.as_str()))
        .ok_or_else(|| anyhow::anyhow!("no rollout"))?;
    assert!(
        settle(&api.state, || true).await
            && api.state.store().rollout(&of_v2.id).await?.map(|r| r.phase)
                == Some(RolloutPhase::Done)
    );
    // The old dyno was stopped with SIGTERM and 30 s of grace.
    let stops = api
        .fake
        .state()
        .graveyard
        .get(&old[0])
        .map(|c| c.stops.clone())
        .ok_or_else(|| anyhow::anyhow!("not removed"))?;
    assert_eq!(stops, [Duration::from_secs(30)]);
    let log = log_text(&api.state, &env).await;
    assert!(
        log.contains(&format!(
            "app[api]: Release v{} created by doppel",
            v1.version
        )),
        "{log}"
    );
    assert!(
        log.contains("heroku[web.1]: State changed from starting to up"),
        "{log}"
    );
    assert!(
        log.contains("heroku[web.1]: Stopping all processes with SIGTERM"),
        "{log}"
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_release_phase_keeps_the_old_release_serving() -> anyhow::Result<()> {
    let api = api().await?;
    let env = staging(&api, "relph").await?;
    let v1 = release::release(&api.state, &env, request(V1, &[("web", "serve")]), &Silent).await?;
    {
        let mut st = api.fake.state();
        st.script.exit_code = 3;
        st.script.dyno_output = vec!["migrating…".into(), "boom".into()];
    }
    let types = [("web", "serve"), ("release", "./migrate")];
    let err = release::release(&api.state, &env, request(V2, &types), &Silent)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("exited with status 3"), "{err}");
    let current = api.state.store().current_release(&env.id).await?;
    assert_eq!(current.map(|r| r.id), Some(v1.id.clone()));
    assert_eq!(running(&api, &env, V1).len(), 1);
    assert!(running(&api, &env, V2).is_empty());
    // The release phase's dyno is gone; its output is in the log and kept with the rollout.
    let leftovers = api
        .fake
        .state()
        .containers
        .values()
        .filter(|c| c.spec.image == V2)
        .count();
    assert_eq!(leftovers, 0);
    let failed = api.state.store().list_releases(&env.id).await?;
    let v2 = failed.last().ok_or_else(|| anyhow::anyhow!("no v2"))?;
    assert_eq!(v2.status, ReleaseStatus::Failed);
    let rollout = api
        .state
        .store()
        .release_rollout(&v2.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no rollout"))?;
    assert_eq!(rollout.phase, RolloutPhase::Failed);
    assert!(rollout.output.contains("boom"), "{rollout:?}");
    let log = log_text(&api.state, &env).await;
    assert!(log.contains("boom"), "{log}");
    assert!(
        log.contains(&format!("app[api]: Release v{} failed", v2.version)),
        "{log}"
    );
    Ok(())
}

#[tokio::test]
async fn a_web_dyno_that_never_passes_its_check_unwinds_with_r10() -> anyhow::Result<()> {
    let api = api_with(|c| c.boot_timeout = Duration::from_millis(300)).await?;
    let env = staging(&api, "boot").await?;
    let v1 = release::release(&api.state, &env, request(V1, &[("web", "serve")]), &Silent).await?;
    api.fake.state().script.unhealthy_images.insert(V2.into());
    let err = release::release(&api.state, &env, request(V2, &[("web", "serve")]), &Silent)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("R10"), "{err}");
    assert_eq!(
        api.state
            .store()
            .current_release(&env.id)
            .await?
            .map(|r| r.id),
        Some(v1.id)
    );
    assert_eq!(running(&api, &env, V1).len(), 1);
    assert!(api
        .fake
        .state()
        .containers
        .values()
        .all(|c| c.spec.image != V2));
    let log = log_text(&api.state, &env).await;
    assert!(log.contains("Error R10 (Boot timeout)"), "{log}");
    // The old dyno keeps its route.
    let table = api.state.routes().load();
    let route = table.get(&api.state.urls().env_host(&env.name));
    assert_eq!(route.map(|r| r.backends.len()), Some(1));
    Ok(())
}

#[tokio::test]
async fn a_dyno_that_cannot_start_unwinds() -> anyhow::Result<()> {
    let api = api().await?;
    let env = staging(&api, "nostart").await?;
    let v1 = release::release(&api.state, &env, request(V1, &[("web", "serve")]), &Silent).await?;
    api.fake.state().script.failing_images.insert(V2.into());
    assert!(
        release::release(&api.state, &env, request(V2, &[("web", "serve")]), &Silent)
            .await
            .is_err()
    );
    assert_eq!(
        api.state
            .store()
            .current_release(&env.id)
            .await?
            .map(|r| r.id),
        Some(v1.id)
    );
    assert_eq!(running(&api, &env, V1).len(), 1);
    Ok(())
}

#[tokio::test]
async fn every_step_can_run_twice_without_harm() -> anyhow::Result<()> {
    let api = api().await?;
    let env = staging(&api, "twice").await?;
    release::release(&api.state, &env, request(V1, &[("web", "serve")]), &Silent).await?;
    // A pending v2 with its rollout, rolled out twice (as a resumed step would be).
    let v2 = api
        .state
        .store()
        .create_release(&doppel_store::NewRelease {
            env_id: env.id.clone(),
            build_id: None,
            image_id: V2.into(),
            image_kind: ImageKind::Buildpack,
            process_types: [("web".to_string(), "serve".to_string())].into(),
            description: "Deploy two".into(),
            user_id: None,
            status: ReleaseStatus::Pending,
            config: None,
        })
        .await?;
    let r = api
        .state
        .store()
        .create_rollout(&env.id, Some(&v2.id), RolloutKind::Release)
        .await?;
    let lock = api.state.env_lock(&env.id);
    let guard = lock.lock().await;
    rollout::roll_out(&api.state, &env, &v2, &r.id, &Silent)
        .await
        .map_err(anyhow::Error::msg)?;
    let first = running(&api, &env, V2);
    rollout::roll_out(&api.state, &env, &v2, &r.id, &Silent)
        .await
        .map_err(anyhow::Error::msg)?;
    assert_eq!(
        running(&api, &env, V2),
        first,
        "the second run reuses the dyno"
    );
    assert_eq!(
        running(&api, &env, V1).len(),
        1,
        "nothing old is touched before the commit"
    );
    drop(guard);
    Ok(())
}

#[tokio::test]
async fn a_restart_of_doppel_unwinds_an_uncommitted_rollout_and_finishes_a_committed_one(
) -> anyhow::Result<()> {
    let api = api().await?;
    let env = staging(&api, "crash").await?;
    release::release(&api.state, &env, request(V1, &[("web", "serve")]), &Silent).await?;
    // Cut off while its web dyno was booting: a pending release, a rollout at `starting`.
    let store = api.state.store();
    let v2 = store
        .create_release(&doppel_store::NewRelease {
            env_id: env.id.clone(),
            build_id: None,
            image_id: V2.into(),
            image_kind: ImageKind::Buildpack,
            process_types: [("web".to_string(), "serve".to_string())].into(),
            description: "Deploy two".into(),
            user_id: None,
            status: ReleaseStatus::Pending,
            config: None,
        })
        .await?;
    let r = store
        .create_rollout(&env.id, Some(&v2.id), RolloutKind::Release)
        .await?;
    store
        .set_rollout_phase(&r.id, RolloutPhase::Starting, "")
        .await?;
    {
        let lock = api.state.env_lock(&env.id);
        let _guard = lock.lock().await;
        let _ = rollout::roll_out(&api.state, &env, &v2, &r.id, &Silent).await;
    }
    assert_eq!(running(&api, &env, V2).len(), 1);
    // What the next start does.
    store.fail_interrupted_releases().await?;
    store.interrupt_rollouts("interrupted").await?;
    assert!(settle(&api.state, || running(&api, &env, V2).is_empty()).await);
    assert_eq!(running(&api, &env, V1).len(), 1);
    assert_eq!(
        store.rollout(&r.id).await?.map(|r| r.phase),
        Some(RolloutPhase::Failed)
    );

    // Cut off after its commit: v3 is current, its web dyno runs, v1's still does too.
    let v3 = release::release(&api.state, &env, request(V2, &[("web", "serve")]), &Silent).await?;
    let fresh = common::api_on(&api).await?;
    assert!(settle(&fresh, || running(&api, &env, V1).is_empty()).await);
    assert_eq!(running(&api, &env, V2).len(), 1);
    assert_eq!(
        fresh.store().current_release(&env.id).await?.map(|r| r.id),
        Some(v3.id)
    );
    let table = fresh.routes().load();
    assert_eq!(
        table
            .get(&fresh.urls().env_host(&env.name))
            .map(|r| r.backends.len()),
        Some(1)
    );
    Ok(())
}

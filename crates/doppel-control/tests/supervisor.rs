//! The supervisor on the shared fake, driven by its events: a crashed dyno restarts at once
//! and then after a growing back-off (`crashed` in `ps` meanwhile), a dyno removed by hand
//! comes back, scaling starts and retires dynos, a rolling restart replaces every dyno,
//! one-off dynos are never removed while they run, every source reaches the log, and dynos
//! that stopped with no event (the engine restarted) come back with their exit in the log,
//! and a dyno seen between its create and its start still has its output logged.

mod common;

use std::time::Duration;

use common::{api, Api};
use doppel_control::dynos::{one_off, view};
use doppel_control::logic::apps;
use doppel_control::logs::Filter;
use doppel_control::supervisor;
use doppel_control::workflows::progress::Silent;
use doppel_control::workflows::release::{self, ReleaseRequest};
use doppel_control::workflows::restart::{self, Which};
use doppel_router::{LogSink, RouterLine};
use doppel_store::Environment;
use doppel_types::ImageKind;

const IMAGE: &str = "sha256:image";

async fn released(api: &Api, name: &str, types: &[(&str, &str)]) -> anyhow::Result<Environment> {
    apps::create(&api.state, &api.admin, Some(name)).await?;
    api.fake
        .state()
        .images
        .insert(IMAGE.into(), Default::default());
    let env = api
        .state
        .store()
        .environment(&format!("{name}-staging"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no staging"))?;
    let req = ReleaseRequest {
        image_id: IMAGE.into(),
        image_kind: ImageKind::Buildpack,
        process_types: types
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        build_id: None,
        description: "Deploy 1".into(),
        user_id: None,
        config: None,
    };
    release::release(&api.state, &env, req, &Silent).await?;
    Ok(env)
}

/// Running containers of `env` with the label `doppel.dyno=dyno`, oldest first.
fn of(api: &Api, env: &Environment, dyno: &str) -> Vec<(String, String)> {
    let st = api.fake.state();
    let mut found: Vec<(String, String)> = st
        .containers
        .iter()
        .filter(|(_, c)| {
            c.running
                && c.spec.labels.get("doppel.env-id") == Some(&env.id)
                && c.spec.labels.get("doppel.dyno").map(String::as_str) == Some(dyno)
        })
        .map(|(id, c)| {
            let restarts = c
                .spec
                .labels
                .get("doppel.restarts")
                .cloned()
                .unwrap_or_default();
            (id.clone(), restarts)
        })
        .collect();
    found.sort();
    found
}

async fn eventually(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

async fn ps_state(api: &Api, env: &Environment, name: &str) -> Option<String> {
    view::list(&api.state, env)
        .await
        .ok()?
        .into_iter()
        .find(|d| d.name == name)
        .map(|d| d.state.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_restarts_at_once_then_after_a_growing_backoff() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "crashy", &[("web", "serve")]).await?;
    tokio::spawn(supervisor::run_forever(api.state.clone()));
    let first = of(&api, &env, "web.1");
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    api.fake.print(&first[0].0, "about to fail");
    tokio::time::sleep(Duration::from_millis(100)).await;
    api.fake.crash(&first[0].0, 1);
    // The first crash restarts at once.
    assert!(eventually(5, || of(&api, &env, "web.1").iter().any(|(_, r)| r == "1")).await);
    let second = of(&api, &env, "web.1");
    api.fake.crash(&second[0].0, 1);
    // The second waits 5 s, `crashed` meanwhile.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(of(&api, &env, "web.1").is_empty());
    assert_eq!(
        ps_state(&api, &env, "web.1").await.as_deref(),
        Some("crashed")
    );
    assert!(eventually(10, || of(&api, &env, "web.1").iter().any(|(_, r)| r == "2")).await);
    let log: Vec<String> = api
        .state
        .logs()
        .recent(&env.id, 200, &Filter::default())
        .await
        .iter()
        .map(|l| l.render())
        .collect();
    let text = log.join("\n");
    // What it printed before crashing was read, and the crash is in the log.
    assert!(text.contains("app[web.1]: about to fail"), "{text}");
    assert!(
        text.contains("heroku[web.1]: Process exited with status 1"),
        "{text}"
    );
    assert!(
        text.contains("heroku[web.1]: State changed from up to crashed"),
        "{text}"
    );
    assert!(
        text.contains("heroku[web.1]: State changed from crashed to starting"),
        "{text}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dyno_removed_by_hand_comes_back_and_scaling_follows_the_formation() -> anyhow::Result<()>
{
    let api = api().await?;
    let env = released(&api, "scaly", &[("web", "serve"), ("worker", "work")]).await?;
    tokio::spawn(supervisor::run_forever(api.state.clone()));
    let web = of(&api, &env, "web.1");
    doppel_docker::ContainerRuntime::remove(api.fake.as_ref(), &web[0].0, true).await?;
    assert!(eventually(5, || of(&api, &env, "web.1").len() == 1).await);
    let store = api.state.store();
    store
        .update_formation(&env.id, "web", Some(3), None)
        .await?;
    store
        .update_formation(&env.id, "worker", Some(1), None)
        .await?;
    api.state.supervisor().wake();
    assert!(
        eventually(5, || of(&api, &env, "web.3").len() == 1
            && of(&api, &env, "worker.1").len() == 1)
        .await
    );
    let table = api.state.routes().load();
    assert!(
        eventually(5, || {
            api.state
                .routes()
                .load()
                .get(&api.state.urls().env_host(&env.name))
                .is_some_and(|r| r.backends.len() == 3)
        })
        .await
    );
    drop(table);
    store
        .update_formation(&env.id, "web", Some(1), None)
        .await?;
    store
        .update_formation(&env.id, "worker", Some(0), None)
        .await?;
    api.state.supervisor().wake();
    assert!(
        eventually(10, || of(&api, &env, "web.2").is_empty()
            && of(&api, &env, "web.3").is_empty()
            && of(&api, &env, "worker.1").is_empty())
        .await
    );
    assert_eq!(of(&api, &env, "web.1").len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_replaces_every_dyno() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "resty", &[("web", "serve"), ("worker", "work")]).await?;
    let store = api.state.store();
    store
        .update_formation(&env.id, "web", Some(2), None)
        .await?;
    store
        .update_formation(&env.id, "worker", Some(1), None)
        .await?;
    supervisor::run_once(&api.state).await;
    tokio::spawn(supervisor::run_forever(api.state.clone()));
    assert!(
        eventually(5, || of(&api, &env, "web.2").len() == 1
            && of(&api, &env, "worker.1").len() == 1)
        .await
    );
    assert!(
        eventually(5, || {
            api.state
                .routes()
                .load()
                .get(&api.state.urls().env_host(&env.name))
                .is_some_and(|r| r.backends.len() == 2)
        })
        .await
    );
    let before: Vec<String> = ["web.1", "web.2", "worker.1"]
        .iter()
        .flat_map(|d| of(&api, &env, d))
        .map(|(id, _)| id)
        .collect();
    restart::restart(&api.state, &env, &Which::All)
        .await
        .map_err(anyhow::Error::msg)?;
    assert!(
        eventually(10, || {
            let st = api.fake.state();
            before.iter().all(|id| !st.containers.contains_key(id))
        })
        .await
    );
    for d in ["web.1", "web.2", "worker.1"] {
        assert_eq!(of(&api, &env, d).len(), 1, "{d}");
    }
    let restarts = store.env_rollouts(&env.id, 5).await?;
    assert!(restarts
        .iter()
        .any(|r| r.kind == doppel_store::RolloutKind::Restart
            && r.phase == doppel_store::RolloutPhase::Done));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_offs_are_never_removed_while_they_run_and_their_output_is_logged() -> anyhow::Result<()>
{
    let api = api().await?;
    let env = released(&api, "oneoff", &[("web", "serve")]).await?;
    api.fake.state().script.dyno_output = vec!["hello from the one-off".into()];
    let run = one_off::create(
        &api.state,
        &env,
        "admin@localhost",
        one_off::Request {
            command: "echo hi".into(),
            ..Default::default()
        },
    )
    .await?;
    assert!(run.name.starts_with("run."));
    assert!(run.attach_url.is_none());
    for _ in 0..3 {
        supervisor::run_once(&api.state).await;
    }
    assert!(api.fake.state().containers.contains_key(&run.container));
    api.fake.crash(&run.container, 0);
    let mut removed = false;
    for _ in 0..100 {
        supervisor::run_once(&api.state).await;
        if !api.fake.state().containers.contains_key(&run.container) {
            removed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        removed,
        "an exited one-off is removed once its output is read"
    );
    let log: Vec<String> = api
        .state
        .logs()
        .recent(
            &env.id,
            100,
            &Filter {
                dyno: Some(run.name.clone()),
                source: None,
            },
        )
        .await
        .iter()
        .map(|l| l.render())
        .collect();
    let text = log.join("\n");
    assert!(
        text.contains(&format!("app[{}]: hello from the one-off", run.name)),
        "{text}"
    );
    assert!(
        text.contains("Starting process with command `echo hi` by user admin@localhost"),
        "{text}"
    );
    // An attached one-off waits for its client with an attach URL.
    let attached = one_off::create(
        &api.state,
        &env,
        "admin@localhost",
        one_off::Request {
            command: "bash".into(),
            attach: true,
            tty: true,
            ..Default::default()
        },
    )
    .await?;
    let url = attached.attach_url.unwrap_or_default();
    assert!(url.starts_with("rendezvous://localhost:5000/"), "{url}");
    let secret = url.rsplit('/').next().unwrap_or_default();
    assert!(api.state.attach_sessions().take(secret).is_some());
    assert!(
        api.state.attach_sessions().take(secret).is_none(),
        "one use"
    );
    Ok(())
}

#[tokio::test]
async fn router_lines_reach_the_environments_log_stream() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "routed", &[("web", "serve")]).await?;
    let feed = api.state.router_feed().clone();
    let at_ms = 1_796_000_000_123;
    feed.router_line(RouterLine {
        env: env.name.as_str().into(),
        at_ms,
        line: "at=info method=GET path=\"/\" status=200".into(),
    });
    // Another environment's name, or none known: dropped, not misfiled.
    feed.router_line(RouterLine {
        env: "nobody-here".into(),
        at_ms,
        line: "at=info status=418".into(),
    });
    let lines = api
        .state
        .logs()
        .recent(
            &env.id,
            10,
            &Filter {
                dyno: None,
                source: Some("heroku".into()),
            },
        )
        .await;
    let line = lines
        .iter()
        .find(|l| l.process == "router" && l.text.contains("status=200"))
        .expect("the router line in the log stream");
    // Stamped with the time the request arrived, not the time the line was read.
    assert_eq!(
        line.time.unix_timestamp_nanos(),
        i128::from(at_ms) * 1_000_000
    );
    assert!(!lines.iter().any(|l| l.text.contains("status=418")));
    Ok(())
}

#[tokio::test]
async fn dynos_of_a_destroyed_app_are_removed() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "doomed", &[("web", "serve")]).await?;
    assert_eq!(of(&api, &env, "web.1").len(), 1);
    apps::destroy(&api.state, &api.admin, "doomed").await?;
    assert!(api.fake.state().containers.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynos_that_stopped_unseen_come_back_and_the_log_says_so() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "engine", &[("web", "serve"), ("worker", "work")]).await?;
    api.state
        .store()
        .update_formation(&env.id, "worker", Some(1), None)
        .await?;
    tokio::spawn(supervisor::run_forever(api.state.clone()));
    assert!(eventually(5, || of(&api, &env, "worker.1").len() == 1).await);
    assert!(eventually(5, || ps_state_now(&api, &env, "web.1") == Some("up".into())).await);
    // The engine restarts: every container stops, and no event says so.
    for c in api.fake.state().containers.values_mut() {
        c.running = false;
        c.exit_code = Some(143);
    }
    api.state.supervisor().wake();
    for dyno in ["web.1", "worker.1"] {
        assert!(
            eventually(5, || of(&api, &env, dyno).iter().any(|(_, r)| r == "1")).await,
            "{dyno} did not come back"
        );
    }
    // The stopped containers are removed once read: one container per dyno.
    assert!(eventually(5, || api.fake.state().containers.len() == 2).await);
    let text: Vec<String> = api
        .state
        .logs()
        .recent(&env.id, 200, &Filter::default())
        .await
        .iter()
        .map(|l| l.render())
        .collect();
    let text = text.join("\n");
    for dyno in ["web.1", "worker.1"] {
        for line in [
            "Process exited with status 143",
            "State changed from up to crashed",
            "State changed from crashed to starting",
        ] {
            let line = format!("heroku[{dyno}]: {line}");
            assert_eq!(text.matches(&line).count(), 1, "{line} once in\n{text}");
        }
    }
    Ok(())
}

fn ps_state_now(api: &Api, env: &Environment, name: &str) -> Option<String> {
    let ids: Vec<String> = of(api, env, name).into_iter().map(|(id, _)| id).collect();
    let table = &api.state.supervisor().table;
    ids.iter()
        .find_map(|id| table.get(id).map(|d| d.phase.as_str().to_string()))
}

#[tokio::test]
async fn a_dyno_created_and_not_yet_started_is_starting_not_crashed() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "fresh", &[("web", "serve")]).await?;
    let id = of(&api, &env, "web.1")[0].0.clone();
    let set = |exit_code: Option<i64>| {
        if let Some(c) = api.fake.state().containers.get_mut(&id) {
            c.running = false;
            c.exit_code = exit_code;
        }
    };
    // Between `create` and `start` (a client polling `ps` while dynos start sees this).
    set(None);
    assert_eq!(
        ps_state(&api, &env, "web.1").await.as_deref(),
        Some("starting")
    );
    set(Some(1));
    assert_eq!(
        ps_state(&api, &env, "web.1").await.as_deref(),
        Some("crashed")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_of_a_dyno_seen_before_its_start_is_logged() -> anyhow::Result<()> {
    let api = api().await?;
    let env = released(&api, "early", &[("web", "serve")]).await?;
    let web = of(&api, &env, "web.1")[0].0.clone();
    let mut spec = api
        .fake
        .state()
        .containers
        .get(&web)
        .and_then(|c| c.dyno.clone())
        .ok_or_else(|| anyhow::anyhow!("web.1 has no dyno spec"))?;
    spec.name = "early-run-77".into();
    spec.labels.insert("doppel.role".into(), "run".into());
    spec.labels.insert("doppel.dyno".into(), "run.77".into());
    // A pass between `create` and `start` sees it (the engine ends a log stream of a
    // container that never ran at once, which must not count as its whole output).
    let runtime = api.state.runtime();
    let id = runtime.create_dyno(spec).await?;
    for _ in 0..3 {
        supervisor::run_once(&api.state).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    api.fake.state().script.dyno_output = vec!["printed as it started".into()];
    runtime.start(&id).await?;
    supervisor::run_once(&api.state).await;
    api.fake.crash(&id, 0);
    assert!(
        eventually(10, || {
            let followed = api.state.supervisor().table.is_followed(&id);
            followed || !api.fake.state().containers.contains_key(&id)
        })
        .await
    );
    let log = api
        .state
        .logs()
        .recent(&env.id, 100, &Filter::default())
        .await;
    assert!(
        log.iter()
            .any(|l| l.process == "run.77" && l.text == "printed as it started"),
        "{log:?}"
    );
    Ok(())
}

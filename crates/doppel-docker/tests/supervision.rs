//! Engine tests of what the supervisor relies on: container events (start, die with its exit
//! code), a dyno's timestamped output followed to its end (and from a given time), a stop
//! that reaches the app through the init process, and an attached terminal.

mod common;

use std::time::Duration;

use doppel_docker::{ContainerAction, ContainerRuntime, DynoSpec};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

fn spec(cmd: &str) -> DynoSpec {
    DynoSpec {
        name: format!("doppel-test-sup-{}", common::unique()),
        image: common::MINI.to_string(),
        cmd: Some(vec!["/bin/sh".into(), "-c".into(), cmd.into()]),
        labels: common::labels(),
        ..Default::default()
    }
}

#[tokio::test]
async fn events_and_output_of_a_dyno_that_exits() {
    let rt = common::setup().await;
    let filter = format!("doppel.test-run={}", common::run_id());
    let mut stream = rt.events(&filter).await.expect("events");
    // The engine's stream starts when first read: read it from a task before the dyno runs.
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = stream.next().await {
            if tx.send(event).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = rt
        .run_dyno(spec("echo one; sleep 1; echo two >&2; exit 3"))
        .await
        .expect("run");
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.iter().any(|(a, _)| *a == ContainerAction::Die) {
        let next = tokio::time::timeout_at(deadline, events.recv()).await;
        let Ok(Some(Ok(event))) = next else {
            panic!("no die event; saw {seen:?}");
        };
        if event.id == id {
            assert_eq!(
                event.labels.get("doppel.test-run").map(String::as_str),
                Some(common::run_id())
            );
            seen.push((event.action, event.exit_code));
        }
    }
    assert!(seen.contains(&(ContainerAction::Start, None)), "{seen:?}");
    assert!(seen.contains(&(ContainerAction::Die, Some(3))), "{seen:?}");

    let lines: Vec<_> = rt
        .follow_logs(&id, None)
        .await
        .expect("logs")
        .map(|l| l.expect("line"))
        .collect()
        .await;
    let texts: Vec<(&str, bool)> = lines.iter().map(|l| (l.text.as_str(), l.stderr)).collect();
    assert_eq!(texts, [("one", false), ("two", true)]);
    assert!(lines[0].time < lines[1].time);
    // From the first line's time on, only what came after it.
    let later: Vec<String> = rt
        .follow_logs(&id, Some(lines[0].time))
        .await
        .expect("logs")
        .map(|l| l.map(|l| l.text).unwrap_or_default())
        .collect()
        .await;
    assert_eq!(later, ["two"]);
    rt.remove(&id, true).await.expect("remove");
}

#[tokio::test]
async fn stop_reaches_the_app_through_init() {
    let rt = common::setup().await;
    let id = rt.run_dyno(spec("exec sleep 60")).await.expect("run");
    let started = std::time::Instant::now();
    rt.stop(&id, Duration::from_secs(20)).await.expect("stop");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "SIGTERM did not reach the app: the stop waited for SIGKILL"
    );
    let state = rt
        .inspect_container(&id, None)
        .await
        .expect("inspect")
        .expect("exists");
    assert_eq!(state.exit_code, Some(143));
    rt.stop(&id, Duration::from_secs(1))
        .await
        .expect("stopping a stopped dyno is fine");
    rt.remove(&id, true).await.expect("remove");
}

#[tokio::test]
async fn an_attached_terminal() {
    let rt = common::setup().await;
    let mut s = spec("exec /bin/sh");
    s.tty = true;
    s.stdin = true;
    let id = rt.create_dyno(s).await.expect("create");
    let mut io = rt.attach(&id).await.expect("attach");
    rt.start(&id).await.expect("start");
    rt.resize_tty(&id, 40, 100).await.expect("resize");
    io.input
        .write_all(b"echo hel''lo; exit 7\n")
        .await
        .expect("write");
    let mut output = Vec::new();
    let read = async {
        while let Some(chunk) = io.output.next().await {
            output.extend_from_slice(&chunk.expect("chunk"));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the session ends");
    let text = String::from_utf8_lossy(&output);
    assert!(text.contains("hello"), "{text}");
    assert_eq!(rt.wait(&id).await.expect("wait"), 7);
    rt.remove(&id, true).await.expect("remove");
}

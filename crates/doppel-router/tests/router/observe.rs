//! The observer: each request to a dyno is in flight from before it is sent until its response
//! body is done (also when the dyno cannot be reached), and each router log line reaches it
//! with the environment's name.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use doppel_router::{Observer, RouterOptions};
use doppel_types::RouterObserver;

use crate::harness::{dead_backend, echo_upstream, public, Router};

#[derive(Default)]
struct Seen {
    in_flight: Mutex<HashMap<SocketAddr, i64>>,
    most: Mutex<i64>,
    lines: Mutex<Vec<(String, String)>>,
}

impl RouterObserver for Seen {
    fn backend_acquired(&self, backend: SocketAddr) {
        let mut map = self.in_flight.lock().unwrap();
        let n = map.entry(backend).or_default();
        *n += 1;
        let mut most = self.most.lock().unwrap();
        *most = (*most).max(*n);
    }

    fn backend_released(&self, backend: SocketAddr) {
        *self.in_flight.lock().unwrap().entry(backend).or_default() -= 1;
    }

    fn router_line(&self, env: &str, line: &str) {
        self.lines
            .lock()
            .unwrap()
            .push((env.to_string(), line.to_string()));
    }
}

#[tokio::test]
async fn requests_are_in_flight_until_their_body_ends_and_lines_reach_the_observer(
) -> anyhow::Result<()> {
    let seen = Arc::new(Seen::default());
    let router = Router::start_with(RouterOptions {
        observer: Observer::new(seen.clone()),
        ..RouterOptions::default()
    })
    .await?;
    let up = echo_upstream("web").await?;
    let dead = dead_backend().await?;
    router.publish(vec![
        ("obs.localhost", public("obs", vec![up])),
        ("gone.localhost", public("gone", vec![dead])),
    ]);
    let client = router.client(&["obs.localhost", "gone.localhost"])?;
    for _ in 0..3 {
        let resp = client.get(router.url("obs.localhost", "/a")).send().await?;
        assert_eq!(resp.status(), 200);
        resp.text().await?;
    }
    let resp = client.get(router.url("gone.localhost", "/")).send().await?;
    assert_eq!(resp.status(), 503);
    // The last line is emitted when the body is dropped, just after the client read it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let in_flight = seen.in_flight.lock().unwrap().clone();
    assert_eq!(in_flight.get(&up), Some(&0), "{in_flight:?}");
    assert_eq!(in_flight.get(&dead), Some(&0), "{in_flight:?}");
    assert_eq!(*seen.most.lock().unwrap(), 1);
    let lines = seen.lines.lock().unwrap().clone();
    let obs: Vec<_> = lines.iter().filter(|(env, _)| env == "obs").collect();
    assert_eq!(obs.len(), 3, "{lines:?}");
    assert!(
        obs[0].1.starts_with("at=info method=GET path=\"/a\""),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(env, l)| env == "gone" && l.contains("code=H21")),
        "{lines:?}"
    );
    router.stop().await
}

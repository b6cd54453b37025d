//! Choosing a dyno: power of two random choices on in-flight requests, skipping dynos that
//! refused a connection in the last few seconds.
//!
//! Why not Heroku's plain random choice: a dyno that is slow (a long request, a GC pause)
//! keeps getting its full share under random choice and queues requests behind it. Least
//! in-flight over all dynos fixes that but sends every new request to the same dyno until its
//! count moves, and costs a scan per request. Two random candidates, the less busy one wins,
//! is O(1), keeps the spread of random choice and still steers away from a busy dyno (Flynn's
//! router and most service-mesh balancers settled on it for the same reasons).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rand::Rng;

use crate::clock::now_ms;
use crate::compiled::BackendState;

/// The backend a session affinity cookie names (`affinity.rs`), if it is in the route and
/// not being skipped after a refused connection.
pub(crate) fn sticky(backends: &[Arc<BackendState>], token: &str) -> Option<usize> {
    let now = now_ms();
    backends
        .iter()
        .position(|b| &*b.affinity == token && !b.is_down(now))
}

/// Picks a backend not in `tried` (indexes into `backends`); dynos in quarantine are chosen
/// only when no other is left.
pub(crate) fn pick(backends: &[Arc<BackendState>], tried: &[usize]) -> Option<usize> {
    let now = now_ms();
    let eligible = |i: &usize, skip_down: bool| {
        !tried.contains(i) && (!skip_down || !backends[*i].is_down(now))
    };
    let mut skip_down = true;
    let mut n = (0..backends.len()).filter(|i| eligible(i, true)).count();
    if n == 0 {
        skip_down = false;
        n = (0..backends.len()).filter(|i| eligible(i, false)).count();
    }
    let nth = |k: usize| {
        (0..backends.len())
            .filter(|i| eligible(i, skip_down))
            .nth(k)
    };
    match n {
        0 => None,
        1 => nth(0),
        n => {
            let mut rng = rand::rng();
            let a = rng.random_range(0..n);
            let mut b = rng.random_range(0..n - 1);
            if b >= a {
                b += 1;
            }
            let (ia, ib) = (nth(a)?, nth(b)?);
            let load = |i: usize| backends[i].inflight.load(Ordering::Relaxed);
            Some(if load(ib) < load(ia) { ib } else { ia })
        }
    }
}

/// How long a dyno that refused a connection is skipped (Heroku: 5 s).
pub(crate) const QUARANTINE_MS: u64 = 5_000;

pub(crate) fn quarantine(backend: &BackendState) {
    backend
        .down_until_ms
        .store(now_ms() + QUARANTINE_MS, Ordering::Relaxed);
}

/// Counts a request against a backend until dropped.
pub(crate) struct InflightGuard(Arc<BackendState>);

impl InflightGuard {
    pub(crate) fn new(backend: Arc<BackendState>) -> InflightGuard {
        backend.inflight.fetch_add(1, Ordering::Relaxed);
        InflightGuard(backend)
    }
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        self.0.inflight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::compiled::Compiled;
    use crate::table::{Backend, Route, RouteTable};

    fn backends(n: u16) -> Vec<Arc<BackendState>> {
        let mut t = RouteTable::new();
        let bs = (0..n)
            .map(|i| Backend::new(([127, 0, 0, 1], 5000 + i).into(), &format!("web.{i}")))
            .collect();
        t.routes.insert("a".into(), Route::public("a", bs));
        let c = Compiled::build(Arc::new(t), String::new(), &Compiled::empty());
        c.routes["a"].backends.clone()
    }

    #[test]
    fn prefers_the_less_busy_of_two() {
        let bs = backends(2);
        bs[0].inflight.store(10, Ordering::Relaxed);
        for _ in 0..50 {
            assert_eq!(pick(&bs, &[]), Some(1));
        }
    }

    #[test]
    fn skips_tried_and_quarantined() {
        let bs = backends(3);
        quarantine(&bs[0]);
        for _ in 0..50 {
            assert_ne!(pick(&bs, &[]), Some(0));
            assert_eq!(pick(&bs, &[1]), Some(2));
        }
        assert_eq!(pick(&bs, &[1, 2]), Some(0), "a quarantined dyno beats none");
        assert_eq!(pick(&bs, &[0, 1, 2]), None);
    }

    #[test]
    fn spreads_over_idle_dynos() {
        let bs = backends(4);
        let mut seen = [0u32; 4];
        for _ in 0..400 {
            seen[pick(&bs, &[]).unwrap()] += 1;
        }
        assert!(seen.iter().all(|&n| n > 40), "{seen:?}");
    }
}

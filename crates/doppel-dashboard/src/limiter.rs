//! The wrong-password limit: after [`PER_EMAIL`] wrong passwords for one email, or
//! [`PER_ADDRESS`] from one address, within [`WINDOW`], sign-in for it is refused until the
//! oldest of those failures leaves the window, without the password being checked at all.
//! A successful sign-in clears its email's count. Kept in memory (a restart forgets it) and
//! bounded: at most [`MAX_KEYS`] emails and addresses are remembered.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures per email within the window.
pub const PER_EMAIL: usize = 5;
/// Failures per client address within the window (several people may share one).
pub const PER_ADDRESS: usize = 20;
/// Emails and addresses remembered at once.
pub const MAX_KEYS: usize = 10_000;

/// Failure times per key (`email:…`, `addr:…`).
#[derive(Debug, Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

fn keys(email: &str, address: Option<IpAddr>) -> Vec<(String, usize)> {
    let mut keys = vec![(format!("email:{}", email.trim().to_lowercase()), PER_EMAIL)];
    if let Some(a) = address {
        keys.push((format!("addr:{a}"), PER_ADDRESS));
    }
    keys
}

impl Limiter {
    fn locked(&self) -> MutexGuard<'_, HashMap<String, Vec<Instant>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long sign-in for `email` from `address` must wait, if it is blocked now.
    pub fn blocked(&self, email: &str, address: Option<IpAddr>) -> Option<Duration> {
        self.blocked_at(email, address, Instant::now())
    }

    fn blocked_at(&self, email: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let mut map = self.locked();
        let mut wait: Option<Duration> = None;
        for (key, limit) in keys(email, address) {
            let Some(times) = map.get_mut(&key) else {
                continue;
            };
            times.retain(|t| now.duration_since(*t) < WINDOW);
            if times.len() >= limit {
                let oldest = times.iter().min().copied().unwrap_or(now);
                let left = WINDOW.saturating_sub(now.duration_since(oldest));
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        wait
    }

    /// Counts a wrong password for `email` from `address`.
    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        self.failed_at(email, address, Instant::now());
    }

    fn failed_at(&self, email: &str, address: Option<IpAddr>, now: Instant) {
        let mut map = self.locked();
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
            if map.len() >= MAX_KEYS {
                // Still full of live entries: forget the quietest half rather than grow.
                let mut by_last: Vec<(String, Instant)> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), v.iter().max().copied().unwrap_or(now)))
                    .collect();
                by_last.sort_by_key(|(_, last)| *last);
                for (key, _) in by_last.into_iter().take(MAX_KEYS / 2) {
                    map.remove(&key);
                }
            }
        }
        for (key, limit) in keys(email, address) {
            let times = map.entry(key).or_default();
            times.push(now);
            // Only the newest `limit` matter.
            if times.len() > limit {
                let drop = times.len() - limit;
                times.drain(..drop);
            }
        }
    }

    /// Clears `email`'s count after a successful sign-in (its address keeps its own).
    pub fn succeeded(&self, email: &str) {
        let key = format!("email:{}", email.trim().to_lowercase());
        self.locked().remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn five_wrong_passwords_block_the_email_for_the_window() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..PER_EMAIL {
            assert_eq!(l.blocked_at("a@b", ADDR, t0), None, "attempt {i}");
            l.failed_at("a@b", ADDR, t0);
        }
        let wait = l.blocked_at("A@B ", ADDR, t0 + Duration::from_secs(60));
        assert_eq!(wait, Some(WINDOW - Duration::from_secs(60)));
        // Another email from the same address is not blocked yet.
        assert_eq!(l.blocked_at("c@d", ADDR, t0), None);
        // The window passes.
        assert_eq!(l.blocked_at("a@b", ADDR, t0 + WINDOW), None);
    }

    #[test]
    fn an_address_trying_many_emails_is_blocked() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..PER_ADDRESS {
            l.failed_at(&format!("user{i}@x"), ADDR, t0);
        }
        assert!(l.blocked_at("new@x", ADDR, t0).is_some());
        assert_eq!(l.blocked_at("new@x", None, t0), None);
    }

    #[test]
    fn success_clears_the_email() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..PER_EMAIL {
            l.failed_at("a@b", None, t0);
        }
        assert!(l.blocked_at("a@b", None, t0).is_some());
        l.succeeded("a@b");
        assert_eq!(l.blocked_at("a@b", None, t0), None);
    }

    #[test]
    fn memory_stays_bounded() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            l.failed_at(&format!("u{i}@x"), None, t0);
        }
        assert!(l.locked().len() <= MAX_KEYS);
    }
}

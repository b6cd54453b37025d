//! Connection caps: per client address and in all. A connection over a cap is closed at once,
//! before its TLS handshake costs anything.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Counts open client connections.
#[derive(Debug)]
pub(crate) struct ConnLimits {
    per_client: usize,
    total: usize,
    open: AtomicUsize,
    by_client: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnLimits {
    pub(crate) fn new(per_client: usize, total: usize) -> ConnLimits {
        ConnLimits {
            per_client,
            total,
            open: AtomicUsize::new(0),
            by_client: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for a new connection from `ip`, or `None` when a cap is reached.
    pub(crate) fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<ConnSlot> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.total {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let mut by_client = self.by_client.lock().unwrap_or_else(|e| e.into_inner());
        let n = by_client.entry(ip).or_insert(0);
        if *n >= self.per_client {
            drop(by_client);
            self.open.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        *n += 1;
        Some(ConnSlot {
            limits: self.clone(),
            ip,
        })
    }

    fn release(&self, ip: IpAddr) {
        let mut by_client = self.by_client.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = by_client.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                by_client.remove(&ip);
            }
        }
        drop(by_client);
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One open connection; released when dropped.
#[derive(Debug)]
pub(crate) struct ConnSlot {
    limits: Arc<ConnLimits>,
    ip: IpAddr,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_client_and_in_all() {
        let limits = Arc::new(ConnLimits::new(2, 3));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = limits.acquire(a);
        let a2 = limits.acquire(a);
        assert!(a1.is_some() && a2.is_some());
        assert!(limits.acquire(a).is_none(), "per-client cap");
        let b1 = limits.acquire(b);
        assert!(b1.is_some());
        assert!(limits.acquire(b).is_none(), "total cap");
        drop(a1);
        assert!(limits.acquire(b).is_some(), "a slot was freed");
    }
}

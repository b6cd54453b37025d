//! Networks in doppel's words: what a network should be ([`NetworkSpec`]), the address pool
//! its subnet is carved from ([`SubnetPool`]), and what exists ([`NetworkInfo`]).
//!
//! Docker 20.10 lets two networks share a name, so doppel never looks a network up by a name
//! alone: [`crate::ContainerRuntime::ensure_network`] creates under a machine-wide lock,
//! removes duplicates it finds (keeping the oldest), and returns the id containers attach by.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// A user-defined bridge network doppel wants to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Exact name; unique among the networks doppel makes.
    pub name: String,
    /// Labels (the runtime adds `doppel.managed=true`).
    pub labels: BTreeMap<String, String>,
    /// Where the network's subnet comes from.
    pub pool: SubnetPool,
    /// Whether containers on the network may reach each other (false for build networks,
    /// where concurrent builds of different apps must not).
    pub inter_container: bool,
}

/// An IPv4 range carved into equal subnets, one per network. Explicit subnets keep doppel off
/// Docker's small default pools (about thirty networks) and make allocation race-free: the
/// engine refuses a second network on a subnet already in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubnetPool {
    pub range: Ipv4Net,
    /// Prefix length of each network's subnet (e.g. 25: 123 containers per network).
    pub prefix_len: u8,
}

impl SubnetPool {
    /// doppel's default: `10.213.0.0/16` in /25 blocks (512 networks of 123 containers).
    pub fn default_pool() -> SubnetPool {
        SubnetPool {
            range: Ipv4Net::new(Ipv4Addr::new(10, 213, 0, 0), 16).unwrap_or_default(),
            prefix_len: 25,
        }
    }

    /// Parses `10.213.0.0/16` (blocks of /25) or `10.213.0.0/16:24` (blocks of /24).
    pub fn parse(text: &str) -> Result<SubnetPool, String> {
        let (range, prefix) = match text.split_once(':') {
            Some((range, prefix)) => (range, Some(prefix)),
            None => (text, None),
        };
        let range: Ipv4Net = range
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IPv4 range such as 10.213.0.0/16"))?;
        let prefix_len = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| {
                format!("{text:?}: the block size after ':' must be a prefix length such as 25")
            })?,
            None => 25.max(range.prefix_len()),
        };
        if prefix_len < range.prefix_len() || prefix_len > 29 {
            return Err(format!(
                "{text:?}: blocks of /{prefix_len} do not fit; use a prefix between /{} and /29",
                range.prefix_len()
            ));
        }
        Ok(SubnetPool {
            range: range.trunc(),
            prefix_len,
        })
    }

    /// Every candidate subnet, in order.
    pub fn subnets(&self) -> impl Iterator<Item = Ipv4Net> + '_ {
        self.range.subnets(self.prefix_len).into_iter().flatten()
    }

    /// The first candidate that overlaps none of `used`.
    pub fn first_free(&self, used: &[Ipv4Net]) -> Option<Ipv4Net> {
        self.subnets()
            .find(|candidate| !used.iter().any(|u| overlaps(candidate, u)))
    }
}

impl std::fmt::Display for SubnetPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.range, self.prefix_len)
    }
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A network that exists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkInfo {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Ids of the containers attached to it.
    pub containers: Vec<String>,
    /// Its IPv4 subnets.
    pub subnets: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pools() {
        let p = SubnetPool::parse("10.213.0.0/16").expect("pool");
        assert_eq!(p, SubnetPool::default_pool());
        assert_eq!(p.subnets().count(), 512);
        let p = SubnetPool::parse("172.30.0.0/16:24").expect("pool");
        assert_eq!(p.prefix_len, 24);
        assert!(SubnetPool::parse("10.0.0.0/16:8").is_err());
        assert!(SubnetPool::parse("nonsense").is_err());
        assert!(SubnetPool::parse("10.0.0.0/16:x").is_err());
    }

    #[test]
    fn picks_the_first_subnet_no_network_uses() {
        let p = SubnetPool::parse("10.9.0.0/24:26").expect("pool");
        let used: Vec<Ipv4Net> = ["10.9.0.0/26", "10.9.0.128/25"]
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        assert_eq!(
            p.first_free(&used).map(|n| n.to_string()),
            Some("10.9.0.64/26".to_string())
        );
        let all: Vec<Ipv4Net> = ["10.0.0.0/8"]
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        assert_eq!(p.first_free(&all), None);
    }
}

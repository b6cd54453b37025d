//! An environment's IP allow-list: when set, the router answers 403 to every client outside
//! the listed networks, before credentials are asked and before any dyno is contacted. Either
//! environment may have one (an office network for staging, a CDN's ranges for production);
//! parity shows both sides and marks a difference as expected. Anyone with access to the
//! environment may set or clear it; every change is audited with the networks.

use super::access::{self, EnvAccess};
use super::{Actor, LogicError};
use crate::state::AppState;
use ipnet::IpNet;
use std::net::IpAddr;

/// Most networks one environment's list may hold.
pub const MAX_NETWORKS: usize = 100;

/// An environment and its allow-list (empty: everyone is admitted).
#[derive(Debug, Clone)]
pub struct AllowedIps {
    pub target: EnvAccess,
    pub networks: Vec<String>,
}

/// `env_name`'s allow-list.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    env_name: &str,
) -> Result<AllowedIps, LogicError> {
    let target = access::environment(state, actor, env_name).await?;
    let networks = state.store().allowed_ips(&target.env.id).await?;
    Ok(AllowedIps { target, networks })
}

/// Replaces `env_name`'s allow-list with `networks` (CIDR or single addresses); an empty list
/// admits everyone again. Bad input is refused whole and changes nothing. The route table is
/// published, so the router applies it within a second.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    env_name: &str,
    networks: &[String],
) -> Result<AllowedIps, LogicError> {
    let target = access::environment(state, actor, env_name).await?;
    let parsed = parse(networks)?;
    let before = state.store().allowed_ips(&target.env.id).await?;
    if before == parsed {
        return Ok(AllowedIps {
            target,
            networks: parsed,
        });
    }
    state
        .store()
        .set_allowed_ips(&target.env.id, &parsed)
        .await?;
    crate::routes::publish(state).await;
    let action = if parsed.is_empty() {
        "allowed_ips.clear"
    } else {
        "allowed_ips.set"
    };
    tracing::info!(env = %target.env.name, user = %actor.user.email, networks = parsed.len(), "{action}");
    let details = serde_json::json!({ "networks": parsed });
    super::audit::record(
        state,
        actor,
        &target.app,
        Some(&target.env),
        action,
        details,
    )
    .await;
    Ok(AllowedIps {
        target,
        networks: parsed,
    })
}

/// The networks in their canonical text (`10.0.0.0/8`; a single address becomes `/32` or
/// `/128`), without repeats, in the order given.
pub fn parse(networks: &[String]) -> Result<Vec<String>, LogicError> {
    if networks.len() > MAX_NETWORKS {
        return Err(LogicError::Invalid(format!(
            "An allow-list holds at most {MAX_NETWORKS} networks; {} given.",
            networks.len()
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for raw in networks {
        let text = raw.trim();
        let net = match (text.parse::<IpNet>(), text.parse::<IpAddr>()) {
            (Ok(net), _) => net.trunc(),
            (_, Ok(addr)) => IpNet::from(addr),
            _ => {
                return Err(LogicError::Invalid(format!(
                    "{text:?} is not a network: give CIDR blocks such as 203.0.113.0/24 or 2001:db8::/32, or single addresses."
                )))
            }
        };
        let canonical = net.to_string();
        if !out.contains(&canonical) {
            out.push(canonical);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn networks_are_canonical_and_bad_ones_refused() {
        let got = parse(&strings(&[
            "10.1.2.3/16",
            " 192.0.2.7 ",
            "2001:db8::1",
            "10.1.0.0/16",
        ]));
        assert_eq!(
            got.ok(),
            Some(strings(&["10.1.0.0/16", "192.0.2.7/32", "2001:db8::1/128"]))
        );
        assert!(parse(&strings(&["10.0.0.0/33"])).is_err());
        assert!(parse(&strings(&["office"])).is_err());
        assert!(parse(&strings(&[""])).is_err());
        let many: Vec<String> = (0..=MAX_NETWORKS)
            .map(|i| format!("10.0.{i}.0/24"))
            .collect();
        assert!(parse(&many).is_err());
        assert_eq!(parse(&[]).ok(), Some(Vec::new()));
    }
}

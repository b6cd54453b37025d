//! Environments' IP allow-lists (a doppel extension): `GET`, `PUT` and `DELETE`
//! `/apps/{env}/allowed-ips`. When an environment has one, the router answers 403 to clients
//! outside its networks.

use serde::{Deserialize, Serialize};

use crate::common::NamedRef;

/// `PUT /apps/{env}/allowed-ips {"networks": [...]}`: replaces the list (CIDR blocks or single
/// addresses); an empty list admits everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AllowedIpsSet {
    pub networks: Vec<String>,
}

/// An environment's allow-list, canonical (`192.0.2.7` is shown as `192.0.2.7/32`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedIpsInfo {
    pub app: NamedRef,
    /// Empty: everyone is admitted.
    pub networks: Vec<String>,
}

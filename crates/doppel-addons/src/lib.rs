//! doppel-addons: add-on providers from declarative manifests. A manifest (`addons/*.toml`,
//! embedded, plus an admin's directory) says how to make a service's image, run its server,
//! check it is ready, build the URL an app gets, and back it up, verify a backup by restoring
//! it into a scratch database, restore it, rotate its password and describe it. This crate
//! turns that into container specs and commands over `doppel_docker::ContainerRuntime`; the
//! control plane decides when (provisioning, supervision, backups, rotation).
//!
//! # Layout
//! - [`manifest`]: the manifest format and its checks; [`catalog`]: every known provider.
//! - [`image`]: the service's image (the admin's, or made from Debian's archive on a stack).
//! - [`provider`]: the server container and the commands run in it.
//! - [`counts`]: what a backup holds, and the comparison that verifies it.
//! - [`names`]: add-on names, attachment colours and fresh credentials.

pub mod catalog;
pub mod counts;
mod error;
pub mod image;
pub mod manifest;
pub mod names;
pub mod provider;
#[cfg(feature = "test-util")]
pub mod testing;

pub use catalog::Catalog;
pub use counts::Counts;
pub use error::AddonError;
pub use manifest::{Manifest, Plan};
pub use provider::{Capture, Instance, Provider, Verification};
